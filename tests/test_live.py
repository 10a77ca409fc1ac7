"""The live (webcam) pipeline without a browser: callback, hand-off, queue, tracks, rolling chart, recorder.

Frames are synthetic ``av.VideoFrame`` values with a bright square for a
"face"; a fake detector finds the square, so every expectation is computed
from what the test drew. One test runs the real YuNet + tiny checkpoint.
"""

from __future__ import annotations

import csv
import io
import math
import threading

import av
import numpy as np
import pytest

from emotion.errors import EmotionError, SettingsError
from emotion.live import (FaceTracker, FrameReport, LatestSlot, LiveBoard, LiveSession, LiveSettings, LiveStats,
                          ResultQueue, RollingEmotions, SessionRecorder, rtc_configuration)
from emotion.live import session as session_module
from emotion.live.charts import rolling_figure, summary_figure, timeline_figure
from emotion.types import FaceResult, ImageResult, Settings

LABELS = ("happy", "sad", "neutral")


def frame_with_square(x: int, y: int, side: int = 40, w: int = 160, h: int = 120, fmt: str = "rgb24"):
    """A dark ``av.VideoFrame`` with a white square (the fake detector's "face") at (x, y)."""
    rgb = np.full((h, w, 3), 20, np.uint8)
    rgb[y:y + side, x:x + side] = 255
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return frame if fmt == "rgb24" else frame.reformat(format=fmt)


def make_result(boxes, probs=None, w=160, h=120, labels=LABELS) -> ImageResult:
    probs = probs or [dict(zip(labels, (0.7, 0.2, 0.1)))] * len(boxes)
    faces = tuple(FaceResult(tuple(b), 0.9, max(p, key=p.get), p) for b, p in zip(boxes, probs))
    return ImageResult(faces, w, h, "fake", "fake-model", labels)


class FakeDetector:
    """Finds the bright square in a frame; optional gate (blocks until set), cost (advances a fake clock)."""

    def __init__(self, probs=None, gate: threading.Event | None = None, clock=None, cost: float = 0.0,
                 fail_first: int = 0):
        self.probs = probs or dict(zip(LABELS, (0.7, 0.2, 0.1)))
        self.gate, self.clock, self.cost = gate, clock, cost
        self.fail_first = fail_first
        self.seen: list[np.ndarray] = []
        self.started = threading.Event()

    def analyze(self, rgb: np.ndarray) -> ImageResult:
        self.seen.append(rgb)
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10), "test gate never opened"
        if self.clock is not None:
            self.clock.advance(self.cost)
        if self.fail_first > 0:
            self.fail_first -= 1
            raise EmotionError("fake failure")
        ys, xs = np.nonzero(rgb[..., 0] > 200)
        boxes = [] if len(xs) == 0 else [(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)]
        return make_result(boxes, [self.probs] * len(boxes), w=rgb.shape[1], h=rgb.shape[0])


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def report(t: float, boxes=(), probs=None, tracks=None, index=0, latency=10.0, inference=8.0, dropped=0):
    boxes = list(boxes)
    return FrameReport(index=index, time=t, result=make_result(boxes, probs), latency_ms=latency,
                       tracks=tuple(tracks if tracks is not None else range(1, len(boxes) + 1)),
                       inference_ms=inference, dropped=dropped)


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("field, value, message", [
    ("window_s", 0, "window_s must be a number from 1"),
    ("window_s", "30", "window_s must be a number"),
    ("smoothing_s", -0.5, "smoothing_s"),
    ("track_iou", 0, "track_iou"),
    ("track_ttl_s", 100, "track_ttl_s"),
    ("queue_size", 0, "queue_size must be an integer from 1"),
    ("queue_size", 2.5, "queue_size"),
    ("show_score", "yes", "show_score"),
    ("analysis", {"model": "bundled"}, "analysis must be an emotion.types.Settings"),
])
def test_live_settings_reject_bad_values(field, value, message):
    with pytest.raises(SettingsError, match=message):
        LiveSettings(**{field: value})


def test_live_settings_are_frozen_and_replace_validates():
    s = LiveSettings(analysis=Settings(detector="haar"))
    with pytest.raises(AttributeError):
        s.window_s = 5  # type: ignore[misc]
    assert s.replace(window_s=10).window_s == 10.0
    with pytest.raises(SettingsError):
        s.replace(window_s=-1)


# ---------------------------------------------------------------- callback and hand-off


