"""The Audience page's live screening: the film plays in the browser while the webcam is read.

One streamlit-webrtc connection carries both ways: the browser sends its
camera, the server sends the film back (picture and sound), decoded by the
server at the time of its own playback clock. So the server knows which
moment of the film is on show when each camera frame arrives, and stamps the
reading with it; pause and jump move that clock (see
:mod:`emotion.audience.live`). Saving keeps the readings as a reaction
("live-1", "live-2", ...) in the page's panel, beside the uploaded recordings:
numbers only, never a frame.
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from emotion.audience import AudienceSettings, Reaction
from emotion.audience.live import LiveScreening
from emotion.errors import EmotionError
from emotion.film.timeline import timecode

from .film_uploads import StoredUpload
from .loaders import Loaded
from .status import guarded
from .webcam_page import live_detector, live_settings, read_rtc

log = logging.getLogger(__name__)

_P = "audience.live."
#: Seconds between refreshes of the screening's status while the film plays.
REFRESH_S = 1.0
#: How far the skip buttons jump (seconds).
SKIP_S = 10.0
#: The film is streamed at its own rate up to this many frames a second.
MAX_FPS = 30.0


def saved(film: StoredUpload) -> list[Reaction]:
    """The live reactions kept for this film in this browser session."""
    return st.session_state.setdefault(f"{_P}saved", {}).setdefault(film.sha256, [])


def _screening(film: StoredUpload, loaded: Loaded) -> LiveScreening:
    """This session's screening of ``film`` (a new one for a new film, or after a save)."""
    current = st.session_state.get(f"{_P}screening")
    if current is not None and current.film == film.path:
        return current
    if current is not None:
        current.close()
    settings = live_settings(loaded.settings, 0.0, False)
    number = st.session_state.get(f"{_P}number", 0) + 1
    st.session_state[f"{_P}number"] = number
    screening = LiveScreening(film.path, live_detector(loaded, settings), settings, name=f"live-{number}")
    st.session_state[f"{_P}screening"] = screening
    return screening


_LATEST = "_emotion_latest_only"


class _SlowCallbackSummary(logging.Filter):
    """Turns streamlit-webrtc's "frame callback is too slow" warning, logged for every late frame (dozens a
    second on a busy 2-core server), into one line a minute that says how many frames were late."""

    def __init__(self, every_s: float = 60.0):
        super().__init__()
        self.every_s, self._late, self._since = every_s, 0, None

    def filter(self, record: logging.LogRecord) -> bool:
        if "callback is too slow" not in record.getMessage():
            return True
        now = time.monotonic()
        self._late += 1
        if self._since is not None and now - self._since < self.every_s:
            return False
        late, self._late, first = self._late, 0, self._since is None
        self._since = now
        text = record.getMessage()
        if first:
            record.msg, record.args = "%s (the first late frame; the next report comes in a minute)", (text,)
        else:
            record.msg, record.args = "%d film frames or sound slices were late in the last minute; the latest: %s", \
                (late, text)
        return True


def quiet_slow_callbacks() -> None:
    """Install :class:`_SlowCallbackSummary` on streamlit-webrtc's source logger (once per process)."""
    logger = logging.getLogger("streamlit_webrtc.source")
    if not any(isinstance(f, _SlowCallbackSummary) for f in logger.filters):
        logger.addFilter(_SlowCallbackSummary())


def latest_only(track, relay=None):
    """Mark a film track so the stream sends its newest frame, never a queue of old ones.

    streamlit-webrtc hands a source track to the connection through aiortc's ``MediaRelay``,
    whose default keeps every frame in an unbounded queue. When the server is short of CPU
    the encoder falls behind, the queue grows, and the viewer sees (and hears) the film
    seconds late while readings are stamped with the film time on the server's clock:
    ``benchmarks/bench_live_delay.py`` measured the lateness growing by 0.5-0.9 s every
    second on a busy 2-core server. A marked track is relayed with ``buffered=False``
    (aiortc's latest-frame mode): a slow encoder skips frames instead of falling behind.
    The relay is patched once per process, for marked tracks only; if a streamlit-webrtc
    release no longer has the relay this expects, the page says nothing and streams as before.
    """
    setattr(track, _LATEST, True)
    if relay is None:
        try:
            from streamlit_webrtc.relay import get_global_relay

            relay = get_global_relay()
        except Exception as exc:  # noqa: BLE001 - another streamlit-webrtc, or no server runtime (page tests)
            log.warning("the film's stream keeps streamlit-webrtc's buffered relay: %s", exc)
            return track
    if not getattr(relay, _LATEST, False):
        original = relay.subscribe

        def subscribe(source, buffered: bool = True):
            if getattr(source, _LATEST, False):
                proxy = original(source, buffered=False)
                setattr(proxy, _LATEST, True)   # relayed again on the way to the connection
                return proxy
            return original(source, buffered)

        relay.subscribe = subscribe
        setattr(relay, _LATEST, True)
    return track


