import json
import shutil
import time

import numpy as np
import pytest

import emotion.model.checkpoint as model_mod
import emotion.model.emotion_model as emotion_model_mod
from emotion.errors import ModelLoadError
from emotion.labels import CANONICAL
from emotion.model import HUB_UNREACHABLE, Preprocessing, checkpoint_hash, load_model


def crops(rng, sizes=((37, 53), (120, 90), (80, 80), (300, 200), (12, 7), (81, 79))):
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]


# ---------------------------------------------------------------- labels


def test_ferplus_names_are_mapped_and_put_in_canonical_order(tiny_model):
    assert tiny_model.labels == CANONICAL  # the checkpoint says neutral, happiness, ..., contempt


@pytest.mark.parametrize("names, expected", [
    (("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"), CANONICAL[:7]),
    (("sadness", "anger", "happiness"), ("angry", "happy", "sad")),
])
def test_label_mapping(make_checkpoint, names, expected):
    assert load_model(str(make_checkpoint(names=names)), backend="eager").labels == expected


def test_probabilities_follow_the_label_permutation(make_checkpoint, rng):
    """Reordering columns to canonical order must move each class's probability with its name."""
    path = make_checkpoint(names=("sadness", "anger", "happiness"), seed=5)
    m = load_model(str(path), backend="eager")
    batch = crops(rng)
    import torch
    from transformers import AutoModelForImageClassification

    raw = AutoModelForImageClassification.from_pretrained(str(path)).eval()
    with torch.inference_mode():
        logits = raw(pixel_values=torch.from_numpy(m.preprocess(batch))).logits.numpy()
    direct = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)  # columns: sad, angry, happy
    got = m.predict(batch)
    np.testing.assert_allclose(got.probs[:, got.labels.index("sad")], direct[:, 0], atol=1e-5)
    np.testing.assert_allclose(got.probs[:, got.labels.index("angry")], direct[:, 1], atol=1e-5)
    np.testing.assert_allclose(got.probs[:, got.labels.index("happy")], direct[:, 2], atol=1e-5)


@pytest.mark.parametrize("names, message", [
    (("cat", "dog"), "not emotions this tool knows"),
    (("happy", "joy"), "same emotion"),
])
def test_non_emotion_classes_are_refused(make_checkpoint, names, message):
    with pytest.raises(ModelLoadError, match=message):
        load_model(str(make_checkpoint(names=names)), backend="eager")


# ---------------------------------------------------------------- preprocessing vs transformers


def _vit(**kw):
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil
    return ViTImageProcessorPil(**kw)


def _deit(**kw):
    from transformers.models.deit.image_processing_pil_deit import DeiTImageProcessorPil
    return DeiTImageProcessorPil(**kw)


def _bit(**kw):
    from transformers.models.bit.image_processing_pil_bit import BitImageProcessorPil
    return BitImageProcessorPil(**kw)