@pytest.mark.parametrize("fmt", ["rgb24", "yuv420p", "bgr24"])
def test_callback_returns_annotated_frame_after_analysis(fmt):
    det = FakeDetector()
    session = LiveSession(LiveSettings(), det, autostart=False)
    first = session.callback(frame_with_square(50, 30, fmt=fmt))
    assert isinstance(first, av.VideoFrame) and (first.width, first.height) == (160, 120)
    assert session.latest is None               # nothing analysed yet: the frame passes through unchanged
    rep = session.step()
    assert rep is not None and rep.index == 0 and len(rep.result.faces) == 1
    x1, y1, x2, y2 = rep.result.faces[0].box
    assert abs(x1 - 50) <= 2 and abs(y1 - 30) <= 2 and abs(x2 - 90) <= 2 and abs(y2 - 70) <= 2
    assert rep.tracks == (1,)
    plain = frame_with_square(50, 30, fmt=fmt).to_ndarray(format="rgb24")
    out = session.callback(frame_with_square(50, 30, fmt=fmt)).to_ndarray(format="rgb24")
    changed = np.any(out != plain, axis=2)
    assert changed.any(), "the latest result should be drawn on the next frame"
    assert changed[50, 50] and changed[30, 70]  # the box outline (left and top edges) is drawn
    assert not changed[74:].any()               # nothing below the box: the label goes above it
    assert session.drain() == [rep]


def test_overlay_skips_a_result_of_another_frame_size():
    session = LiveSession(LiveSettings(), FakeDetector(), autostart=False)
    session.submit(frame_with_square(10, 10).to_ndarray(format="rgb24"))
    session.step()
    bigger = np.zeros((240, 320, 3), np.uint8)
    assert session.overlay(bigger) is bigger


def test_step_without_a_frame_returns_none():
    session = LiveSession(LiveSettings(), FakeDetector())
    assert session.step(timeout=0.01) is None


def test_latest_frame_wins_and_latency_stays_bounded():
    """Ten frames arrive per analysis time: each round analyses the newest, latency stays one analysis time."""
    clock = FakeClock()
    det = FakeDetector(clock=clock, cost=0.050)
    session = LiveSession(LiveSettings(), det, clock=clock, wall=clock, autostart=False)
    latencies = []
    for round_ in range(20):
        for i in range(10):                     # 10 ms apart: 100 fps camera against a 20 fps model
            session.submit(frame_with_square(5 + i, 5).to_ndarray(format="rgb24"))
            clock.advance(0.010)
        rep = session.step()
        assert rep.index == round_ * 10 + 9     # the newest of the burst
        assert session.step() is None           # nothing older is left behind
        latencies.append(rep.latency_ms)
    assert session.dropped == 20 * 9
    assert session.received == 200
    # 10 ms waiting after the newest frame + 50 ms analysis, every round; a FIFO would grow without bound
    assert latencies == pytest.approx([60.0] * 20)
    assert [r.index for r in session.drain()] == [r * 10 + 9 for r in range(20)]


def test_analysis_thread_takes_the_newest_frame_while_busy():
    gate = threading.Event()
    det = FakeDetector(gate=gate)
    session = LiveSession(LiveSettings(), det)
    try:
        session.submit(frame_with_square(0, 0).to_ndarray(format="rgb24"))
        assert det.started.wait(5)              # the thread is inside analyze() with frame 0
        for i in range(1, 10):
            session.submit(frame_with_square(i, 0).to_ndarray(format="rgb24"))
        gate.set()
        reports = []
        for _ in range(100):
            reports += session.drain()
            if len(reports) >= 2:
                break
            threading.Event().wait(0.05)
        assert [r.index for r in reports] == [0, 9]
        assert session.dropped == 8
        assert len(det.seen) == 2
    finally:
        gate.set()
        session.stop()
    assert not session.running


def test_analysis_thread_survives_errors_and_exits_when_idle(monkeypatch):
    monkeypatch.setattr(session_module, "IDLE_EXIT_S", 0.3)
    det = FakeDetector(fail_first=1)
    session = LiveSession(LiveSettings(), det)
    session.submit(frame_with_square(0, 0).to_ndarray(format="rgb24"))
    for _ in range(100):
        if session.last_error:
            break
        threading.Event().wait(0.02)
    assert session.last_error == "EmotionError: fake failure"
    session.submit(frame_with_square(0, 0).to_ndarray(format="rgb24"))
    for _ in range(100):
        if session.latest is not None:
            break
        threading.Event().wait(0.02)
    assert session.latest is not None and session.last_error is None
    for _ in range(100):                        # no frames: the thread ends by itself
        if not session.running:
            break
        threading.Event().wait(0.05)
    assert not session.running
    session.submit(frame_with_square(3, 3).to_ndarray(format="rgb24"))
    assert session.running                      # and a new frame starts it again
    session.stop()


def test_configure_swaps_settings_and_detector():
    a, b = FakeDetector(), FakeDetector(probs=dict(zip(LABELS, (0.1, 0.8, 0.1))))
    session = LiveSession(LiveSettings(), a, autostart=False)
    session.configure(LiveSettings(show_score=False), b)
    session.submit(frame_with_square(0, 0).to_ndarray(format="rgb24"))
    rep = session.step()
    assert len(a.seen) == 0 and len(b.seen) == 1
    assert rep.result.faces[0].emotion == "sad"
    assert session.settings.show_score is False
    with pytest.raises(TypeError):
        session.configure({"show_score": False}, b)


