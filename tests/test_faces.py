import logging
import shutil

import numpy as np
import pytest

import emotion.faces as faces_mod
from emotion.errors import ModelLoadError, SettingsError, UnreadableMedia
from emotion.crops import crop_faces
from emotion.faces import YUNET_FILENAME, HaarDetector, YuNetDetector, _finish, ensure_yunet, make_face_detector
from emotion.media import load_image
from emotion.types import Faces


def frames():
    rng = np.random.default_rng(3)
    return {
        "black": np.zeros((120, 160, 3), np.uint8),
        "white": np.full((90, 90, 3), 255, np.uint8),
        "noise": rng.integers(0, 256, (100, 140, 3), dtype=np.uint8),
        "tiny": np.zeros((3, 5, 3), np.uint8),
        "large-flat": np.full((1500, 2600, 3), 128, np.uint8),  # downscaled for detection
    }


@pytest.mark.parametrize("name", list(frames()))
def test_haar_finds_nothing_in_synthetic_frames(name):
    found = make_face_detector("haar").detect(frames()[name])
    assert isinstance(found, Faces) and len(found) == 0 and found.boxes.shape == (0, 4)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no arithmetic on NaN rows (YuNet on a 3x5 frame)
@pytest.mark.parametrize("name", list(frames()))
def test_yunet_finds_nothing_in_synthetic_frames(yunet_path, name):
    found = make_face_detector("yunet", face_model=yunet_path).detect(frames()[name])
    assert isinstance(found, Faces) and len(found) == 0


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32),
                                 np.zeros((0, 10, 3), np.uint8), "frame.jpg"])
def test_detect_rejects_non_rgb_frames(bad):
    with pytest.raises(UnreadableMedia, match=r"expected an RGB uint8 frame of shape \(H, W, 3\)"):
        make_face_detector("haar").detect(bad)


@pytest.mark.parametrize("kwargs", [{"min_face": 0}, {"threshold": 1.5}, {"max_side": 10}])
def test_detector_parameters_are_validated(kwargs):
    with pytest.raises(SettingsError):
        make_face_detector("haar", **kwargs)


def test_unknown_kind():
    with pytest.raises(SettingsError, match="auto, yunet or haar"):
        make_face_detector("mtcnn")


def test_finish_maps_back_clips_filters_and_sorts():
    boxes = np.array([[10, 10, 30, 30], [-5, 0, 100, 60], [0, 0, 4, 4]], np.float32)  # detection-frame pixels
    faces = _finish(boxes, np.array([0.7, 0.9, 0.8], np.float32), scale=0.5, shape=(100, 150, 3), min_face=20)
    # Scale 0.5 means the input frame is twice as large; the 4x4 box becomes 8x8 < 20 and is dropped.
    np.testing.assert_allclose(faces.boxes, [[0, 0, 150, 100], [20, 20, 60, 60]])
    np.testing.assert_allclose(faces.scores, [0.9, 0.7])


@pytest.mark.parametrize("box, margin, expected", [
    ((40, 40, 60, 60), 0.0, (20, 20)),     # square already
    ((40, 30, 60, 70), 0.0, (40, 40)),     # tall box -> square crop of its long side
    ((40, 40, 60, 60), 0.5, (40, 40)),     # 50% margin on each side doubles the side
    ((0, 0, 30, 30), 0.5, (45, 45)),       # clamped at the top-left corner
    ((90, 90, 100, 100), 1.0, (20, 20)),   # clamped at the bottom-right corner
    ((50, 50, 50, 50), 0.0, (1, 1)),       # a degenerate box still gives one pixel
])
def test_crop_faces_square_with_margin_inside_frame(box, margin, expected):
    frame = np.arange(100 * 100 * 3, dtype=np.uint32).astype(np.uint8).reshape(100, 100, 3)
    (crop,) = crop_faces(frame, Faces([box], [1.0]), margin)
    assert crop.shape[:2] == expected and crop.flags.c_contiguous


def test_crop_faces_empty():
    assert crop_faces(np.zeros((10, 10, 3), np.uint8), Faces.empty()) == []


# ---------------------------------------------------------------- YuNet file: cache, download, fallback


