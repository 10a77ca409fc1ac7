import numpy as np
import pytest

from emotion.errors import SettingsError
from emotion.settings import Settings
from emotion.types import Emotions, FaceResult, Faces, ImageResult


def test_faces_copies_and_freezes():
    boxes = np.array([[1, 2, 30, 40]], np.float64)
    faces = Faces(boxes, [0.5])
    boxes[0, 0] = 99
    assert faces.boxes.dtype == np.float32 and faces.boxes[0, 0] == 1
    with pytest.raises(ValueError):
        faces.boxes[0, 0] = 5
    assert len(Faces.empty()) == 0 and Faces.empty().boxes.shape == (0, 4)


@pytest.mark.parametrize("boxes, scores, message", [
    ([[1, 2, 3]], [0.5], r"expected shape \(N, 4\)"),
    ([[1, 2, 3, 4]], [0.5, 0.6], r"scores: expected shape \(1,\)"),
    ([[10, 2, 3, 4]], [0.5], "x2 >= x1"),
    ("abc", [0.1], "expected numbers"),
])
def test_faces_rejects_bad_shapes(boxes, scores, message):
    with pytest.raises(ValueError, match=message):
        Faces(boxes, scores)


def test_faces_select_and_scale():
    faces = Faces([[0, 0, 10, 10], [5, 5, 25, 45]], [0.9, 0.8])
    assert len(faces.select(faces.scores > 0.85)) == 1
    np.testing.assert_allclose(faces.scaled(2).boxes[1], [10, 10, 50, 90])


def test_emotions_top_and_row():
    e = Emotions(("happy", "sad"), [[0.25, 0.75], [1.0, 0.0]])
    assert e.top() == [("sad", 0.75), ("happy", 1.0)]
    assert e.row(0) == {"happy": 0.25, "sad": 0.75}
    assert len(Emotions.empty(("happy",))) == 0


@pytest.mark.parametrize("labels, probs, message", [
    (("happy", "cat"), [[0.5, 0.5]], "canonical names"),
    (("happy", "happy"), [[0.5, 0.5]], "duplicate"),
    (("happy", "sad"), [[0.5, 0.5, 0.0]], r"expected shape \(N, 2\)"),
    (("happy", "sad"), [[2.0, 3.0]], "sum to 1"),
])
def test_emotions_rejects_bad_values(labels, probs, message):
    with pytest.raises(ValueError, match=message):
        Emotions(labels, probs)


def test_face_result_and_image_result_to_dict():
    face = FaceResult(box=(1.6, 2, 30, 40), score=np.float32(0.9), emotion="sad",
                      probabilities={"happy": 0.25, "sad": 0.75})
    assert face.box == (2, 2, 30, 40) and face.confidence == 0.75
    res = ImageResult((face,), 64, 48, "yunet", "m", ("happy", "sad"))
    d = res.to_dict()
    assert d["faces"][0] == {"box": [2, 2, 30, 40], "score": 0.9, "emotion": "sad",
                             "probabilities": {"happy": 0.25, "sad": 0.75}}
    assert (d["width"], d["height"], d["detector"]) == (64, 48, "yunet")
    with pytest.raises(ValueError, match="not among the labels"):
        FaceResult((0, 0, 1, 1), 1.0, "angry", {"happy": 1.0})
    with pytest.raises(ValueError, match="positive size"):
        ImageResult((), 0, 10, "haar", "m", ())


@pytest.mark.parametrize("kwargs, message", [
    ({"detector": "mtcnn"}, "detector must be one of"),
    ({"backend": "cuda"}, "backend must be one of"),
    ({"min_face": 0}, "min_face"),
    ({"min_face": 2.5}, "min_face"),
    ({"threshold": 1.0}, "threshold"),
    ({"threshold": "high"}, "threshold"),
    ({"max_side": 10}, "max_side"),
    ({"margin": -0.1}, "margin"),
    ({"model": "  "}, "model must be"),
    ({"mirror": "yes"}, "mirror must be True, False or None"),
])
def test_settings_validation(kwargs, message):
    with pytest.raises(SettingsError, match=message):
        Settings(**kwargs)


