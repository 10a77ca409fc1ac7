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
