"""The live pipeline's bookkeeping: face tracks, rolling smoothed history, speed, recorder and CSV, charts, ICE.

Reports are built by hand (live_fakes.report), so every expected number is
computed from the probabilities and times the test chose.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from emotion.errors import SettingsError
from emotion.live import (FaceTracker, FrameReport, LiveStats, RollingEmotions, SessionRecorder,
                          rtc_configuration)
from emotion.live.charts import rolling_figure, summary_figure, recording_figure
from emotion.types import Faces
from live_fakes import LABELS, make_result, report, tracked


# ---------------------------------------------------------------- tracking


@pytest.mark.parametrize("frames, expected", [
    ([([(0, 0, 10, 10)], 0.0), ([(1, 1, 11, 11)], 0.1)], [(1,), (1,)]),                       # small move
    ([([(0, 0, 10, 10)], 0.0), ([(50, 50, 60, 60)], 0.1)], [(1,), (2,)]),                     # elsewhere
    ([([(0, 0, 10, 10)], 0.0), ([(0, 0, 10, 10)], 5.0)], [(1,), (1,)]),                       # back where lost
    ([([(0, 0, 10, 10)], 0.0), ([(0, 0, 10, 10)], 15.0)], [(1,), (2,)]),                      # gone too long
    ([([(0, 0, 10, 10)], 0.0), ([(80, 0, 90, 10)], 5.0)], [(1,), (2,)]),                      # back elsewhere
    ([([(0, 0, 10, 10), (50, 0, 60, 10)], 0.0), ([(51, 0, 61, 10), (1, 0, 11, 10)], 0.1)],
     [(1, 2), (2, 1)]),                                                                        # order swapped
    ([([(0, 0, 10, 10)], 0.0), ([], 0.5), ([(0, 0, 10, 10)], 1.0)], [(1,), (), (1,)]),       # brief miss
])
def test_face_tracker(frames, expected):
    tracker = FaceTracker(iou=0.3, ttl_s=2.0)
    assert [_ids(tracker, boxes, t) for boxes, t in frames] == expected


def _ids(tracker: FaceTracker, boxes, t: float) -> tuple[int, ...]:
    """The track ids the tracker gives a table of these boxes (the table comes back with them, rows unchanged)."""
    table = Faces(np.asarray(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32))
    out = tracker.update(table, t)
    assert np.array_equal(out.boxes, table.boxes) and np.array_equal(out.scores, table.scores)
    return tuple(int(i) for i in out.track_ids)


def test_one_person_on_a_busy_machine_is_one_face():
    """Field report: at 0.9 analysed frames/s one person became faces 2, 3, 5, 6 and 8."""
    rng = np.random.default_rng(3)
    tracker = FaceTracker(iou=0.3, ttl_s=2.0)
    ids, t, x = [], 0.0, 200.0
    for step in range(60):
        t += rng.uniform(0.8, 1.8)                       # 0.5-1.2 analysed frames a second
        x += rng.normal(0, 50)                           # a person leaning and turning: up to a face width
        x = float(np.clip(x, 50, 500))
        size = 120 * rng.uniform(0.9, 1.1)
        if step % 11 == 5:                               # the detector misses them for a few frames
            t += 3.0
            continue
        ids += _ids(tracker, [(x, 100, x + size, 100 + size)], t)
    assert set(ids) == {1}, f"one person, ids {sorted(set(ids))}"


def test_two_people_side_by_side_stay_two_faces_at_a_low_frame_rate():
    tracker = FaceTracker(iou=0.3, ttl_s=2.0)
    got = []
    for i in range(20):
        t = 1.1 * i
        left, right = (100 + 10 * (i % 3), 100, 220 + 10 * (i % 3), 220), (260, 100, 380, 220)
        boxes = [left, right] if i % 4 != 3 else [right]  # the left one is missed now and then
        got.append(_ids(tracker, boxes, t))
    assert {ids for ids in got if len(ids) == 2} == {(1, 2)} and {ids for ids in got if len(ids) == 1} == {(2,)}


# ---------------------------------------------------------------- rolling aggregation and speed


def test_rolling_without_smoothing_follows_the_raw_probabilities():
    roll = RollingEmotions(window_s=30, smoothing_s=0)
    roll.add(report(100.0, [(0, 0, 10, 10)], [dict(happy=0.6, sad=0.3, neutral=0.1)]))
    roll.add(report(100.5, [(0, 0, 10, 10)], [dict(happy=0.1, sad=0.8, neutral=0.1)]))
    assert roll.labels == ("happy", "sad", "neutral")
    assert roll.current()[1] == ("sad", pytest.approx(0.8))


def test_rolling_smoothing_uses_a_time_constant():
    tau = 2.0
    roll = RollingEmotions(window_s=30, smoothing_s=tau)
    roll.add(report(100.0, [(0, 0, 10, 10)], [dict(happy=1.0, sad=0.0, neutral=0.0)]))
    roll.add(report(100.0 + tau, [(0, 0, 10, 10)], [dict(happy=0.0, sad=1.0, neutral=0.0)]))
    label, p = roll.current()[1]
    # after one time constant the curve has moved 1 - 1/e of the way
    assert label == "sad" and p == pytest.approx(1 - math.exp(-1))
    table = roll.table()
    assert list(table.columns) == ["track", "seconds", "emotion", "probability"]
    happy = table[(table.emotion == "happy")].sort_values("seconds")
    assert happy.probability.tolist() == pytest.approx([1.0, math.exp(-1)])
    assert happy.seconds.tolist() == pytest.approx([-tau, 0.0])


def test_rolling_window_forgets_old_points_and_tracks():
    roll = RollingEmotions(window_s=30, smoothing_s=0.5)
    for i in range(40):                      # track 1 for 40 s, track 2 only in the first 5 s
        boxes = [(0, 0, 10, 10)] + ([(50, 50, 60, 60)] if i < 5 else [])
        roll.add(report(1000.0 + i, boxes, tracks=[1, 2][:len(boxes)]))
    table = roll.table()
    assert table.seconds.min() >= -30
    assert set(table.track) == {1}
    assert roll.tracks == (1,)
    assert len(table) == 31 * len(LABELS)    # seconds -30..0 inclusive
    assert roll.current(max_age_s=2) == {1: ("happy", pytest.approx(0.7))}


def test_rolling_resets_when_the_model_labels_change():
    roll = RollingEmotions()
    roll.add(report(1.0, [(0, 0, 10, 10)]))
    other = FrameReport(0, 2.0, tracked(make_result([(0, 0, 10, 10)], [dict(angry=0.5, fear=0.5)],
                                                    labels=("angry", "fear")), (1,)), 1.0, 1.0)
    roll.add(other)
    assert roll.labels == ("angry", "fear")
    assert len(roll.table()) == 2


def test_live_stats_rates_and_percentiles():
    stats = LiveStats(window_s=5)
    for i in range(11):                      # 10 analysed frames/s, the camera sent 3 for each
        stats.add(report(50.0 + i * 0.1, index=i * 3, latency=10.0 + i, inference=5.0, dropped=i * 2))
    snap = stats.snapshot()
    assert snap.analysed_fps == pytest.approx(10.0)
    assert snap.camera_fps == pytest.approx(30.0)
    assert snap.latency_p50_ms == pytest.approx(15.0)
    assert snap.latency_p95_ms == pytest.approx(np.percentile(np.arange(10.0, 21.0), 95))
    assert snap.inference_p50_ms == 5.0 and snap.dropped == 20 and snap.frames == 11
    assert LiveStats().snapshot().analysed_fps == 0.0


# ---------------------------------------------------------------- recorder and CSV


def _recorded():
    rec = SessionRecorder()
    assert rec.add(report(999.0, [(0, 0, 10, 10)])) is False        # not recording yet
    rec.start(1000.0)
    assert rec.add(report(999.5, [(0, 0, 10, 10)])) is False        # from before the start
    a, b = dict(happy=0.8, sad=0.1, neutral=0.1), dict(happy=0.2, sad=0.7, neutral=0.1)
    rec.add(report(1000.1, [(0, 0, 10, 10), (50, 0, 60, 10)], [a, b], tracks=[1, 2]))
    rec.add(report(1000.6, [(0, 0, 10, 10)], [b], tracks=[1]))
    rec.add(report(1001.2, []))                                       # no face this frame
    rec.add(report(1002.4, [(0, 0, 10, 10)], [a], tracks=[1]))
    return rec, rec.stop(1003.0)


def test_recorder_per_second_rows():
    rec, recording = _recorded()
    assert not rec.recording
    assert recording.duration_s == pytest.approx(3.0)
    assert recording.labels == LABELS
    got = [(r.second, r.track, r.frames, tuple(round(p, 4) for p in r.probabilities)) for r in recording.rows]
    assert got == [(0, 1, 2, (0.5, 0.4, 0.1)), (0, 2, 1, (0.2, 0.7, 0.1)), (1, 0, 1, ()),
                   (2, 1, 1, (0.8, 0.1, 0.1))]
    summary = recording.summary()
    # frame-weighted: (2 * [.5,.4,.1] + [.2,.7,.1] + [.8,.1,.1]) / 4
    assert summary["mean"] == pytest.approx({"happy": 0.5, "sad": 0.4, "neutral": 0.1})
    assert summary["dominant"] == "happy"
    assert summary["dominant_share"] == pytest.approx({"happy": 2 / 3, "sad": 1 / 3, "neutral": 0.0})
    assert summary["seconds_with_faces"] == 2 and summary["tracks"] == 2 and summary["frames"] == 5


def test_recording_csv_round_trip():
    _, recording = _recorded()
    rows = list(csv.DictReader(io.StringIO(recording.to_csv())))
    assert list(rows[0]) == ["second", "time_utc", "track", "frames", *LABELS, "dominant"]
    assert rows[0]["time_utc"] == "1970-01-01T00:16:40+00:00"      # epoch 1000 s
    assert [(r["second"], r["track"], r["dominant"]) for r in rows] == [("0", "1", "happy"), ("0", "2", "sad"),
                                                                        ("1", "0", ""), ("2", "1", "happy")]
    assert float(rows[0]["sad"]) == pytest.approx(0.4)
    assert rows[2]["happy"] == ""                                     # no face: empty, not 0
    table = recording.table()
    assert len(table) == 4 and math.isnan(table.loc[2, "happy"])


def test_recorder_stop_without_start_and_empty_recording():
    rec = SessionRecorder()
    with pytest.raises(RuntimeError, match="not recording"):
        rec.stop(1.0)
    rec.start(10.0)
    empty = rec.stop(12.5)
    assert empty.rows == () and empty.to_csv().splitlines() == ["second,time_utc,track,frames,dominant"]
    assert empty.summary()["dominant"] == "" and empty.summary()["frames"] == 0


def test_charts_follow_the_data():
    roll = RollingEmotions(smoothing_s=0)
    for i in range(5):
        roll.add(report(10.0 + i, [(0, 0, 10, 10), (50, 0, 60, 10)], tracks=[1, 2]))
    fig = rolling_figure(roll)
    assert len(fig.data) == 2 * len(LABELS)
    assert {t.name for t in fig.data} == set(LABELS)
    assert list(fig.data[0].y) == pytest.approx([0.7] * 5)
    _, recording = _recorded()
    bars = summary_figure(recording).data[0]
    assert list(bars.x) == list(LABELS) and list(bars.y) == pytest.approx([0.5, 0.4, 0.1])
    assert len(recording_figure(recording).data) == len(LABELS)


# ---------------------------------------------------------------- ICE servers


@pytest.mark.parametrize("env, secrets, expected", [
    ({}, None, []),
    ({}, {"webrtc": {"ice_servers": [{"urls": "stun:stun.example.org:3478"}]}},
     [{"urls": ["stun:stun.example.org:3478"]}]),
    ({"EMOTION_ICE_SERVERS": "stun:a.example:3478, turn:b.example:3478", "EMOTION_TURN_USERNAME": "u",
      "EMOTION_TURN_CREDENTIAL": "p"}, None,
     [{"urls": ["stun:a.example:3478"]}, {"urls": ["turn:b.example:3478"], "username": "u", "credential": "p"}]),
    ({"EMOTION_RTC_CONFIGURATION": '{"iceServers": [{"urls": ["stun:c.example:19302"]}]}'},
     {"webrtc": {"ice_servers": [{"urls": "stun:ignored.example"}]}}, [{"urls": ["stun:c.example:19302"]}]),
    ({"EMOTION_ICE_SERVERS": '[{"urls": "turns:t.example:443", "username": "a", "credential": "b"}]'}, None,
     [{"urls": ["turns:t.example:443"], "username": "a", "credential": "b"}]),
])
def test_rtc_configuration_sources(env, secrets, expected):
    rtc = rtc_configuration(env=env, secrets=secrets)
    assert rtc.config["iceServers"] == expected
    assert rtc.offline == (expected == [])


@pytest.mark.parametrize("env, secrets, message", [
    ({"EMOTION_RTC_CONFIGURATION": "{not json"}, None, "not valid JSON"),
    ({"EMOTION_RTC_CONFIGURATION": "[]"}, None, "must be a JSON object"),
    ({"EMOTION_ICE_SERVERS": "http://example.org"}, None, "must start with stun:"),
    ({"EMOTION_ICE_SERVERS": "turn:t.example:3478"}, None, "needs 'username'"),
    ({}, {"webrtc": {"ice_servers": "stun:x"}}, "expected a list"),
    ({}, {"webrtc": "stun:x"}, r"\[webrtc\] must be a table"),
])
def test_rtc_configuration_rejects_bad_values(env, secrets, message):
    with pytest.raises(SettingsError, match=message):
        rtc_configuration(env=env, secrets=secrets)


def test_a_recordings_lengths_agree_everywhere():
    """Field report: "21 s ... Mean emotion over 21.0 s (faces in 11 of its 22 seconds)"."""
    from emotion.live.charts import summary_title

    rec = SessionRecorder()
    rec.start(1000.0)
    for k in range(22):                                            # a face in every second, and in the last 0.04 s
        rec.add(report(1000.0 + min(k, 21.02), [(0, 0, 10, 10)], tracks=[1]))
    recording = rec.stop(1021.04)
    summary = recording.summary()
    assert recording.seconds == 21 and summary["seconds"] == 21 and summary["seconds_with_faces"] == 21
    assert summary_title(summary) == "Mean emotion over 21 s (faces in 21 of its 21 seconds)"
    assert max(r.second for r in recording.rows) == 20 and summary["frames"] == 22, "no frame is lost"