def test_auto_falls_back_to_haar_and_says_why_once(caplog):
    caplog.set_level(logging.WARNING, logger="emotion.faces")
    calls = []

    def offline(url, dest):
        calls.append(url)
        raise OSError("Name or service not known")

    first = make_face_detector("auto", fetch=offline)
    second = make_face_detector("auto", fetch=offline)
    assert first.name == second.name == "haar"
    assert "Name or service not known" in first.fallback_reason and "EMOTION_FACE_MODEL" in first.fallback_reason
    assert len(calls) == 1, "a failed download is not retried on every call"
    assert len([r for r in caplog.records if "YuNet unavailable" in r.getMessage()]) <= 1


def test_explicit_yunet_without_file_is_an_error():
    with pytest.raises(ModelLoadError, match="could not download the YuNet face model"):
        make_face_detector("yunet")


def test_download_is_verified_and_cached(yunet_path, tmp_path, monkeypatch):
    calls = []

    def fake_fetch(url, dest):
        calls.append(url)
        assert "opencv_zoo" in url and url.endswith(YUNET_FILENAME)
        shutil.copyfile(yunet_path, dest)

    path = ensure_yunet(fetch=fake_fetch)
    assert path.parent == faces_mod.cache_dir() and path.read_bytes() == yunet_path.read_bytes()
    assert ensure_yunet(fetch=fake_fetch) == path and len(calls) == 1, "second call uses the cache"
    det = make_face_detector("auto", fetch=fake_fetch)
    assert det.name == "yunet" and det.fallback_reason is None


def test_download_with_wrong_checksum_is_discarded():
    def corrupt(url, dest):
        dest.write_bytes(b"<html>captive portal</html>")

    with pytest.raises(ModelLoadError, match="does not match the published sha256"):
        ensure_yunet(fetch=corrupt)
    assert not any(faces_mod.cache_dir().glob("*.onnx*")), "no partial or bad file is left behind"


def test_corrupt_cached_file_is_replaced(yunet_path):
    target = faces_mod.cache_dir() / YUNET_FILENAME
    target.parent.mkdir(parents=True)
    target.write_bytes(b"garbage")
    path = ensure_yunet(fetch=lambda url, dest: shutil.copyfile(yunet_path, dest))
    assert path.read_bytes() == yunet_path.read_bytes()


@pytest.mark.parametrize("via", ["argument", "env"])
def test_missing_explicit_face_model_is_an_error_even_for_auto(via, tmp_path, monkeypatch):
    missing = tmp_path / "nope.onnx"
    if via == "env":
        monkeypatch.setenv("EMOTION_FACE_MODEL", str(missing))
    with pytest.raises(ModelLoadError, match="does not exist"):
        make_face_detector("auto", face_model=missing if via == "argument" else None)


def test_env_face_model_is_used(yunet_path, monkeypatch):
    monkeypatch.setenv("EMOTION_FACE_MODEL", str(yunet_path))
    det = make_face_detector("auto")
    assert isinstance(det, YuNetDetector) and det.model_path == yunet_path


def test_file_that_is_not_yunet_is_refused(tmp_path):
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"\x08\x01not an onnx graph")
    with pytest.raises(ModelLoadError, match="cannot load this file as a YuNet face model"):
        make_face_detector("yunet", face_model=bogus)


# ---------------------------------------------------------------- real photos (../shared/data)


@pytest.mark.parametrize("name, expected", [
    ("faceapi_happy.jpg", 1), ("faceapi_sad.jpg", 1), ("faceapi_angry.jpg", 1), ("facerec_two_people.jpg", 2),
])
def test_yunet_counts_faces_in_real_photos(yunet_path, photo, name, expected):
    det = make_face_detector("yunet", face_model=yunet_path)
    found = det.detect(load_image(photo(name)))
    assert len(found) == expected
    assert (found.scores >= det.threshold).all()


def test_yunet_finds_most_of_a_group(yunet_path, photo):
    found = make_face_detector("yunet", face_model=yunet_path).detect(load_image(photo("ulfd_group_9.jpg")))
    assert len(found) >= 7  # nine children, one partly hidden