def _callbacks(screening: LiveScreening):
    """The stream's three callbacks: film picture out, film sound out, camera in (plain values <-> av frames)."""
    import av

    def picture(pts, time_base):
        return av.VideoFrame.from_ndarray(screening.frame(), format="rgb24")

    def sound(pts, time_base):
        samples = screening.audio(960)          # 20 ms at 48 kHz, stereo
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = 48000
        return frame

    def camera(frame):   # converted only when a reading is due (4 a second); stamped by its own timestamp
        captured = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else None
        screening.camera(lambda: frame.to_ndarray(format="rgb24"), captured_s=captured)

    return picture, sound, camera


def _save(film: StoredUpload, screening: LiveScreening) -> None:
    try:
        reaction = screening.reaction(AudienceSettings(fps=4.0))
    except EmotionError as exc:
        st.session_state[f"{_P}problem"] = str(exc)
        return
    saved(film).append(reaction)
    screening.close()
    st.session_state.pop(f"{_P}screening", None)
    st.session_state[f"{_P}problem"] = None


def _jump(screening: LiveScreening) -> None:
    screening.clock.seek(float(st.session_state.get(f"{_P}target") or 0.0))


def _skip(screening: LiveScreening, seconds: float) -> None:
    screening.clock.seek(max(0.0, screening.clock.position() + seconds))


def _toggle(screening: LiveScreening) -> None:
    if screening.clock.playing:
        screening.clock.pause()
    else:
        screening.clock.play()