@pytest.mark.parametrize("processor", [
    lambda: _vit(size={"height": 80, "width": 80}, image_mean=[0.5] * 3, image_std=[0.5] * 3),  # the bundled one
    lambda: _vit(),                                                        # dima806-style ViT, 224, ImageNet mean
    lambda: _vit(size={"height": 48, "width": 64}, resample=3, do_normalize=False),   # bicubic, not square
    lambda: _deit(size={"height": 96, "width": 96}, crop_size={"height": 80, "width": 80}),   # resize + crop
    lambda: _bit(size={"shortest_edge": 72}, crop_size={"height": 64, "width": 64}),  # shortest edge + crop
])
def test_preprocessing_matches_transformers(processor, tmp_path, rng):
    from transformers import AutoImageProcessor

    processor().save_pretrained(tmp_path)
    ref_proc = AutoImageProcessor.from_pretrained(tmp_path)  # the class transformers itself picks
    cfg = json.loads((tmp_path / "preprocessor_config.json").read_text())
    batch = crops(rng)
    ours = Preprocessing.from_config(cfg)(batch)
    ref = ref_proc(images=batch, return_tensors="np")["pixel_values"]
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_grey_model_gets_one_luma_channel(rng):
    import cv2

    cfg = {"size": {"height": 40, "width": 40}, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25],
           "resample": 2}
    batch = crops(rng)
    grey = Preprocessing.from_config(cfg, num_channels=1)(batch)
    colour_of_grey = Preprocessing.from_config(cfg, num_channels=3)(
        [cv2.cvtColor(cv2.cvtColor(c, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB) for c in batch])
    assert grey.shape == (len(batch), 1, 40, 40)
    np.testing.assert_allclose(grey[:, 0], colour_of_grey[:, 0], atol=1e-6)


def test_grey_checkpoint_runs(make_checkpoint, rng):
    m = load_model(str(make_checkpoint(num_channels=1)), backend="eager")
    assert m.preprocess(crops(rng)).shape[1] == 1
    assert len(m.predict(crops(rng))) == 6


@pytest.mark.parametrize("cfg, message", [
    ({"size": {"shortest_edge": 224}, "crop_pct": 0.875}, "crop_pct"),
    ({"size": {"longest_edge": 224}}, "unsupported size"),
    ({"do_resize": False, "do_center_crop": False}, "fixed size"),
    ({"size": {"shortest_edge": 50}, "do_center_crop": True, "crop_size": {"height": 64, "width": 64}}, "smaller"),
])
def test_unsupported_preprocessing_is_refused(cfg, message):
    with pytest.raises(ModelLoadError, match=message):
        Preprocessing.from_config(cfg)


def test_preprocess_rejects_non_rgb_crops(tiny_model):
    with pytest.raises(ValueError, match=r"crop 1: expected an RGB uint8 array"):
        tiny_model.preprocess([np.zeros((9, 9, 3), np.uint8), np.zeros((9, 9), np.uint8)])


# ---------------------------------------------------------------- predict


def test_predict_shapes_and_probabilities(tiny_model, rng):
    e = tiny_model.predict(crops(rng))
    assert e.probs.shape == (6, 8) and e.probs.dtype == np.float32
    np.testing.assert_allclose(e.probs.sum(1), 1.0, atol=1e-5)
    assert tiny_model.predict([]).probs.shape == (0, 8)


def test_predict_batches_give_the_same_answer(tiny_model, rng, monkeypatch):
    batch = crops(rng)
    whole = tiny_model.predict(batch).probs
    monkeypatch.setattr(emotion_model_mod, "BATCH", 4)
    np.testing.assert_allclose(tiny_model.predict(batch).probs, whole, atol=1e-6)


def test_mirror_averages_each_face_with_its_mirror_image(tiny_checkpoint, tiny_model, rng, monkeypatch):
    batch = crops(rng)
    mirrored = load_model(str(tiny_checkpoint), backend="eager", mirror=True)
    assert mirrored.mirror and not tiny_model.mirror and "mirror=True" in repr(mirrored)
    plain = tiny_model.predict(batch).probs
    flipped = tiny_model.predict([np.ascontiguousarray(c[:, ::-1]) for c in batch]).probs
    got = mirrored.predict(batch).probs
    np.testing.assert_allclose(got, (plain + flipped) / 2, atol=1e-5)
    assert np.abs(got - plain).max() > 1e-3  # random crops are not symmetric: the mirror changed something
    monkeypatch.setattr(emotion_model_mod, "BATCH", 4)  # two faces (four images) a pass give the same answer
    np.testing.assert_allclose(mirrored.predict(batch).probs, got, atol=1e-6)


def test_with_mirror_is_a_twin_sharing_the_loaded_network(tiny_model, rng):
    batch = crops(rng)
    twin = tiny_model.with_mirror(True)
    assert twin.mirror and not tiny_model.mirror and twin._runner is tiny_model._runner
    assert tiny_model.with_mirror(False) is tiny_model and twin.with_mirror(True) is twin
    flipped = tiny_model.predict([np.ascontiguousarray(c[:, ::-1]) for c in batch]).probs
    np.testing.assert_allclose(twin.predict(batch).probs, (tiny_model.predict(batch).probs + flipped) / 2,
                               atol=1e-5)


@pytest.mark.parametrize("recipe, expected", [({"mirror": True}, True), ({"mirror": False}, False), ({}, False)])
def test_checkpoint_asks_for_mirror_averaging(recipe, expected, tiny_checkpoint, tmp_path):
    target = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, target)
    (target / "inference.json").write_text(json.dumps(recipe))
    assert load_model(str(target), backend="eager").mirror is expected
    assert load_model(str(target), backend="eager", mirror=not expected).mirror is (not expected)  # caller wins


def test_bad_inference_json_is_refused(tiny_checkpoint, tmp_path):
    target = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, target)
    (target / "inference.json").write_text(json.dumps({"mirror": "yes"}))
    with pytest.raises(ModelLoadError, match='inference.json must be an object like {"mirror": true}'):
        load_model(str(target), backend="eager")