def test_haar_on_a_real_photo(photo):
    found = HaarDetector().detect(load_image(photo("faceapi_happy.jpg")))
    assert len(found) == 1 and found.scores[0] == 1.0


@pytest.mark.parametrize("kind", ["haar", "yunet"])
def test_downscaled_detection_maps_boxes_back(kind, yunet_path, photo):
    import cv2

    rgb = load_image(photo("faceapi_happy.jpg"))  # 500x282
    big = cv2.resize(rgb, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)  # 2000x1128
    det = make_face_detector(kind, face_model=yunet_path, max_side=500)  # big is detected at 500 px
    small, large = det.detect(rgb), det.detect(big)
    assert len(small) == len(large) == 1
    np.testing.assert_allclose(large.boxes[0], small.boxes[0] * 4, atol=4 * 3)


def test_min_face_drops_small_faces(yunet_path, photo):
    rgb = load_image(photo("ulfd_group_9.jpg"))
    all_faces = make_face_detector("yunet", face_model=yunet_path, min_face=10).detect(rgb)
    sides = np.minimum(all_faces.boxes[:, 2] - all_faces.boxes[:, 0], all_faces.boxes[:, 3] - all_faces.boxes[:, 1])
    cut = float(np.median(sides))
    big_only = make_face_detector("yunet", face_model=yunet_path, min_face=int(cut) + 1).detect(rgb)
    assert 0 < len(big_only) < len(all_faces)
    assert len(big_only) == int((sides >= int(cut) + 1).sum())



def test_with_min_face_is_a_twin_with_its_own_minimum():
    from emotion.errors import SettingsError
    from emotion.faces import HaarDetector

    haar = HaarDetector(min_face=40, fallback_reason="why")
    twin = haar.with_min_face(12)
    assert (type(twin), twin.min_face, twin.fallback_reason) == (HaarDetector, 12, "why")
    assert twin._cascade is haar._cascade and haar.min_face == 40
    with pytest.raises(SettingsError):
        haar.with_min_face(0)


# ---------------------------------------------------------------- thorough search (three looks merged)


def test_merge_faces_keeps_the_best_of_overlapping_faces_and_their_landmarks():
    from emotion.face_search import merge_faces

    marks = np.arange(20, dtype=np.float32).reshape(2, 5, 2)
    a = Faces(np.array([[0, 0, 10, 10], [40, 0, 50, 10]], np.float32), np.array([0.9, 0.8], np.float32),
              landmarks=marks)
    b = Faces(np.array([[1, 0, 11, 10]], np.float32), np.array([0.95], np.float32), landmarks=marks[:1] + 100)
    merged = merge_faces([a, Faces.empty(), b])
    assert merged.boxes.tolist() == [[1, 0, 11, 10], [40, 0, 50, 10]]
    assert merged.scores.tolist() == pytest.approx([0.95, 0.8])
    assert np.array_equal(merged.landmarks, np.stack([marks[0] + 100, marks[1]]))
    assert len(merge_faces([Faces.empty()])) == 0
    # one look without landmarks: the merged faces have none
    assert merge_faces([a, Faces(b.boxes, b.scores)]).landmarks is None


def test_thorough_detector_looks_twice_and_maps_every_look_back(yunet_path, photo):
    from emotion.face_search import ThoroughDetector

    base = make_face_detector("yunet", face_model=yunet_path)
    thorough = ThoroughDetector(base)
    rgb = load_image(photo("facerec_two_people.jpg"))
    one, both = base.detect(rgb), thorough.detect(rgb)
    assert thorough.name == "yunet-thorough" and len(both) == len(one) == 2
    # the same two faces, not four: each look's box is mapped back to the frame's pixels and merged
    from emotion.tracking import iou_matrix

    assert iou_matrix(one.boxes, both.boxes).max(axis=1).min() > 0.7
    assert both.landmarks.shape == (2, 5, 2)
    seen = []
    base_detect = type(base).detect
    try:
        type(base).detect = lambda self, img: seen.append((img.shape, self.min_face, float(img.mean()))) or \
            base_detect(self, img)
        ThoroughDetector(base.with_min_face(30)).detect(rgb)
    finally:
        type(base).detect = base_detect
    h, w = rgb.shape[:2]
    assert [(shape, m) for shape, m, _ in seen] == [((h, w, 3), 30), ((round(h * 2 / 3), round(w * 2 / 3), 3), 20)]
    assert seen[0][2] > rgb.mean() + 5, "the full-size look is brightened"
    twin = thorough.with_min_face(40)
    assert isinstance(twin, ThoroughDetector) and twin.min_face == 40 and thorough.min_face == base.min_face