def controls(film: StoredUpload, screening: LiveScreening, streaming: bool) -> None:
    """Play/pause, skips, a jump to a time, the status line and Save; redrawn every second while streaming."""
    clock = screening.clock
    here = clock.position()
    if streaming and clock.playing:
        state = "Playing"
    elif clock.ended:
        state = "The film has ended: save the reaction"
    elif clock.started:
        state = "Paused"
    else:
        state = "Press **START** to begin the film" if not streaming else "Starting…"
    fps = float(getattr(screening.picture, "fps", 0.0) or 0.0)
    st.markdown(f"**{state}** · film time **{timecode(here, fps)}** of {timecode(clock.duration, fps)}")
    cols = st.columns([1.2, 1, 1, 2.2, 1])
    # Material icons ship with Streamlit: emoji would need a font the viewer's machine may lack
    playing = clock.playing
    cols[0].button("Pause" if playing else "Play", icon=":material/pause:" if playing else ":material/play_arrow:",
                   on_click=_toggle, args=(screening,), key=f"{_P}toggle", disabled=not clock.started,
                   use_container_width=True)
    cols[1].button(f"{SKIP_S:.0f} s", icon=":material/fast_rewind:", on_click=_skip, args=(screening, -SKIP_S),
                   key=f"{_P}back", use_container_width=True, help=f"back {SKIP_S:.0f} seconds")
    cols[2].button(f"{SKIP_S:.0f} s", icon=":material/fast_forward:", on_click=_skip, args=(screening, SKIP_S),
                   key=f"{_P}ahead", use_container_width=True, help=f"ahead {SKIP_S:.0f} seconds")
    target = cols[3].number_input("Jump to (s)", min_value=0.0, max_value=float(clock.duration), value=0.0,
                                  step=1.0, key=f"{_P}target", label_visibility="collapsed",
                                  help="a film time in seconds; press Jump")
    cols[4].button("Jump", on_click=_jump, args=(screening,), key=f"{_P}jump", use_container_width=True,
                   help=f"go to {timecode(target, fps)}")
    stats = screening.stats()
    seen = f"{stats.with_face / stats.readings:.0%}" if stats.readings else "–"
    aim = screening.readings_per_s
    slow = stats.readings >= 8 and stats.per_second < 0.8 * aim
    st.caption(f"{stats.readings} readings: **{stats.per_second:.1f} a second** of film played (the aim is {aim:g}), "
               f"a face in {seen}; {stats.paused_frames} camera frames skipped while the film was not playing, "
               f"{stats.between_frames} between readings."
               + (" This machine cannot read faster while it also plays the film: the panel uses the readings "
                  "made, at their own film times." if slow else "")
               + (f" Analysis problem: {screening.session.last_error}" if screening.session.last_error else ""))
    latest = screening.session.latest
    if streaming and latest is not None and latest.result.faces:
        face = max(latest.result.faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        st.caption(f"Now: {face.emotion} ({face.probabilities[face.emotion]:.0%})")
    if st.button(f"Save as reaction {screening.name}", icon=":material/save:", key=f"{_P}save", type="primary",
                 disabled=stats.readings == 0, help="keep this screening's readings in the panel below (numbers "
                 "only) and get ready for the next viewer"):
        _save(film, screening)
        st.rerun()


def section(film: StoredUpload, loaded: Loaded) -> list[Reaction]:
    """The live screening section; returns the live reactions saved for ``film`` so far."""
    st.subheader("Live screening")
    st.caption("Instead of recordings, or beside them: the film plays in this browser while the webcam reads "
               "the viewer; what it reads joins the panel above.")
    kept = saved(film)
    if kept:
        from emotion.film.video import probe

        try:
            fps = probe(film.path).fps
        except EmotionError:
            fps = 0.0
        st.caption("Saved live reactions: " + ", ".join(
            f"**{r.name}** ({len(r.recording_time)} readings over film {timecode(float(r.film_time.min()), fps)}–"
            f"{timecode(float(r.film_time.max()), fps)}, {r.recording_duration_s:.0f} s in all)" for r in kept))
    if not st.toggle("Screen the film here, with the webcam on", key=f"{_P}on",
                     help="the film plays in this browser while the camera reads the viewer's expressions"):
        return kept
    from streamlit_webrtc import (WebRtcMode, create_audio_source_track, create_video_sink_track,
                                  create_video_source_track, webrtc_streamer)

    st.caption("Sit the viewer in front of this screen and its camera, press **START** and allow the camera. The "
               "film plays below with its sound; every camera reading is stamped with the film's time, also "
               "through pauses and jumps. While the film is paused nothing is read. Nothing but numbers is kept.")
    problem = st.session_state.get(f"{_P}problem")
    if problem:
        st.warning(problem)
    screening = _screening(film, loaded)
    picture, sound, camera = _callbacks(screening)
    key = f"audience-live-{screening.name}"
    rtc, rtc_problem = read_rtc()
    if rtc_problem:
        st.warning(rtc_problem)
    quiet_slow_callbacks()
    fps = min(MAX_FPS, getattr(screening.picture, "fps", 25.0))
    film_picture = latest_only(create_video_source_track(picture, key=f"{key}-film", fps=fps))
    film_sound = latest_only(create_audio_source_track(sound, key=f"{key}-sound", sample_rate=48000))
    ctx = webrtc_streamer(
        key=key, mode=WebRtcMode.SENDRECV, rtc_configuration=rtc.config,
        source_video_track=film_picture, source_audio_track=film_sound,
        sink_video_track=create_video_sink_track(camera, key=f"{key}-camera"),
        media_stream_constraints={"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}, "audio": False},
        video_html_attrs={"autoPlay": True, "controls": False, "style": {"width": "100%"}},
    )
    streaming = bool(ctx.state.playing)
    held = st.session_state.get(f"{_P}held")
    if not streaming and screening.clock.playing:
        screening.clock.pause()                 # the stream stopped: so does the film
        st.session_state[f"{_P}held"] = screening.name
    elif streaming and held == screening.name:
        screening.clock.play()                  # the stream is back: play on
        st.session_state[f"{_P}held"] = None
    st.fragment(run_every=REFRESH_S if streaming else None)(guarded(controls))(film, screening, streaming)
    return kept
