"""A tiny but real training run: train, export, reload with transformers.pipeline, evaluate."""

import json

import numpy as np
import pytest

from emotion.cli import main as cli_main
from emotion.errors import SettingsError
from emotion.labels import CANONICAL
from emotion.training.train import TrainConfig, train


def test_training_logs_and_checkpoints(trained):
    cfg, ckpt, rows, _, _ = trained
    assert [r.epoch for r in rows] == [1, 2]
    assert all(np.isfinite(r.train_loss) for r in rows)
    run = ckpt.parent
    log = (run / "log.csv").read_text().splitlines()
    assert log[0].startswith("epoch,train_loss") and len(log) == 3
    for f in ("last.pt", "best.pt", "config.json"):
        assert (run / f).exists()
    cfgjson = json.loads((ckpt / "config.json").read_text())
    assert cfgjson["num_channels"] == 3
    assert [cfgjson["id2label"][str(i)] for i in range(8)] == list(CANONICAL)


def test_resume_extends_the_run(trained, tmp_path):
    import shutil

    cfg, ckpt, _, _, _ = trained
    run = tmp_path / "run"
    shutil.copytree(ckpt.parent, run)
    rows = []
    from dataclasses import replace

    train(replace(cfg, out=str(run)), resume=True, progress=rows.append, resume_epochs=3)
    assert [r.epoch for r in rows] == [3]
    assert len((run / "log.csv").read_text().splitlines()) == 4
    with pytest.raises(SettingsError, match="already has 3 epochs"):
        train(replace(cfg, out=str(run)), resume=True, resume_epochs=2)


def test_checkpoint_loads_in_plain_pipeline(trained):
    from PIL import Image
    from transformers import pipeline

    _, ckpt, _, _, _ = trained
    clf = pipeline("image-classification", model=str(ckpt))
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 50, 3), dtype=np.uint8))
    out = clf(img, top_k=8)
    assert {o["label"] for o in out} == set(CANONICAL)
    assert sum(o["score"] for o in out) == pytest.approx(1.0, abs=1e-4)


def test_rgb_export_equals_grey_model(trained):
    """The exported RGB model on a grey image equals the trained grey model on the same image."""
    import torch
    from transformers import AutoModelForImageClassification

    from emotion.training.model_def import build_model

    cfg, ckpt, _, _, _ = trained
    rgb = AutoModelForImageClassification.from_pretrained(ckpt).eval()
    grey = build_model(cfg.arch, num_channels=1)
    state = torch.load(ckpt.parent / "best.pt", weights_only=False)["model"]
    grey.load_state_dict(state)
    grey.eval()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        a = rgb(pixel_values=x.repeat(1, 3, 1, 1)).logits
        b = grey(pixel_values=x).logits
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_evaluate_command_json(trained, tmp_path, capsys):
    _, ckpt, _, fer, plus = trained
    html = tmp_path / "cm.html"
    code = cli_main(["evaluate", "--model", str(ckpt), "--backend", "eager", "--fer2013", str(fer), "--ferplus",
                     str(plus), "--split", "PrivateTest", "--json", "--html", str(html)])
    assert code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out) >= {"accuracy", "macro_f1", "n", "per_class"}
    assert out["n"] == 16 and 0 <= out["accuracy"] <= 1
    assert html.exists() and "plotly" in html.read_text()[:5000].lower()
    # calibration: ECE at temperature 1 and at the checkpoint's own, and the reliability diagram next to the heatmap
    temperature = json.loads((ckpt / "inference.json").read_text())["temperature"]
    assert out["temperature"] == temperature and out["ece_bins"] == 15
    assert set(out["ece"]) == {"uncalibrated", f"temperature {temperature:g}"}
    assert all(0 <= v <= 1 for v in out["ece"].values())
    rel = tmp_path / "reliability-cm.html"
    assert rel.exists() and "perfectly calibrated" in rel.read_text()


def test_evaluate_fer2013_labels_use_seven_classes(trained):
    from emotion.model import load_model
    from emotion.training.evaluate import evaluate_fer

    _, ckpt, _, fer, plus = trained
    ev = evaluate_fer(load_model(str(ckpt), backend="eager"), fer, plus, split="PublicTest", labels="fer2013")
    assert ev.report.labels == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert ev.report.n == 16


def test_evaluate_folder_reports_skipped_labels(trained, tmp_path, capsys):
    from PIL import Image

    _, ckpt, _, _, _ = trained
    rng = np.random.default_rng(1)
    for name in ("Happiness", "anger", "bored"):
        d = tmp_path / "faces" / name
        d.mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (48, 48), dtype=np.uint8)).save(d / f"{i}.png")
    (tmp_path / "faces" / "anger" / "broken.jpg").write_bytes(b"not an image")
    code = cli_main(["evaluate", "--model", str(ckpt), "--backend", "eager", "--folder", str(tmp_path / "faces"),
                     "--json", "--no-html"])
    assert code == 0
    cap = capsys.readouterr()
    out = json.loads(cap.out.strip().splitlines()[-1])
    assert out["n"] == 6
    assert set(out["per_class"]) == {"angry", "happy"}
    assert "bored" in cap.err and "unreadable" in cap.err