def test_align_face_levels_the_eyes_and_puts_eyes_and_mouth_where_fer2013_has_them():
    import cv2

    from emotion.crops import FER_EYES, FER_MOUTH, align_face

    # A synthetic face turned by 20 degrees: white dots at the eyes and mouth corners.
    rgb = np.zeros((200, 200, 3), np.uint8)
    marks = np.array([[80, 90], [120, 90], [100, 110], [86, 130], [114, 130]], np.float64)
    angle = np.deg2rad(20)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    turned = (marks - 100) @ rot.T + 100
    for x, y in turned[[0, 1]]:
        cv2.circle(rgb, (int(round(x)), int(round(y))), 2, (255, 255, 255), -1)
    face = align_face(rgb, turned)
    side = face.shape[0]
    assert face.shape == (side, side, 3) and 50 <= side <= 120
    ys, xs = np.nonzero(face[:, :, 0] > 128)
    left, right = xs < side / 2, xs >= side / 2
    assert abs(ys[left].mean() - ys[right].mean()) < 1.5, "the eyes are level"
    assert abs(ys.mean() / side - FER_EYES[1]) < 0.03 and abs(xs.mean() / side - FER_EYES[0]) < 0.03
    assert FER_MOUTH[1] > FER_EYES[1]


@pytest.mark.parametrize("marks", [
    None, np.full((5, 2), np.nan), np.zeros((5, 2)),                                    # missing, NaN, collapsed
    np.array([[50, 50], [50, 80], [40, 60], [20, 55], [20, 75]], np.float64),         # head on its side (90 deg)
])
def test_align_face_refuses_unusable_landmarks_and_the_box_is_used(marks):
    from emotion.crops import align_face, face_crops

    rgb = np.full((100, 100, 3), 90, np.uint8)
    if marks is not None:
        assert align_face(rgb, marks) is None
    faces = Faces([[20, 20, 80, 80]], [0.9], landmarks=None if marks is None else [marks])
    (crop,) = face_crops(rgb, faces, 0.15, align=True)
    assert crop.shape[:2] == (78, 78), "cropped by the box with its margin"


def test_yunet_on_onnxruntime_finds_the_faces_opencv_finds(yunet_path, photo, monkeypatch):
    from emotion.faces import YuNetDetector
    from emotion.tracking import iou_matrix

    fast = YuNetDetector(yunet_path)
    monkeypatch.setenv("EMOTION_YUNET_ENGINE", "opencv")
    slow = YuNetDetector(yunet_path)
    assert (fast.engine, slow.engine) == ("onnxruntime", "opencv")
    for name in ("ulfd_group_24.jpg", "facerec_two_people.jpg", "faceapi_bbt4.jpg"):
        rgb = load_image(photo(name))
        a, b = slow.detect(rgb), fast.detect(rgb)
        assert len(a) == len(b) > 0, name
        assert iou_matrix(a.boxes, b.boxes).max(axis=1).min() > 0.99, name
        assert np.abs(np.sort(a.scores) - np.sort(b.scores)).max() < 1e-4, name
        assert np.abs(a.landmarks - b.landmarks[np.argmax(iou_matrix(a.boxes, b.boxes), axis=1)]).max() < 0.5, name


def test_a_file_that_is_no_yunet_network_still_gets_opencvs_clear_error(tmp_path):
    from emotion.errors import ModelLoadError
    from emotion.faces import YuNetDetector

    bad = tmp_path / "face_detection_yunet.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(ModelLoadError, match="cannot load this file as a YuNet face model"):
        YuNetDetector(bad)