def test_runner_gets_the_checkpoint_hash_and_a_real_batch(tiny_checkpoint, monkeypatch):
    import emotion.runtime as runtime

    seen = {}
    real = runtime.build_runner

    def spy(model, example, backend="auto", cache_key=None, validated=None, calibration=None, expected_faces=None):
        seen.update(example=example, backend=backend, cache_key=cache_key, validated=validated,
                    calibration=calibration, expected_faces=expected_faces)
        return real(model, example, backend, cache_key, validated=validated, calibration=calibration,
                    expected_faces=expected_faces)

    monkeypatch.setattr(runtime, "build_runner", spy)
    m = load_model(str(tiny_checkpoint), backend="eager")
    assert seen["cache_key"] == checkpoint_hash(tiny_checkpoint) == m.checkpoint
    assert seen["backend"] == "eager" and seen["example"].shape[1:] == (3, 80, 80)
    assert m.backend == "eager" and m.backend_reason
    assert seen["validated"] is None  # no backend_agreement.json in the tiny checkpoint
    assert seen["calibration"] is None  # nor int8_calibration.json


def test_checkpoint_hash_follows_the_weights(make_checkpoint, tmp_path):
    a = make_checkpoint(seed=1)
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    assert checkpoint_hash(copy) == checkpoint_hash(a)
    b = make_checkpoint(seed=2)
    assert checkpoint_hash(b) != checkpoint_hash(a)


# ---------------------------------------------------------------- where models come from, and errors


def test_bundled_missing_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(model_mod, "BUNDLED_DIR", tmp_path / "ferplus-resnet")
    with pytest.raises(ModelLoadError, match="bundled emotion model is not installed") as info:
        load_model("bundled")
    assert "checkpoint directory" in str(info.value)


def test_bundled_loads_from_its_directory(tiny_checkpoint, monkeypatch):
    monkeypatch.setattr(model_mod, "BUNDLED_DIR", tiny_checkpoint)
    m = load_model("bundled", backend="eager")
    assert m.name == "bundled" and m.path == tiny_checkpoint


def test_unreachable_hub_fails_fast_with_the_documented_message():
    start = time.monotonic()
    with pytest.raises(ModelLoadError, match=HUB_UNREACHABLE):
        load_model("dima806/facial_emotions_image_detection")
    assert time.monotonic() - start < 10


def test_hub_probe_failure_without_offline_flag(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(model_mod, "_hub_probe", lambda timeout=3.0: False)
    with pytest.raises(ModelLoadError, match=HUB_UNREACHABLE):
        load_model("someone/some-model")


def test_hub_model_already_in_the_cache_loads_offline(tiny_checkpoint, tmp_path, monkeypatch):
    """A hub id resolves through the HF cache first, so a downloaded model works offline."""
    calls = []

    def cached_snapshot(repo_id, allow_patterns=None, local_files_only=False):
        calls.append(local_files_only)
        return str(tiny_checkpoint)

    import huggingface_hub
    monkeypatch.setattr(huggingface_hub, "snapshot_download", cached_snapshot)
    m = load_model("someone/cached-model", backend="eager")
    assert m.name == "someone/cached-model" and calls == [True]


@pytest.mark.parametrize("case, message", [
    ("file", "is a file"),
    ("empty dir", "no config.json"),
    ("no preprocessor", "preprocessor_config.json is missing"),
    ("no weights", "no model.safetensors"),
    ("bad json", "not valid JSON"),
    ("not a classifier", "cannot load it as an image-classification model"),
    ("nonsense name", "not a Hugging Face hub id"),
])
def test_bad_local_checkpoints(case, message, tiny_checkpoint, tmp_path):
    target = tmp_path / "ckpt"
    if case == "file":
        target.write_text("x")
    elif case == "empty dir":
        target.mkdir()
    elif case == "nonsense name":
        target = "not a model ::"
    else:
        shutil.copytree(tiny_checkpoint, target)
        if case == "no preprocessor":
            (target / "preprocessor_config.json").unlink()
        elif case == "no weights":
            (target / "model.safetensors").unlink()
        elif case == "bad json":
            (target / "config.json").write_text("{not json")
        elif case == "not a classifier":
            cfg = json.loads((target / "config.json").read_text())
            cfg["model_type"] = "no-such-architecture"
            (target / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match=message):
        load_model(str(target), backend="eager")


def test_never_trusts_remote_code(tiny_checkpoint, tmp_path):
    target = tmp_path / "remote"
    shutil.copytree(tiny_checkpoint, target)
    cfg = json.loads((target / "config.json").read_text())
    cfg["auto_map"] = {"AutoModelForImageClassification": "evil.EvilModel"}
    cfg["model_type"] = "evil-custom"
    (target / "config.json").write_text(json.dumps(cfg))
    (target / "evil.py").write_text("raise SystemExit('remote code ran')\n")
    with pytest.raises(ModelLoadError):
        load_model(str(target), backend="eager")


def test_identify_says_what_load_model_will_give_without_loading(tiny_checkpoint, monkeypatch, tmp_path):
    from emotion.model import identify

    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path))
    eager = identify(str(tiny_checkpoint), "eager")
    model = load_model(str(tiny_checkpoint), "eager")
    assert (eager.checkpoint, eager.labels, eager.backend, eager.mirror) == \
        (model.checkpoint, model.labels, model.backend, model.mirror)
    assert identify(str(tiny_checkpoint), "auto") is None  # this machine has not raced for it yet
    auto = load_model(str(tiny_checkpoint), "auto")
    assert identify(str(tiny_checkpoint), "auto").backend == auto.backend
    assert identify("someone/some-model") is None  # a hub id: resolving it may download
    assert identify(str(tmp_path / "missing")) is None