def test_evaluate_folder_label_model_lacks(tmp_path):
    """A 7-class model asked about 'contempt' faces reports and skips them instead of mapping them."""
    from emotion.training.evaluate import _score

    labels7 = CANONICAL[:7]
    probs = np.eye(7, dtype=np.float32)[[3, 3, 0]]
    ev = _score(probs, labels7, ["happy", "contempt", "angry"], ("angry", "happy", "contempt"), "x")
    assert ev.report.n == 2 and ev.report.accuracy == 1.0
    assert ev.skipped == {"label 'contempt' not predicted by the model": 1}


def test_record_agreement_writes_file_the_loader_enforces(trained, tmp_path, capsys):
    import shutil

    _, ckpt, _, fer, plus = trained
    local = tmp_path / "ckpt"
    shutil.copytree(ckpt, local)
    code = cli_main(["evaluate", "--model", str(local), "--fer2013", str(fer), "--ferplus", str(plus),
                     "--split", "PublicTest", "--record-agreement"])
    assert code == 0
    rec = json.loads((local / "backend_agreement.json").read_text())
    assert rec["rows"] == 16 and "source" in rec
    from emotion.model.checkpoint import weights_hash
    from emotion.runtime.int8_recipe import record_key

    assert rec["weights"] == weights_hash(local), "records say which weights they were measured on"
    for b in rec["backends"].values():
        assert 0 <= b["top1"] <= b["top1_ties"] <= 1 and b["rows"] == 16
    if any(k.startswith("onnx-int8") for k in rec["backends"]):  # the recipe this CPU builds is always recorded
        assert record_key("onnx-int8") in rec["backends"] and "onnx-int8:reduce_range" in rec["backends"]
    if "onnx-int8" in rec["backends"]:  # int8 was measured with ranges from Training faces, saved beside it
        cal = json.loads((local / "int8_calibration.json").read_text())
        assert rec["backends"]["onnx-int8"]["calibration"] == cal["source"]
        assert cal["source"].endswith("FER Training faces") and "pixel_values" in cal["ranges"]
        from emotion.errors import EmotionError
        from emotion.model import int8_calibration, load_model

        assert int8_calibration(local, "local").source == cal["source"]
        (local / "int8_calibration.json").write_text('{"ranges": {"pixel_values": [1, 0]}}')
        with pytest.raises(EmotionError, match="int8_calibration.json is not usable.*min <= max"):
            load_model(str(local), backend="eager")
        assert cli_main(["evaluate", "--model", str(local), "--fer2013", str(fer), "--ferplus", str(plus),
                         "--split", "PublicTest", "--record-agreement"]) == 0  # the command its message names
        assert json.loads((local / "int8_calibration.json").read_text())["source"] == cal["source"]
    assert cli_main(["evaluate", "--model", str(local), "--fer2013", str(fer), "--ferplus", str(plus),
                     "--split", "PrivateTest", "--record-agreement"]) == 1
    assert "PrivateTest is kept for reporting only" in capsys.readouterr().err


def test_resuming_a_finished_run_exports_again_in_float16(trained, tmp_path):
    import shutil
    from dataclasses import replace

    from PIL import Image
    from safetensors import safe_open
    from transformers import pipeline

    cfg, ckpt, _, _, _ = trained
    run = tmp_path / "run"
    shutil.copytree(ckpt.parent, run)
    rows = []
    half = train(replace(cfg, out=str(run)), resume=True, progress=rows.append, resume_storage="float16")
    assert rows == []  # no more epochs: only the export
    assert (half / "model.safetensors").stat().st_size < 0.6 * (ckpt / "model.safetensors").stat().st_size
    with safe_open(str(half / "model.safetensors"), "pt") as fh:
        assert {str(fh.get_tensor(k).dtype) for k in fh.keys()} <= {"torch.float16", "torch.int64"}
    assert json.loads((half / "config.json").read_text())["dtype"] == "float32"

    img = Image.fromarray(np.random.default_rng(3).integers(0, 255, (48, 48, 3), dtype=np.uint8))
    full_clf, half_clf = (pipeline("image-classification", model=str(d)) for d in (ckpt, half))
    assert str(next(half_clf.model.parameters()).dtype) == "torch.float32"
    full = {o["label"]: o["score"] for o in full_clf(img, top_k=8)}
    got = {o["label"]: o["score"] for o in half_clf(img, top_k=8)}
    assert max(abs(full[k] - got[k]) for k in full) < 0.01


def test_storage_must_be_known():
    with pytest.raises(SettingsError, match="storage must be one of float32, float16"):
        TrainConfig(fer2013="x", ferplus=None, out="y", storage="int8")


