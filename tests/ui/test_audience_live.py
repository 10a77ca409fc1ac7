"""The Audience page's live screening under AppTest, with the WebRTC stream replaced by a stand-in.

The stand-in keeps the page's callbacks, so the test plays the film (asks
for film frames), sends real face frames as the camera, pauses, jumps, saves
the reaction and checks it reaches the panel: page -> LiveScreening -> YuNet
+ tiny model -> panel. The real stream is in tests/test_audience_browser.py.
"""

from __future__ import annotations

import sys
import time
import types
from fractions import Fraction
from pathlib import Path

import av
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the media helpers live in tests/

import audience_media as media  # noqa: E402


class FakeStreamer:
    def __init__(self):
        self.playing = False
        self.kwargs: dict = {}

    def __call__(self, key, **kwargs):
        self.key, self.kwargs = key, kwargs
        return types.SimpleNamespace(state=types.SimpleNamespace(playing=self.playing, signalling=False))

    def film_frame(self):
        return self.kwargs["source_video_track"](0, Fraction(1, 90000))

    def film_sound(self):
        return self.kwargs["source_audio_track"](0, Fraction(1, 48000))

    def camera(self, rgb):
        self.kwargs["sink_video_track"](av.VideoFrame.from_ndarray(rgb, format="rgb24"))


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    reason = media.missing()
    if reason:
        pytest.skip(reason)
    film = media.write_film(tmp_path_factory.mktemp("live_page") / "short_film.mp4", 20.0)
    faces = []
    with av.open(str(media.FACE_VIDEO)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % 10 == 0:
                faces.append(frame.to_ndarray(format="rgb24"))
            if len(faces) == 6:
                break
    return film.read_bytes(), faces


@pytest.fixture
def page(open_page, monkeypatch):
    import streamlit_webrtc

    fake = FakeStreamer()
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", fake)
    for name in ("create_video_source_track", "create_audio_source_track", "create_video_sink_track"):
        monkeypatch.setattr(streamlit_webrtc, name, lambda callback, key, **kwargs: callback)
    monkeypatch.setenv("EMOTION_FACE_MODEL", str(media.YUNET))
    at = open_page("views/4_Audience.py")
    return at, fake


def _show(fake, screening, rgb):
    """One camera frame, a reading's interval after the last (the screening reads 4 a second), analysed."""
    from emotion.audience.live import READINGS_PER_S

    time.sleep(1.0 / READINGS_PER_S + 0.02)
    n = screening.stats().readings
    fake.camera(rgb)
    _wait_readings(screening, n + 1)


def _wait_readings(screening, n, timeout=60.0):
    deadline = time.monotonic() + timeout
    while screening.stats().readings < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return screening.stats().readings


def test_live_screening_is_stamped_paused_jumped_saved_and_paneled(page, material):
    at, fake = page
    film_bytes, faces = material
    at.file_uploader(key="audience.film_file").upload("short_film.mp4", film_bytes, "video/mp4").run()
    at.toggle(key="audience.live.on").set_value(True).run()
    assert not at.exception and "START" in " ".join(m.value for m in at.markdown)
    kwargs = fake.kwargs
    assert kwargs["media_stream_constraints"]["audio"] is False and kwargs["video_html_attrs"]["controls"] is False
    assert kwargs["rtc_configuration"] == {"iceServers": []}

    fake.playing = True
    at.run()
    screening = at.session_state["audience.live.screening"]
    assert fake.film_frame().width == 96                      # the first film frame starts the film
    assert screening.clock.playing
    for rgb in faces[:3]:
        _show(fake, screening, rgb)
    assert screening.stats().readings == 3 and screening.stats().with_face == 3
    sound = fake.film_sound()
    assert sound.samples == 960 and sound.sample_rate == 48000

    at.run()                                                    # the page's refresh: the film is playing
    assert "Playing" in " ".join(m.value for m in at.markdown)
    at.button(key="audience.live.toggle").click().run()         # pause
    assert not screening.clock.playing and "Paused" in " ".join(m.value for m in at.markdown)
    fake.camera(faces[3])
    assert screening.stats().paused_frames == 1
    assert not fake.film_sound().to_ndarray().any()             # silence while paused

    at.number_input(key="audience.live.target").set_value(15.0)
    at.button(key="audience.live.jump").click().run()
    at.button(key="audience.live.toggle").click().run()         # play on from 15 s
    assert screening.clock.playing and 15.0 <= screening.clock.position() < 16.0
    for rgb in faces[3:]:
        _show(fake, screening, rgb)

    at.button(key="audience.live.save").click().run()
    assert not at.exception
    (reaction,) = next(iter(at.session_state["audience.live.saved"].values()))
    assert reaction.name == "live-1" and reaction.sync == "live" and reaction.viewers == 1
    stamps = reaction.film_time
    assert len(stamps) == 6 and (stamps[:3] < 15).all() and ((stamps[3:] >= 15) & (stamps[3:] < 20)).all()
    assert "live-1" in " ".join(c.value for c in at.caption)

    next(b for b in at.button if b.label == "Analyse reactions").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Reactions"] == "1" and metrics["Viewers"] == "1"
    assert at.session_state["audience.live.screening"].name == "live-2"   # ready for the next viewer


def test_late_frame_warnings_are_summed_once_a_minute():
    """streamlit-webrtc logs every late film frame; the page turns that flood into one line a minute."""
    import logging

    from emotion.ui.audience_live import _SlowCallbackSummary

    f = _SlowCallbackSummary(every_s=60.0)

    def record(msg):
        return logging.LogRecord("streamlit_webrtc.source", logging.WARNING, __file__, 1, msg, (), None)

    late = "VideoSourceTrack: Video frame callback is too slow (52.0 ms > frame budget 41.7 ms)."
    passed = [f.filter(record(late)) for _ in range(500)]
    assert passed.count(True) == 1, "the first late frame is told, the next 499 within the minute are not"
    f._since -= 61
    summary = record(late)
    assert f.filter(summary) and summary.getMessage().startswith("500 film frames or sound slices were late")
    assert f.filter(record("something else entirely")), "other warnings pass"
