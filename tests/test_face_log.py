"""emotion.face_log: the one growing face log of the film pass and the reaction scan."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.face_log import FaceLog
from emotion.types import Faces

LABELS = ("happy", "neutral", "sad")


def _faces(boxes, scores, probs, landmarks=None) -> Faces:
    return Faces(np.asarray(boxes, np.float32).reshape(-1, 4), scores, LABELS, probs, landmarks=landmarks)


def _filled(landmarks: bool) -> FaceLog:
    log = FaceLog(LABELS, landmarks=landmarks)
    log.add(0, _faces([[0, 0, 10, 10]], [0.9], [[0.7, 0.2, 0.1]], [np.arange(10).reshape(5, 2)] if landmarks else None))
    log.add(1, Faces.empty())                                      # a sample without faces adds no row
    log.add(3, _faces([[1, 1, 9, 9], [20, 0, 30, 10]], [0.8, 0.6], [[0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]))
    return log


@pytest.mark.parametrize("landmarks, keys", [(False, ["face_sample", "boxes", "scores", "probs"]),
                                             (True, ["face_sample", "boxes", "scores", "landmarks", "probs"])])
def test_columns_join_under_the_checkpoint_keys_and_round_trip(landmarks, keys):
    log = _filled(landmarks)
    a = log.arrays()
    assert list(a) == keys and len(log) == 3
    assert a["face_sample"].tolist() == [0, 3, 3] and a["boxes"].shape == (3, 4) and a["probs"].shape == (3, 3)
    back = FaceLog.from_arrays(LABELS, a, landmarks=landmarks)
    assert len(back) == 3 and all(np.array_equal(back.arrays()[k], a[k], equal_nan=True) for k in keys)
    if landmarks:
        assert np.isnan(a["landmarks"][1:]).all() and a["landmarks"][0, 4, 1] == 9, "missing landmarks are NaN"


def test_an_empty_log_has_full_shaped_columns_and_an_empty_table():
    a = FaceLog(LABELS, landmarks=True).arrays()
    assert a["boxes"].shape == (0, 4) and a["landmarks"].shape == (0, 5, 2) and a["probs"].shape == (0, 3)
    assert len(FaceLog(LABELS).table()) == 0


def test_the_table_is_the_frozen_face_table_and_a_copy_is_independent():
    log = _filled(False)
    table = log.table()
    assert [r.emotion for r in table.rows()] == ["happy", "neutral", "sad"] and table.landmarks is None
    assert table.samples.tolist() == [0, 3, 3], "each face knows its sample"
    twin = log.copy()
    twin.add(4, _faces([[0, 0, 5, 5]], [0.5], [[1, 0, 0]]))
    assert len(twin) == 4 and len(log) == 3


def test_faces_must_be_scored_over_the_logs_labels():
    with pytest.raises(ValueError, match="scored over"):
        FaceLog(LABELS).add(0, Faces([[0, 0, 1, 1]], [0.5], ("happy", "sad"), [[1, 0]]))
    with pytest.raises(ValueError, match="scored over"):
        FaceLog(LABELS).add(0, Faces([[0, 0, 1, 1]], [0.5]))              # not scored at all
