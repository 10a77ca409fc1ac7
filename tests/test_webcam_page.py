"""The Webcam page under Streamlit's AppTest, with ``webrtc_streamer`` replaced by a stand-in.

streamlit-webrtc needs a real Streamlit server and browser (see
test_webcam_browser.py for that). Here the stand-in records what the page
passes to it and lets the test push real video frames through the page's own
``video_frame_callback``, so the wiring page -> LiveSession -> detector ->
page is tested with the real tiny checkpoint and YuNet.
"""

from __future__ import annotations

import time
import types
from pathlib import Path

import av
import numpy as np
import pytest

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "2_Webcam.py")


class FakeStreamer:
    """Stands in for ``webrtc_streamer``: remembers its arguments, reports ``playing`` as the test says."""

    def __init__(self):
        self.playing = False
        self.kwargs: dict = {}

    def __call__(self, key, **kwargs):
        self.key, self.kwargs = key, kwargs
        return types.SimpleNamespace(state=types.SimpleNamespace(playing=self.playing, signalling=False))

    def send(self, rgb: np.ndarray):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        return self.kwargs["video_frame_callback"](frame)


@pytest.fixture
def streamer(monkeypatch, tiny_checkpoint, yunet_path):
    import streamlit_webrtc

    fake = FakeStreamer()
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", fake)
    monkeypatch.setenv("EMOTION_MODEL", str(tiny_checkpoint))
    monkeypatch.setenv("EMOTION_FACE_MODEL", str(yunet_path))
    for name in ("EMOTION_ICE_SERVERS", "EMOTION_RTC_CONFIGURATION"):
        monkeypatch.delenv(name, raising=False)
    return fake


def app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(PAGE, default_timeout=120)


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [s.value for s in at.subheader]
    return "\n".join(parts)


def session_of(at):
    return at.session_state["webcam.session"]


def face_frame(photo) -> np.ndarray:
    from emotion.media import load_image

    rgb = load_image(photo("faceapi_happy.jpg"))
    h, w = rgb.shape[:2]
    return np.ascontiguousarray(rgb[: h - h % 2, : w - w % 2])


def wait_for_reports(session, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(session.results) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(session.results) >= n, "the analysis thread produced no report"


def test_page_idle_states_privacy_and_is_offline(streamer):
    at = app().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "No video frame is ever written to disk" in texts(at)
    assert streamer.kwargs["rtc_configuration"] == {"iceServers": []}
    assert streamer.kwargs["media_stream_constraints"]["audio"] is False
    assert callable(streamer.kwargs["video_frame_callback"])
    assert [b.label for b in at.button] == ["Record session"]
    assert "Press **START**" in texts(at)


def test_page_takes_ice_servers_from_the_environment(streamer, monkeypatch):
    monkeypatch.setenv("EMOTION_ICE_SERVERS", "stun:stun.example.org:3478")
    at = app().run()
    assert streamer.kwargs["rtc_configuration"] == {"iceServers": [{"urls": ["stun:stun.example.org:3478"]}]}
    assert "EMOTION_ICE_SERVERS" in texts(at)


def test_page_warns_and_stays_offline_on_a_bad_ice_setting(streamer, monkeypatch):
    monkeypatch.setenv("EMOTION_RTC_CONFIGURATION", "{oops")
    at = app().run()
    assert streamer.kwargs["rtc_configuration"] == {"iceServers": []}
    assert any("EMOTION_RTC_CONFIGURATION is not valid JSON" in w.value for w in at.warning)


def test_live_options_survive_a_page_switch(streamer):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(PAGE).parents[1] / "app.py"), default_timeout=120).run()
    at.switch_page("views/2_Webcam.py").run()
    at.slider(key="_w.webcam.smoothing").set_value(2.5).run()
    at.checkbox(key="_w.webcam.show_score").uncheck().run()
    at.switch_page("views/1_Image.py").run()
    at.switch_page("views/2_Webcam.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.slider(key="_w.webcam.smoothing").value == 2.5
    assert at.checkbox(key="_w.webcam.show_score").value is False
    assert session_of(at).settings.smoothing_s == 2.5 and session_of(at).settings.show_score is False


def test_streaming_shows_face_emotion_speed_and_chart(streamer, photo):
    rgb = face_frame(photo)
    at = app().run()
    streamer.playing = True
    out = streamer.send(rgb)
    assert (out.width, out.height) == (rgb.shape[1], rgb.shape[0])
    wait_for_reports(session_of(at), 1)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    labels = session_of(at).latest.result.labels
    assert session_of(at).detector.face_detector.max_side == session_of(at).settings.detect_side == 320
    shown = texts(at)
    assert any(f"Face 1: {lab}" in shown for lab in labels), shown
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Analysed frames/s", "Camera frames/s", "Latency p50 / p95", "Frames skipped"}
    assert metrics["Latency p50 / p95"].endswith(" ms")
    assert len(at.get("plotly_chart")) == 1
    annotated = streamer.send(rgb).to_ndarray(format="rgb24")   # the next frame carries the boxes
    plain = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray(format="rgb24")
    assert np.any(annotated != plain)
    session_of(at).stop()


def test_record_session_gives_summary_and_csv(streamer, photo):
    rgb = face_frame(photo)
    streamer.playing = True
    at = app().run()
    at.button(key="webcam_rec_start").click().run()
    assert [b.label for b in at.button] == ["Stop recording"]
    session = session_of(at)
    for _ in range(3):
        streamer.send(rgb)
        wait_for_reports(session, 1)
        at.run()                                  # the page drains the reports into the recorder
    streamer.send(rgb)
    wait_for_reports(session, 1)                  # still queued: Stop must take it too
    board = at.session_state["webcam.board"]
    before = board.reports
    at.button(key="webcam_rec_stop").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert board.reports == before + 1
    rec = board.recording
    assert sum(r.frames for r in rec.face_rows) == 4
    assert "Recorded session" in texts(at)
    assert rec.to_csv().splitlines()[0].startswith("second,time_utc,track,frames,")
    assert len(at.get("download_button")) == 1
    assert len(at.get("plotly_chart")) == 3       # rolling chart, summary, timeline
    assert [b.label for b in at.button] == ["Record session"]
    session.stop()