def test_settings_frozen_hashable_and_from_args():
    import argparse

    s = Settings()
    with pytest.raises(AttributeError):
        s.model = "x"
    assert hash(s) == hash(Settings()) and s == Settings()
    args = argparse.Namespace(model="/m", detector="haar", face_model=None, backend="eager", min_face=40,
                              threshold=None, mirror=None, paths=["a.jpg"])
    got = Settings.from_args(args)
    assert (got.model, got.detector, got.backend, got.min_face, got.threshold) == ("/m", "haar", "eager", 40, 0.6)
    assert got.mirror is None  # as the checkpoint asks
    from emotion.cli import build_parser

    for flag, want in (([], None), (["--mirror"], True), (["--no-mirror"], False)):
        parsed = build_parser().parse_args(["image", "x.jpg", *flag])
        assert Settings.from_args(parsed).mirror is want
    assert s.replace(detector="yunet").detector == "yunet"


def test_the_face_table_gains_columns_stage_by_stage():
    found = Faces([[0, 0, 10, 10], [20, 20, 40, 50]], [0.9, 0.6])
    assert not found.scored and found.probs.shape == (2, 0) and found.track_ids.tolist() == [0, 0]
    with pytest.raises(ValueError, match="not been scored"):
        found.emotions
    scored = found.with_emotions(Emotions(("happy", "sad"), [[0.8, 0.2], [0.3, 0.7]]))
    tracked = scored.with_tracks([4, 5])
    assert found.probs.shape == (2, 0), "every step returns a new table"
    assert tracked.labels == ("happy", "sad") and tracked.track_ids.tolist() == [4, 5]
    assert [r.emotion for r in tracked.rows()] == ["happy", "sad"] and tracked.rows()[1].box == (20, 20, 40, 50)
    picked = tracked.select(np.array([False, True]))
    assert picked.track_ids.tolist() == [5] and picked.probs.tolist() == [[pytest.approx(0.3), pytest.approx(0.7)]]
    both = Faces.concat([tracked, picked])
    assert len(both) == 3 and both.track_ids.tolist() == [4, 5, 5]
    with pytest.raises(ValueError, match="expected 2 rows"):
        found.with_emotions(Emotions(("happy",), [[1.0]]))
    with pytest.raises(ValueError, match=r"Faces.probs: expected shape \(2, 2\)"):
        Faces(found.boxes, found.scores, ("happy", "sad"), [[1.0, 0.0]])


def test_an_image_result_keeps_the_table_it_was_built_from():
    table = Faces([[1, 2, 30, 40]], [0.8], ("happy", "sad"), [[0.25, 0.75]])
    res = ImageResult(table, 64, 48, "yunet", "m", ("happy", "sad"))
    assert res.table is table and res.faces[0].emotion == "sad" and res.faces[0].box == (1, 2, 30, 40)
    rows = ImageResult(res.faces, 64, 48, "yunet", "m", ("happy", "sad"))
    np.testing.assert_allclose(rows.table.probs, table.probs)
    with pytest.raises(ValueError, match="scored face table"):
        ImageResult(Faces([[0, 0, 1, 1]], [1.0]), 4, 4, "haar", "m", ())


def test_faces_keep_their_sample_through_every_step():
    faces = Faces([[0, 0, 10, 10], [20, 0, 30, 10]], [0.9, 0.8]).with_samples([4, 7])
    scored = faces.with_emotions(Emotions(("happy", "sad"), [[0.75, 0.25], [0.5, 0.5]]))
    assert scored.samples.tolist() == [4, 7]
    assert scored.with_tracks([1, 2]).scaled(2.0).select([1]).samples.tolist() == [7]
    assert Faces.concat([scored, scored.with_samples(9)]).samples.tolist() == [4, 7, 9, 9]
    assert Faces([[0, 0, 1, 1]], [0.5]).samples.tolist() == [0], "one image: sample 0"
    with pytest.raises(ValueError, match="Faces.samples"):
        Faces([[0, 0, 1, 1]], [0.5], samples=[1, 2])
