"""emotion.film.timeline: per-frame rows -> per-scene table, with every column the Film page exports."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emotion.film.shots import Cut, scenes_from_cuts
from emotion.film.observations import Observations
from emotion.film.timeline import (
    FRAME_COLUMNS_HEAD,
    FRAME_COLUMNS_TAIL,
    SCENE_COLUMNS_HEAD,
    SCENE_COLUMNS_TAIL,
    build_timeline,
    timecode,
)

LABELS = ("angry", "happy", "neutral", "sad")


def _obs():
    """Six samples at 4/s; scene 1 (0-1 s) has faces in three of four samples, scene 2 one of two.

    Sample 0 has a small sure face (happy) and a big doubtful one (neutral);
    samples 1 and 3 continue the small face; sample 4 (scene 2) has a sad face.
    """
    return Observations.from_columns(
        LABELS, 100, 100,
        sample_time=[0.0, 0.25, 0.5, 0.75, 1.0, 1.25], sample_frame=[0, 6, 12, 18, 25, 31],
        face_sample=[0, 0, 1, 3, 4],
        boxes=[[0, 0, 10, 10], [50, 50, 70, 70], [1, 1, 11, 11], [0, 0, 10, 10], [0, 0, 10, 10]],
        scores=[1.0, 0.5, 1.0, 1.0, 1.0],
        probs=[[0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]],
    )


def _timeline(**kw):
    scenes = scenes_from_cuts([Cut(1.0, 25)], 1.5, 37)
    return build_timeline(_obs(), scenes, key_times={1: 0.25}, **kw)


@pytest.mark.parametrize("seconds, text", [
    (0.0, "00:00:00.000"), (1.5, "00:00:01.500"), (59.9996, "00:01:00.000"), (3725.25, "01:02:05.250"),
    (None, ""), (float("nan"), ""),
])
def test_timecode(seconds, text):
    assert timecode(seconds) == text


def test_scene_rows_weight_faces_by_area_times_score():
    row = _timeline().rows[0]
    # Weights: small sure faces 100 * 1.0 each (three of them), the big doubtful one 400 * 0.5 = 200.
    total = 100 + 200 + 100 + 100
    assert row.probabilities["happy"] == pytest.approx(200 / total)
    assert row.probabilities["neutral"] == pytest.approx(200 / total)
    assert row.probabilities["angry"] == pytest.approx(100 / total)
    assert row.probabilities["sad"] == 0.0
    assert row.dominant_emotion == "happy" and row.dominant_share == pytest.approx(0.4)
    assert row.valence == pytest.approx(0.4 - 0.2)   # happy minus angry
    assert (row.sampled_frames, row.face_share, row.mean_faces) == (4, 0.75, 1.0)
    assert row.key_frame_s == 0.25


def test_peak_is_the_strongest_smoothed_non_neutral_moment():
    tl = _timeline(smoothing=0.0)
    row = tl.rows[0]
    assert row.peak_emotion in ("happy", "angry") and row.peak_probability == 1.0
    smoothed = _timeline(smoothing=0.25).rows[0]
    # With smoothing, the track happy, happy, angry (0, 0.25, 0.75 s) peaks on happy at its start.
    assert (smoothed.peak_emotion, smoothed.peak_time_s) == ("happy", 0.0)
    assert smoothed.peak_probability < 1.0


def test_scene_without_faces_has_zero_coverage_and_empty_emotions():
    obs = Observations.from_columns(LABELS, 64, 48, [0.0, 0.5, 1.0], [0, 12, 25], [], [], [], [])
    tl = build_timeline(obs, scenes_from_cuts([], 1.2, 30))
    (row,) = tl.rows
    assert (row.sampled_frames, row.face_share, row.mean_faces) == (3, 0.0, 0.0)
    assert row.dominant_emotion == "" and math.isnan(row.valence) and math.isnan(row.key_frame_s)
    table = tl.scene_table()
    assert table.loc[0, "dominant_emotion"] == "" and table["p_happy"].isna().all()
    assert tl.overall() == {"sampled_frames": 3, "faces": 0, "tracks": 0, "face_share": 0.0}


def test_scene_table_columns_and_values():
    table = _timeline().scene_table()
    expected = [*SCENE_COLUMNS_HEAD, *(f"p_{k}" for k in LABELS), *SCENE_COLUMNS_TAIL]
    assert list(table.columns) == expected
    assert table["scene"].tolist() == [1, 2]
    assert table["start_timecode"].tolist() == ["00:00:00.000", "00:00:01.000"]
    assert table["duration_s"].tolist() == [1.0, 0.5]
    assert table["dominant_emotion"].tolist() == ["happy", "sad"]
    assert table.loc[1, "valence"] == -1.0 and table.loc[1, "face_share"] == 0.5
    csv = table.to_csv(index=False)
    assert csv.splitlines()[0] == ",".join(expected)


def test_frame_table_has_a_row_per_face_and_per_empty_sample():
    table = _timeline().frame_table()
    expected = [*FRAME_COLUMNS_HEAD, *(f"p_{k}" for k in LABELS), *FRAME_COLUMNS_TAIL]
    assert list(table.columns) == expected
    assert len(table) == 5 + 2  # five faces, samples 2 and 5 without a face
    assert table["time_s"].tolist() == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25]
    assert table["faces"].tolist() == [2, 2, 1, 0, 1, 1, 0]
    assert table["scene"].tolist() == [1, 1, 1, 1, 1, 2, 2]
    assert table["track"].isna().tolist() == [False, False, False, True, False, False, True]
    assert table["emotion"].tolist() == ["happy", "neutral", "happy", "", "angry", "sad", ""]
    assert table.loc[0, "x2"] == 10.0 and table.loc[1, "score"] == 0.5


def test_series_is_the_weighted_mean_per_sampled_frame():
    series = _timeline(smoothing=0.0).series()
    assert series.loc[0, "happy"] == pytest.approx(100 / 300)   # small sure happy vs big doubtful neutral
    assert series.loc[0, "neutral"] == pytest.approx(200 / 300)
    assert np.isnan(series.loc[2, "happy"]) and series.loc[2, "faces"] == 0


@pytest.mark.parametrize("change, message", [
    ({"labels": ("joy",)}, "canonical"),
    ({"sample_frame": [0]}, "sample frames"),
    ({"boxes": [[0, 0, 1]] * 5}, "expected shape"),
    ({"face_sample": [0, 0, 1, 3, 9]}, "indices into the samples"),
    ({"sample_time": [0.0, 0.5, 0.25, 0.75, 1.0, 1.25]}, "increasing"),
    ({"width": 0}, "frame size"),
])
def test_observations_are_validated(change, message):
    obs = _obs()
    fields = {k: getattr(obs, k) for k in ("labels", "width", "height", "sample_time", "sample_frame",
                                            "face_sample", "boxes", "scores", "probs")}
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        Observations.from_columns(**fields)


def test_the_timeline_hands_out_the_films_face_table_with_track_ids():
    tl = _timeline()
    faces = tl.faces
    assert len(faces) == 5 and faces.labels == LABELS
    # the small face continues across samples 0, 1 and 3 (one track); the big doubtful one and scene 2's face differ
    ids = faces.track_ids.tolist()
    assert ids[0] == ids[2] == ids[3] and len({ids[0], ids[1], ids[4]}) == 3 and min(ids) >= 1
    np.testing.assert_array_equal(faces.boxes, tl.observations.boxes)
