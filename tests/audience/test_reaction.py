"""Reactions from real face recordings: viewers, attention, the film's clock, cache and resume."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.audience import Reaction, analyze_reaction, sync_offset
from emotion.audience.viewers import attention, find_viewers
from emotion.errors import AnalysisCancelled, SettingsError
from emotion.settings import AudienceSettings

FRONT = [[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]]


def test_two_viewers_in_one_frame_are_two_viewers_numbered_from_the_left(shared_media, recordings,
                                                                           yunet_tiny_detector):
    path = recordings("two.mp4", 3.0, 24.0, 0.0, viewers=2)
    sync = sync_offset(shared_media.TRAILER, path, cache=False)
    reaction = analyze_reaction(path, sync, detector=yunet_tiny_detector, cache=False)
    assert reaction.viewers == 2 and reaction.sync == "audio" and reaction.confidence == sync.confidence
    assert reaction.face.mean(axis=1).min() > 0.9, "the looped face is seen nearly always"
    assert reaction.attentive.mean(axis=1).min() > 0.8, "a frontal face looks at the screen"
    assert len(reaction.recording_time) == pytest.approx(24 * 4, abs=2)
    assert np.allclose(reaction.film_time, reaction.recording_time - sync.offset_s)
    seen = reaction.probs[reaction.face]
    assert np.allclose(seen.sum(axis=1), 1, atol=1e-3) and np.isnan(reaction.probs[~reaction.face]).all()
    # Same face in both halves: the two viewers' traces match closely.
    assert np.nanmean(np.abs(reaction.probs[0] - reaction.probs[1])) < 0.05


def test_scan_is_cached_and_a_new_offset_costs_nothing(recordings, yunet_tiny_detector, tmp_path, monkeypatch):
    import emotion.audience.reaction as reaction_mod

    path = recordings("one.mp4", 1.0, 12.0, 0.0)
    first = analyze_reaction(path, 1.0, detector=yunet_tiny_detector, cache_dir=tmp_path)
    assert first.sync == "manual" and first.confidence is None and first.viewers == 1
    monkeypatch.setattr(reaction_mod, "scan_recording", lambda *a, **k: pytest.fail("scanned again"))
    again = analyze_reaction(path, -2.5, detector=yunet_tiny_detector, cache_dir=tmp_path)
    assert np.array_equal(again.probs, first.probs, equal_nan=True)
    assert np.allclose(again.film_time, first.film_time + 3.5)
    moved = first.with_offset(-2.5)
    assert np.allclose(moved.film_time, again.film_time) and moved.offset_s == -2.5


def test_cancelled_scan_resumes_where_it_stopped(recordings, yunet_tiny_detector, tmp_path):
    path = recordings("one.mp4", 1.0, 12.0, 0.0)
    calls = {"n": 0}

    def stop_after_40():   # the scan keeps whole chunks of 16 samples: 16 or 32 are kept here
        calls["n"] += 1
        return calls["n"] > 40

    with pytest.raises(AnalysisCancelled) as info:
        analyze_reaction(path, 0.0, detector=yunet_tiny_detector, cache_dir=tmp_path, cancel=stop_after_40)
    partial = info.value.partial
    assert isinstance(partial, Reaction) and len(partial.recording_time) in (16, 32)
    whole = analyze_reaction(path, 0.0, detector=yunet_tiny_detector, cache_dir=tmp_path)
    fresh = analyze_reaction(path, 0.0, detector=yunet_tiny_detector, cache=False)
    assert np.allclose(whole.recording_time, fresh.recording_time)
    assert np.allclose(whole.probs, fresh.probs, equal_nan=True, atol=1e-5)


def test_scoring_in_a_second_thread_gives_the_same_numbers(recordings, yunet_tiny_detector):
    path = recordings("one.mp4", 1.0, 12.0, 0.0)
    threaded = analyze_reaction(path, 0.0, detector=yunet_tiny_detector, cache=False)
    alone = analyze_reaction(path, 0.0, detector=yunet_tiny_detector, cache=False,
                             audience=AudienceSettings(threaded=False))
    assert len(threaded.recording_time) == 48 and threaded.face.mean() > 0.9
    assert np.array_equal(threaded.recording_time, alone.recording_time)
    assert np.array_equal(threaded.probs, alone.probs, equal_nan=True)


def test_bad_offset_fails_before_any_work(recordings, yunet_tiny_detector):
    with pytest.raises(SettingsError, match="number of seconds"):
        analyze_reaction(recordings("one.mp4", 1.0, 12.0, 0.0), "soon", detector=yunet_tiny_detector)


def test_yunet_keeps_five_landmarks_inside_each_face(shared_media):
    import av

    from emotion.faces import YuNetDetector

    with av.open(str(shared_media.FACE_VIDEO)) as c:
        rgb = next(c.decode(video=0)).to_ndarray(format="rgb24")
    faces = YuNetDetector(shared_media.YUNET).detect(rgb)
    assert faces.landmarks is not None and faces.landmarks.shape == (len(faces), 5, 2) and len(faces) == 1
    (x1, y1, x2, y2), marks = faces.boxes[0], faces.landmarks[0]
    assert ((marks[:, 0] > x1) & (marks[:, 0] < x2) & (marks[:, 1] > y1) & (marks[:, 1] < y2)).all()
    assert marks[0, 0] < marks[1, 0] and marks[0, 1] < marks[3, 1], "right eye left of left eye, above the mouth"
    half = faces.scaled(0.5)
    assert np.allclose(half.landmarks, marks[None] * 0.5) and faces.select([0]).landmarks.shape == (1, 5, 2)


@pytest.mark.parametrize("nose_x, nose_y, looking", [
    (50, 60, True),      # frontal
    (56, 60, True),      # slightly turned
    (72, 60, False),     # turned away: nose beyond the left eye's half
    (50, 43, False),     # head thrown back: nose level with the eyes
    (50, 79, False),     # looking down at a phone: nose at the mouth
])
def test_attention_from_landmarks(nose_x, nose_y, looking):
    marks = np.array([FRONT], np.float32)
    marks[0, 2] = (nose_x, nose_y)
    assert attention(marks, 0.4).tolist() == [looking]
    assert attention(np.full((1, 5, 2), np.nan), 0.4).tolist() == [True], "no landmarks (Haar): a frontal face"


def _rows(*tracks):
    """Face rows from (times, box) tracks, ordered by sample as a scan gives them."""
    times = sorted({t for ts, _ in tracks for t in ts})
    rows = sorted(((times.index(t), box) for ts, box in tracks for t in ts), key=lambda r: r[0])
    return np.array(times), np.array([r[0] for r in rows]), np.array([r[1] for r in rows], np.float64)


def test_a_track_that_breaks_and_resumes_is_one_viewer():
    left, right = [10, 10, 50, 50], [200, 10, 240, 50]
    t, sample, boxes = _rows((np.arange(0, 20, 0.25), left), (np.arange(40, 60, 0.25), [12, 11, 52, 51]),
                             (np.arange(0, 60, 0.25), right), (np.arange(30, 30.5, 0.25), [400, 10, 440, 50]))
    viewer, count = find_viewers(t, sample, boxes, fps=4, min_viewer_s=5)
    assert count == 2, "the left face is stitched over its 20 s gap; the half-second face is no viewer"
    by_box = {tuple(b): v for b, v in zip(boxes.tolist(), viewer.tolist())}
    assert by_box[tuple(map(float, left))] == by_box[(12.0, 11.0, 52.0, 51.0)] == 1
    assert by_box[tuple(map(float, right))] == 2 and by_box[(400.0, 10.0, 440.0, 50.0)] == 0


def test_tracks_far_apart_or_too_late_are_not_stitched():
    t, sample, boxes = _rows((np.arange(0, 20, 0.25), [10, 10, 50, 50]), (np.arange(40, 60, 0.25), [150, 10, 190, 50]))
    assert find_viewers(t, sample, boxes, fps=4, min_viewer_s=5)[1] == 2
    t, sample, boxes = _rows((np.arange(0, 20, 0.25), [10, 10, 50, 50]), (np.arange(40, 60, 0.25), [10, 10, 50, 50]))
    assert find_viewers(t, sample, boxes, fps=4, min_viewer_s=5, stitch_gap_s=10)[1] == 2


def test_audience_settings_are_validated():
    with pytest.raises(SettingsError, match="attention_yaw"):
        AudienceSettings(attention_yaw=0)