@pytest.mark.parametrize("maxsize, n", [(1, 1), (1, 5), (3, 2), (3, 10)])
def test_result_queue_keeps_the_newest(maxsize, n):
    q = ResultQueue(maxsize)
    for i in range(n):
        q.put(i)
    assert len(q) == min(n, maxsize)
    assert q.drain() == list(range(max(0, n - maxsize), n))
    assert q.dropped == max(0, n - maxsize)
    assert q.drain() == []


def test_results_queue_is_bounded_by_settings():
    session = LiveSession(LiveSettings(queue_size=3), FakeDetector(), autostart=False)
    for i in range(5):
        session.submit(frame_with_square(i, 0).to_ndarray(format="rgb24"))
        session.step()
    assert [r.index for r in session.drain()] == [2, 3, 4]
    assert session.results.dropped == 2


def test_latest_slot_take_times_out_and_counts_replacements():
    slot = LatestSlot()
    assert slot.take(0.01) is None
    for i in range(4):
        slot.put(i)
    assert len(slot) == 1 and slot.dropped == 3
    assert slot.take(0) == 3 and len(slot) == 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(tracks=(1, 2)), "one id per face"),
    (dict(latency_ms=-1.0), "non-negative"),
    (dict(result="nope"), "expected an ImageResult"),
])
def test_frame_report_validates(kwargs, message):
    base = dict(index=0, time=1.0, result=make_result([(0, 0, 10, 10)]), tracks=(1,), latency_ms=1.0,
                inference_ms=1.0)
    base.update(kwargs)
    with pytest.raises(ValueError, match=message):
        FrameReport(**base)


# ---------------------------------------------------------------- tracking


@pytest.mark.parametrize("frames, expected", [
    ([([(0, 0, 10, 10)], 0.0), ([(1, 1, 11, 11)], 0.1)], [(1,), (1,)]),                       # small move
    ([([(0, 0, 10, 10)], 0.0), ([(50, 50, 60, 60)], 0.1)], [(1,), (2,)]),                     # elsewhere
    ([([(0, 0, 10, 10)], 0.0), ([(0, 0, 10, 10)], 5.0)], [(1,), (2,)]),                       # gone too long
    ([([(0, 0, 10, 10), (50, 0, 60, 10)], 0.0), ([(51, 0, 61, 10), (1, 0, 11, 10)], 0.1)],
     [(1, 2), (2, 1)]),                                                                        # order swapped
    ([([(0, 0, 10, 10)], 0.0), ([], 0.5), ([(0, 0, 10, 10)], 1.0)], [(1,), (), (1,)]),       # brief miss
])
def test_face_tracker(frames, expected):
    tracker = FaceTracker(iou=0.3, ttl_s=2.0)
    assert [tracker.update(boxes, t) for boxes, t in frames] == expected


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
    other = FrameReport(0, 2.0, make_result([(0, 0, 10, 10)], [dict(angry=0.5, fear=0.5)], labels=("angry", "fear")),
                        (1,), 1.0, 1.0)
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


def test_board_pumps_reports_into_history_speed_and_recording():
    clock = FakeClock(2000.0)
    session = LiveSession(LiveSettings(), FakeDetector(clock=clock, cost=0.02), clock=clock, wall=clock,
                          autostart=False)
    board = LiveBoard(session.settings)
    board.start_recording(clock())
    for i in range(30):
        session.submit(frame_with_square(10 + i, 10).to_ndarray(format="rgb24"))
        session.step()
        clock.advance(0.08)                 # 10 frames/s
        if i % 7 == 0:
            board.pump(session)
    recording = board.stop_recording(session, clock())
    assert board.reports == 30
    assert board.rolling.current()[1][0] == "happy"
    assert board.stats.snapshot().analysed_fps == pytest.approx(10.0)
    assert sum(r.frames for r in recording.rows) == 30
    assert {r.second for r in recording.rows} == {0, 1, 2}
    assert {r.track for r in recording.rows} == {1}      # the square moved slowly: one track


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
    assert len(timeline_figure(recording).data) == len(LABELS)


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


# ---------------------------------------------------------------- real detector


def test_real_detector_through_the_callback(tiny_model, yunet_path, photo):
    """YuNet + the tiny real checkpoint: a photo sent as a video frame comes back annotated with a face."""
    from emotion.detector import EmotionDetector
    from emotion.faces import make_face_detector
    from emotion.media import load_image

    rgb = load_image(photo("faceapi_happy.jpg"))  # skips when ../shared/data is absent
    h, w = rgb.shape[:2]
    rgb = np.ascontiguousarray(rgb[: h - h % 2, : w - w % 2])     # yuv420p needs even sizes
    det = EmotionDetector(make_face_detector("yunet", str(yunet_path)), tiny_model)
    session = LiveSession(LiveSettings(), det, autostart=False)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    session.callback(frame)
    rep = session.step()
    assert len(rep.result.faces) >= 1 and rep.result.labels == tiny_model.labels
    assert rep.tracks == tuple(range(1, len(rep.result.faces) + 1))
    out = session.callback(frame).to_ndarray(format="rgb24")
    assert np.any(out != frame.to_ndarray(format="rgb24"))