def test_export_chooses_mirror_averaging_on_publictest(trained):
    from emotion.model import load_model
    from emotion.training.data import load_faceset
    from emotion.training.evaluate import predict_faces

    cfg, ckpt, _, fer, plus = trained
    rec = json.loads((ckpt / "inference.json").read_text())
    assert rec["source"] == "16 FER+ PublicTest faces"
    from emotion.training.evaluate import MIRROR_MIN_GAIN

    assert rec["mirror"] == (rec["accuracy_mirror"] - rec["accuracy_plain"] >= MIRROR_MIN_GAIN - 1e-9)
    # the recorded accuracies are the product path's, with and without mirroring
    va = load_faceset(fer, plus, cache_dir=cfg.cache_dir).split("PublicTest")
    for mirror, key in ((False, "accuracy_plain"), (True, "accuracy_mirror")):
        m = load_model(str(ckpt), backend="eager", mirror=mirror)
        acc = np.mean(predict_faces(m, list(va.images)).argmax(1) == [m.labels.index(CANONICAL[i]) for i in va.majority])
        assert acc == pytest.approx(rec[key], abs=1e-5)
    assert load_model(str(ckpt), backend="eager").mirror is rec["mirror"]
    # the temperature is fitted on the same faces, as the checkpoint is run: it minimises their NLL
    from emotion.model import views_to_probabilities
    from emotion.training.evaluate import predict_logits

    m = load_model(str(ckpt), backend="eager")
    assert m.temperature == rec["temperature"]
    logits = predict_logits(m, list(va.images))
    y = np.array([m.labels.index(CANONICAL[i]) for i in va.majority])

    def nll(t):
        return -np.mean(np.log(views_to_probabilities(logits, t)[np.arange(len(y)), y]))

    assert nll(rec["temperature"]) <= min(nll(rec["temperature"] * 0.8), nll(rec["temperature"] * 1.25)) + 1e-9


def test_fit_temperature_command_keeps_the_recipe_and_refuses_privatetest(trained, tmp_path, capsys):
    import shutil

    _, ckpt, _, fer, plus = trained
    local = tmp_path / "ckpt"
    shutil.copytree(ckpt, local)
    before = json.loads((local / "inference.json").read_text())
    assert cli_main(["evaluate", "--model", str(local), "--fer2013", str(fer), "--ferplus", str(plus),
                     "--split", "PrivateTest", "--fit-temperature"]) != 0
    assert "PrivateTest is kept for reporting only" in capsys.readouterr().err
    assert json.loads((local / "inference.json").read_text()) == before
    assert cli_main(["evaluate", "--model", str(local), "--fer2013", str(fer), "--ferplus", str(plus),
                     "--split", "Training", "--fit-temperature"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    after = json.loads((local / "inference.json").read_text())
    assert after["temperature"] == out["temperature"] and "Training" in after["temperature_source"]
    assert {k: after[k] for k in before if k != "temperature"} == {k: v for k, v in before.items() if k != "temperature"}
    assert out["faces"] == 45 and 0 <= out["ece_after"] <= 1  # 48 Training rows less unknown, NF and lossy


def test_record_agreement_without_onnx_keeps_the_int8_ranges_and_records_the_rest(trained, tmp_path, capsys,
                                                                                  monkeypatch):
    import shutil

    from emotion.runtime import onnx_int8 as runtime_onnx

    _, ckpt, _, fer, plus = trained
    local = tmp_path / "ckpt"
    shutil.copytree(ckpt, local)
    kept = '{"source": "earlier faces", "ranges": {"pixel_values": [-1, 1]}}'
    (local / "int8_calibration.json").write_text(kept)
    monkeypatch.setattr(runtime_onnx, "onnx_available", lambda: (False, "onnxruntime/onnx not installed (test)"))
    assert cli_main(["evaluate", "--model", str(local), "--fer2013", str(fer), "--ferplus", str(plus),
                     "--split", "PublicTest", "--record-agreement"]) == 0
    assert "int8 calibration skipped" in capsys.readouterr().err
    assert (local / "int8_calibration.json").read_text() == kept
    rec = json.loads((local / "backend_agreement.json").read_text())
    assert "onnx-int8" not in rec["backends"] and rec["rows"] == 16


class _Payload:
    """Stands for whatever a tampered checkpoint could carry: unpickling it would run its code."""

    def __reduce__(self):
        return (print, ("this ran while loading",))


def test_resume_loads_weights_only_and_refuses_a_checkpoint_carrying_code(trained, tmp_path, capsys):
    import shutil
    from dataclasses import replace

    import torch

    from emotion.errors import DataError

    cfg, ckpt, _, _, _ = trained
    run = tmp_path / "run"
    shutil.copytree(ckpt.parent, run)
    state = torch.load(run / "last.pt", weights_only=True)
    state["extra"] = _Payload()
    torch.save(state, run / "last.pt")
    with pytest.raises(DataError, match="not loaded"):
        train(replace(cfg, out=str(run)), resume=True, resume_epochs=3)
    assert "this ran while loading" not in capsys.readouterr().out
