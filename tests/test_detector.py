import io

import numpy as np
import pytest
from PIL import Image

import emotion
import emotion.detector as detector_mod
from emotion.detector import EmotionDetector, analyze_image, build_detector, get_detector
from emotion.errors import ModelLoadError, UnreadableMedia
from emotion.settings import Settings
from emotion.types import Faces, ImageResult


class FakeFaces:
    """A face detector that returns fixed boxes (or boxes keyed by frame size)."""

    name = "fake"
    fallback_reason = None

    def __init__(self, boxes_by_width):
        self.boxes_by_width = boxes_by_width

    def detect(self, rgb):
        boxes = self.boxes_by_width.get(rgb.shape[1], [])
        return Faces(boxes, np.linspace(0.9, 0.6, len(boxes))) if boxes else Faces.empty()


def frame(width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (100, width, 3), dtype=np.uint8)


def test_analyze_scores_every_face(tiny_model):
    det = EmotionDetector(FakeFaces({120: [[10, 10, 50, 60], [60, 20, 110, 90]]}), tiny_model)
    res = det.analyze(frame(120))
    assert isinstance(res, ImageResult) and (res.width, res.height) == (120, 100)
    assert (res.detector, res.model, res.labels) == ("fake", tiny_model.name, tiny_model.labels)
    assert [f.box for f in res.faces] == [(10, 10, 50, 60), (60, 20, 110, 90)]
    for f in res.faces:
        assert set(f.probabilities) == set(tiny_model.labels)
        assert f.emotion == max(f.probabilities, key=f.probabilities.get)
        assert abs(sum(f.probabilities.values()) - 1) < 1e-4


def test_no_faces_is_an_empty_result(tiny_model):
    res = EmotionDetector(FakeFaces({}), tiny_model).analyze(frame(64))
    assert res.faces == () and len(res) == 0


def test_analyze_many_batches_all_faces_in_one_call(tiny_model, monkeypatch):
    boxes = {100: [], 120: [[0, 0, 40, 40], [50, 50, 90, 90]], 140: [[20, 20, 70, 80]]}
    det = EmotionDetector(FakeFaces(boxes), tiny_model)
    frames = [frame(100), frame(120, 1), frame(140, 2)]
    single = [det.analyze(f) for f in frames]
    calls = []
    real = tiny_model.predict
    monkeypatch.setattr(tiny_model, "predict", lambda crops: calls.append(len(crops)) or real(crops))
    many = det.analyze_many(frames)
    assert calls == [3]
    assert [len(r.faces) for r in many] == [0, 2, 1]
    for a, b in zip(single, many):
        for fa, fb in zip(a.faces, b.faces):
            assert fa.box == fb.box and fa.emotion == fb.emotion
            np.testing.assert_allclose(list(fa.probabilities.values()), list(fb.probabilities.values()), atol=1e-5)


@pytest.mark.parametrize("kind", ["path", "bytes", "pil", "array"])
def test_analyze_image_accepts_every_source(kind, tiny_model, tmp_path):
    rgb = frame(120, 3)
    data = io.BytesIO()
    Image.fromarray(rgb).save(data, format="PNG")
    (tmp_path / "x.png").write_bytes(data.getvalue())
    source = {"path": tmp_path / "x.png", "bytes": data.getvalue(), "pil": Image.fromarray(rgb), "array": rgb}[kind]
    det = EmotionDetector(FakeFaces({120: [[10, 10, 60, 60]]}), tiny_model)
    res = analyze_image(source, detector=det)
    expected = det.analyze(rgb)
    assert res.faces == expected.faces


def test_analyze_image_bad_input(tiny_model):
    with pytest.raises(UnreadableMedia, match="not an image"):
        analyze_image(b"definitely not a photo", detector=EmotionDetector(FakeFaces({}), tiny_model))


def test_build_and_get_detector_from_settings(tiny_checkpoint, monkeypatch):
    monkeypatch.setattr(detector_mod, "_cache", type(detector_mod._cache)())
    s = Settings(model=str(tiny_checkpoint), detector="haar", backend="eager", min_face=30, margin=0.2)
    det = build_detector(s)
    assert det.detector_name == "haar" and det.face_detector.min_face == 30 and det.margin == 0.2
    assert get_detector(s) is get_detector(s), "the same settings reuse one detector"
    assert get_detector(s.replace(min_face=40)) is not get_detector(s)
    res = analyze_image(np.zeros((50, 50, 3), np.uint8), s)
    assert res.faces == () and res.detector == "haar"


def test_build_detector_reports_a_missing_model(tmp_path, monkeypatch):
    import emotion.model.checkpoint as model_mod

    monkeypatch.setattr(model_mod, "BUNDLED_DIR", tmp_path)
    with pytest.raises(ModelLoadError, match="bundled"):
        build_detector(Settings(detector="haar"))


def test_public_api_is_lazy_and_complete():
    import subprocess
    import sys

    code = ("import sys, emotion; heavy = [m for m in ('torch', 'transformers', 'cv2', 'streamlit') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert emotion.analyze_image is analyze_image and emotion.Settings is Settings
    with pytest.raises(AttributeError):
        emotion.not_a_thing  # noqa: B018


def test_real_photo_end_to_end(tiny_checkpoint, yunet_path, photo):
    s = Settings(model=str(tiny_checkpoint), detector="yunet", face_model=str(yunet_path), backend="eager")
    res = analyze_image(photo("facerec_two_people.jpg"), s)
    assert len(res.faces) == 2 and res.detector == "yunet"
    for f in res.faces:
        x1, y1, x2, y2 = f.box
        assert 0 <= x1 < x2 <= res.width and 0 <= y1 < y2 <= res.height
