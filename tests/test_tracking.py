"""emotion.tracking: IoU tracks within a scene, Gaussian smoothing per track."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.tracking import assign_tracks, iou_matrix, match_boxes, smooth_tracks


@pytest.mark.parametrize("a, b, expected", [
    ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
    ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
    ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
    ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),
])
def test_iou(a, b, expected):
    assert iou_matrix([a], [b])[0, 0] == pytest.approx(expected)


@pytest.mark.parametrize("boxes, previous, ids, expected", [
    ([[1, 0, 11, 10]], [[0, 0, 10, 10]], [7], [7]),                                   # small move keeps the id
    ([[8, 0, 18, 10]], [[0, 0, 10, 10]], [7], [None]),                                # overlap below 0.3
    ([[5, 0, 15, 10], [1, 0, 11, 10]], [[0, 0, 10, 10], [6, 0, 16, 10]], [1, 2], [2, 1]),  # best pair first
    ([[0, 0, 10, 10], [0, 0, 10, 10]], [[0, 0, 10, 10]], [4], [4, None]),              # one previous box, once
    ([], [[0, 0, 10, 10]], [1], []),
    ([[0, 0, 10, 10]], np.zeros((0, 4)), [], [None]),
])
def test_match_boxes(boxes, previous, ids, expected):
    assert match_boxes(boxes, previous, ids, iou=0.3) == expected


def test_match_boxes_needs_one_id_per_previous_box():
    with pytest.raises(ValueError, match="one per id"):
        match_boxes([[0, 0, 10, 10]], [[0, 0, 10, 10]] * 2, [1], iou=0.3)


def test_the_webcam_tracker_is_the_one_in_emotion_tracking():
    import emotion.live as live
    from emotion.tracking import FaceTracker

    assert live.FaceTracker is FaceTracker


def test_a_face_that_moves_a_little_keeps_its_track_and_a_new_one_gets_a_new_id():
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [2, 0, 12, 10], [51, 50, 61, 60]]
    tracks = assign_tracks(sample=[0, 1, 1, 2, 2], time=[0, 0.25, 0.25, 0.5, 0.5], scene=[1] * 5, boxes=boxes)
    assert tracks.tolist() == [1, 1, 2, 1, 2]


@pytest.mark.parametrize("scene, time, expected", [
    ([1, 2], [0.0, 0.25], [1, 2]),      # a cut starts new tracks even for the same box
    ([1, 1], [0.0, 3.0], [1, 2]),       # a face gone longer than max_gap is a new track
    ([1, 1], [0.0, 0.75], [1, 1]),
])
def test_tracks_break_at_cuts_and_long_gaps(scene, time, expected):
    tracks = assign_tracks(sample=[0, 1], time=time, scene=scene, boxes=[[0, 0, 10, 10]] * 2, max_gap=1.0)
    assert tracks.tolist() == expected


def test_two_faces_crossing_are_matched_best_overlap_first():
    # Two overlapping faces; in the next frame they are listed in the other order. Each new box
    # overlaps both old ones above the threshold, so only best-pair-first matching gets them right.
    boxes = [[0, 0, 10, 10], [6, 0, 16, 10], [5, 0, 15, 10], [1, 0, 11, 10]]
    tracks = assign_tracks(sample=[0, 0, 1, 1], time=[0, 0, 0.25, 0.25], scene=[1] * 4, boxes=boxes)
    assert tracks.tolist() == [1, 2, 2, 1]


def test_rows_must_be_ordered_and_equal_length():
    with pytest.raises(ValueError, match="ordered by sample"):
        assign_tracks([1, 0], [0, 0], [1, 1], [[0, 0, 1, 1]] * 2)
    with pytest.raises(ValueError, match="equal lengths"):
        assign_tracks([0], [0, 1], [1], [[0, 0, 1, 1]])
    assert assign_tracks([], [], [], np.zeros((0, 4))).shape == (0,)


def test_smoothing_averages_within_a_track_only_and_keeps_rows_normalised():
    track = [1, 1, 1, 2]
    time = [0.0, 0.25, 0.5, 0.25]
    probs = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], np.float32)
    out = smooth_tracks(track, time, probs, sigma=0.25)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
    w = np.exp(-0.5 * np.array([0, 1, 4]))  # weights at 0, 1 and 2 sigma
    assert out[0, 0] == pytest.approx((w[0] + w[2]) / w.sum(), abs=1e-6)
    assert out[1, 1] == pytest.approx(w[0] / (w[0] + 2 * w[1]), abs=1e-6)
    np.testing.assert_array_equal(out[3], [0, 1])  # track 2 alone: unchanged


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_smoothing_off_or_single_sample_is_identity(sigma):
    probs = np.array([[0.2, 0.8]], np.float32)
    np.testing.assert_array_equal(smooth_tracks([1], [0.0], probs, sigma=sigma), probs)


def test_samples_beyond_three_sigma_do_not_mix():
    out = smooth_tracks([1, 1], [0.0, 10.0], np.array([[1, 0], [0, 1]], np.float32), sigma=0.5)
    np.testing.assert_array_equal(out, [[1, 0], [0, 1]])


def test_long_tracks_are_smoothed_in_blocks_like_short_ones():
    rng = np.random.default_rng(0)
    n = 700
    time = np.arange(n) * 0.25
    probs = rng.dirichlet(np.ones(3), n).astype(np.float32)
    out = smooth_tracks(np.ones(n, int), time, probs, sigma=0.5)
    d = time[:, None] - time[None, :]
    w = np.exp(-0.5 * (d / 0.5) ** 2) * (np.abs(d) <= 1.5)
    np.testing.assert_allclose(out, (w @ probs) / w.sum(axis=1, keepdims=True), atol=1e-5)