# ---------------------------------------------------------------- temperature


def _with_recipe(tiny_checkpoint, tmp_path, recipe) -> str:
    target = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, target)
    (target / "inference.json").write_text(json.dumps(recipe))
    return str(target)


@pytest.mark.parametrize("backend", ["eager", "bf16", "onnx-int8"])
def test_stored_temperature_softens_probabilities_on_every_backend(backend, tiny_checkpoint, tmp_path, rng):
    from emotion.errors import BackendUnavailable
    from emotion.model import views_to_probabilities

    path = _with_recipe(tiny_checkpoint, tmp_path, {"mirror": False, "temperature": 3.0})
    try:
        hot = load_model(path, backend=backend)
    except BackendUnavailable as exc:
        pytest.skip(f"{backend}: {exc}")
    assert hot.temperature == 3.0 and "temperature=3" in repr(hot)
    cold = hot.with_temperature(1.0)
    assert cold._runner is hot._runner and cold.temperature == 1.0 and hot.with_temperature(3) is hot
    batch = crops(rng)
    p_hot, p_cold = hot.predict(batch).probs, cold.predict(batch).probs
    logits = hot.logits(hot.preprocess(batch))
    np.testing.assert_allclose(p_hot, views_to_probabilities(logits, 3.0), atol=1e-6)
    np.testing.assert_allclose(p_cold, views_to_probabilities(logits, 1.0), atol=1e-6)
    # softer: lower top probability and higher entropy, the same winner
    assert (p_hot.max(1) < p_cold.max(1)).all()
    entropy = lambda p: -(p * np.log(p)).sum(1)  # noqa: E731
    assert (entropy(p_hot) > entropy(p_cold)).all()
    assert (p_hot.argmax(1) == p_cold.argmax(1)).all()


def test_temperature_with_mirror_scales_each_view(tiny_checkpoint, tmp_path, rng):
    path = _with_recipe(tiny_checkpoint, tmp_path, {"mirror": True, "temperature": 0.5})
    m = load_model(path, backend="eager")
    batch = crops(rng)
    plain = m.with_mirror(False)
    assert plain.temperature == 0.5  # the twin keeps it
    flipped = plain.predict([np.ascontiguousarray(c[:, ::-1]) for c in batch]).probs
    np.testing.assert_allclose(m.predict(batch).probs, (plain.predict(batch).probs + flipped) / 2, atol=1e-5)


def test_no_temperature_means_one(tiny_model):
    assert tiny_model.temperature == 1.0 and "temperature" not in repr(tiny_model)


@pytest.mark.parametrize("value", [0, -1, 100, "warm", True, None])
def test_bad_temperature_is_refused(value, tiny_checkpoint, tmp_path):
    path = _with_recipe(tiny_checkpoint, tmp_path, {"mirror": False, "temperature": value})
    with pytest.raises(ModelLoadError, match="temperature must be a number from 0.05 to 20"):
        load_model(path, backend="eager")


def test_temperature_changes_the_checkpoint_hash(tiny_checkpoint, tmp_path):
    a = _with_recipe(tiny_checkpoint, tmp_path / "a", {"temperature": 0.5})
    b = _with_recipe(tiny_checkpoint, tmp_path / "b", {"temperature": 0.6})
    from pathlib import Path

    assert checkpoint_hash(Path(a)) != checkpoint_hash(Path(b))  # cached film results do not mix them up
