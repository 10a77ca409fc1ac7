"""The live (webcam) pipeline without a browser: settings, frame callback, latest-wins hand-off, queues.

Frames are synthetic ``av.VideoFrame`` values with a bright square for a
"face" (see live_fakes.py). One test runs the real YuNet + tiny checkpoint.
Tracks, rolling history, recorder and ICE settings: test_live_tables.py.
"""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest

from emotion.errors import SettingsError
from emotion.live import FrameReport, LatestSlot, LiveBoard, LiveSession, LiveSettings, ResultQueue
from emotion.live import session as session_module
from emotion.settings import Settings
from live_fakes import LABELS, FakeClock, FakeDetector, frame_with_square, make_result


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
    ("analysis", {"model": "bundled"}, "analysis must be an emotion.settings.Settings"),
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


def test_overlay_numbers_faces_by_track_id_like_the_page():
    # A face is seen, leaves for longer than the track's time to live, and another face appears elsewhere:
    # it is track 2, and the video must say "2" as the page and its chart do, not "1" (its place among
    # the faces of this frame).
    from emotion.annotate import annotate

    clock = FakeClock()
    session = LiveSession(LiveSettings(track_ttl_s=1.0), FakeDetector(), clock=clock, wall=clock, autostart=False)
    for x, wait in ((10, 0.0), (None, 0.5), (125, 2.0)):
        clock.advance(wait)
        rgb = np.full((120, 160, 3), 20, np.uint8) if x is None else frame_with_square(x, 30).to_ndarray(format="rgb24")
        session.submit(rgb)
        report = session.step()
    assert report.tracks == (2,)
    plain = frame_with_square(125, 30).to_ndarray(format="rgb24")
    drawn = session.overlay(plain)
    assert np.array_equal(drawn, annotate(plain, report.result, numbers=(2,)))
    assert not np.array_equal(drawn, annotate(plain, report.result))


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
    (dict(latency_ms=-1.0), "non-negative"),
    (dict(result="nope"), "expected an ImageResult"),
])
def test_frame_report_validates(kwargs, message):
    base = dict(index=0, time=1.0, result=make_result([(0, 0, 10, 10)]), latency_ms=1.0, inference_ms=1.0)
    base.update(kwargs)
    with pytest.raises(ValueError, match=message):
        FrameReport(**base)


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
