"""The bundled checkpoint: ships in Hugging Face format, loads both ways, classifies real faces."""

import json
from pathlib import Path

import numpy as np
import pytest

from emotion.labels import CANONICAL
from emotion.model import BUNDLED_DIR

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

pytestmark = pytest.mark.skipif(not (BUNDLED_DIR / "config.json").exists(),
                                reason=f"bundled model not present in {BUNDLED_DIR}")


def test_files_and_size():
    for f in ("config.json", "model.safetensors", "preprocessor_config.json", "README.md"):
        assert (BUNDLED_DIR / f).is_file(), f
    assert (BUNDLED_DIR / "model.safetensors").stat().st_size <= 20_000_000
    cfg = json.loads((BUNDLED_DIR / "config.json").read_text())
    assert [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))] == list(CANONICAL)
    assert cfg["architectures"] == ["ResNetForImageClassification"]


def test_loads_with_plain_pipeline():
    from PIL import Image
    from transformers import pipeline

    clf = pipeline("image-classification", model=str(BUNDLED_DIR))
    out = clf(Image.fromarray(np.full((64, 64, 3), 128, np.uint8)), top_k=8)
    assert {o["label"] for o in out} == set(CANONICAL)


@pytest.mark.parametrize("photo, expected", [
    ("faceapi_happy.jpg", "happy"),
    ("faceapi_surprised.jpg", "surprise"),
    ("faceapi_angry.jpg", "angry"),
])
def test_classifies_real_faces(photo, expected):
    path = SHARED / "media" / "photos" / photo
    if not path.exists():
        pytest.skip(f"{path} is absent (needs ../shared/data)")
    from emotion import Settings, analyze_image

    face_model = SHARED / "models" / "face_detection_yunet_2026may.onnx"
    settings = Settings(model="bundled", detector="yunet" if face_model.exists() else "haar",
                        face_model=str(face_model) if face_model.exists() else None, backend="eager")
    result = analyze_image(path, settings)
    assert len(result.faces) >= 1
    biggest = max(result.faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    assert biggest.emotion == expected, biggest.probabilities


def test_stored_temperature_reduces_calibration_error_on_publictest():
    """The temperature in inference.json was fitted on PublicTest; on a sample of it, it must calibrate."""
    fer, plus = SHARED / "fer2013" / "fer2013.csv.gz", SHARED / "fer2013" / "fer2013new.csv"
    if not (fer.exists() and plus.exists()):
        pytest.skip(f"FER2013/FER+ files are absent from {SHARED / 'fer2013'} (needs ../shared/data)")
    from emotion.model import inference_recipe, load_model, views_to_probabilities
    from emotion.training.calibration import expected_calibration_error
    from emotion.training.data import load_faceset, training_cache_dir
    from emotion.training.evaluate import predict_logits

    recipe = inference_recipe(BUNDLED_DIR, "bundled")
    assert 0.05 <= recipe["temperature"] <= 20 and "PublicTest" in recipe["temperature_source"]
    model = load_model("bundled", backend="eager")
    assert model.temperature == recipe["temperature"]
    public = load_faceset(fer, plus, cache_dir=training_cache_dir()).split("PublicTest")
    pick = np.random.default_rng(0).permutation(len(public))[:800]
    logits = predict_logits(model, list(public.images[pick]))
    truth = np.array([model.labels.index(CANONICAL[i]) for i in public.majority[pick]])
    before = expected_calibration_error(views_to_probabilities(logits), truth)
    after = expected_calibration_error(views_to_probabilities(logits, model.temperature), truth)
    # on all 3,553 faces: 0.126 -> 0.014 (model card); 800 faces add sampling noise of about 0.01
    assert after < before / 3 and after <= 0.04, (before, after)
