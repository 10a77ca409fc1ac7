"""The Webcam page: live emotion analysis of the browser's camera, with a rolling chart and recording.

The video goes browser -> server with streamlit-webrtc. Everything that
touches frames lives in :mod:`emotion.live` (no Streamlit there); this module
only keeps one :class:`~emotion.live.LiveSession` and
:class:`~emotion.live.LiveBoard` per browser session and draws widgets.
"""

from __future__ import annotations

import time
from datetime import datetime

import streamlit as st

from emotion.detector import EmotionDetector
from emotion.errors import ModelLoadError, SettingsError
from emotion.live import LiveBoard, LiveSession, LiveSettings, RtcConfig, rtc_configuration
from emotion.live.charts import rolling_figure, summary_figure, recording_figure
from emotion.settings import Settings

from .loaders import Loaded, cached_face_detector
from .sidebar import persisted_widget
from .status import model_missing

#: Seconds between refreshes of the live panel while streaming. Building the Plotly figure takes the
#: GIL from the analysis thread, so refreshing more often than the chart can show costs frame rate.
REFRESH_S = 1.0
PRIVACY = ("**No video frame is ever written to disk.** Frames are analysed in memory and dropped at once; "
           "a recording keeps only one row of emotion numbers per second and face, in this browser session, "
           "until you download it or close the page.")
_SESSION, _BOARD = "webcam.session", "webcam.board"


def live_settings(analysis: Settings, smoothing_s: float, show_score: bool) -> LiveSettings:
    """The frozen settings the frame callback will read."""
    return LiveSettings(analysis=analysis, smoothing_s=float(smoothing_s), show_score=bool(show_score))


def live_detector(loaded: Loaded, settings: LiveSettings) -> EmotionDetector:
    """The page's model with a face detector that searches a smaller copy of each frame (``detect_side``).

    Loaded once per process like the others; falls back to the page's own
    detector if that face detector cannot be built.
    """
    try:
        face = cached_face_detector(settings.detection_settings())
    except (ModelLoadError, SettingsError):
        return loaded.detector
    return EmotionDetector(face, loaded.detector.model, margin=loaded.settings.margin)


def session_state(settings: LiveSettings, detector) -> tuple[LiveSession, LiveBoard]:
    """This browser session's live session and board, created once and reconfigured on every run."""
    session = st.session_state.get(_SESSION)
    if session is None:
        session = st.session_state[_SESSION] = LiveSession(settings, detector)
    else:
        session.configure(settings, detector)
    board = st.session_state.get(_BOARD)
    if board is None:
        board = st.session_state[_BOARD] = LiveBoard(settings)
    else:
        board.configure(settings)
    return session, board


def read_rtc() -> tuple[RtcConfig, str | None]:
    """ICE servers from the environment or ``.streamlit/secrets.toml``; offline with a warning if malformed."""
    try:
        secrets = st.secrets.to_dict()
    except FileNotFoundError:   # no secrets.toml (or one Streamlit cannot parse): nothing configured there
        secrets = {}
    try:
        return rtc_configuration(secrets=secrets), None
    except SettingsError as exc:
        return rtc_configuration(env={}, secrets={}), f"{exc}. Using no STUN/TURN servers (LAN/localhost only)."


def _start_recording(board: LiveBoard) -> None:
    board.start_recording(time.time())


def _stop_recording(session: LiveSession, board: LiveBoard) -> None:
    board.stop_recording(session, time.time())


def live_panel(session: LiveSession, board: LiveBoard, playing: bool) -> None:
    """Current emotions, speed and the rolling chart; redrawn every :data:`REFRESH_S` while streaming."""
    board.pump(session)
    if session.last_error:
        st.error(f"Analysis failed on the latest frame: {session.last_error}")
    current = board.rolling.current()
    if current:
        st.markdown("#### " + " · ".join(f"Face {track}: {label} ({p:.0%})" for track, (label, p) in current.items()))
    elif playing:
        st.markdown("#### " + ("No face in view" if board.reports else "Waiting for the first analysed frame…"))
    snap = board.stats.snapshot()
    cols = st.columns(4)
    cols[0].metric("Analysed frames/s", f"{snap.analysed_fps:.1f}")
    cols[1].metric("Camera frames/s", f"{snap.camera_fps:.1f}")
    cols[2].metric("Latency p50 / p95", f"{snap.latency_p50_ms:.0f} / {snap.latency_p95_ms:.0f} ms",
                   help="from a frame's arrival to its result, over the last 5 s; the model alone takes "
                        f"{snap.inference_p50_ms:.0f} ms (median)")
    cols[3].metric("Frames skipped", f"{snap.dropped}",
                   help="frames replaced by a newer one while the model was busy: the newest frame always wins, "
                        "so the delay does not grow")
    if board.recorder.recording:
        st.caption(f":material/fiber_manual_record: Recording for {time.time() - board.recorder.started:.0f} s "
                   f"({board.recorder.rows_so_far()} rows so far)")
    if board.rolling.tracks:
        st.plotly_chart(rolling_figure(board.rolling), key="webcam_rolling")
    elif not playing:
        st.caption("Press **START** above and allow the camera: the chart of each face's emotions over the last "
                   f"{board.rolling.window_s:.0f} s appears here.")


def recording_results(board: LiveBoard) -> None:
    """Summary, charts and CSV download of the last finished recording."""
    rec = board.recording
    if rec is None:
        return
    st.subheader("Recorded session")
    summary = rec.summary()
    started = datetime.fromtimestamp(rec.started).strftime("%Y-%m-%d %H:%M:%S")
    if not rec.face_rows:
        st.info(f"Recording from {started} ({rec.duration_s:.0f} s) has no faces: nothing to summarise.")
    else:
        st.markdown(f"Started {started}, {rec.seconds} s, {summary['tracks']} face track(s), "
                    f"{summary['frames']} analysed frames. Most present emotion: **{summary['dominant']}** "
                    f"(mean {summary['mean'][summary['dominant']]:.0%}).")
        left, right = st.columns(2)
        left.plotly_chart(summary_figure(rec), key="webcam_summary")
        right.plotly_chart(recording_figure(rec), key="webcam_timeline")
    stamp = datetime.fromtimestamp(rec.started).strftime("%Y%m%d_%H%M%S")
    st.download_button("Download the per-second table (CSV)", rec.to_csv(), f"webcam_session_{stamp}.csv",
                       "text/csv", on_click="ignore", key="webcam_csv")


def render(loaded: Loaded) -> None:
    """Draw the page body for an already loaded detector (the sidebar is drawn by the page)."""
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    st.title("Webcam")
    st.caption("Live facial-expression analysis of your camera: boxes and labels on the video, a rolling chart "
               "per face, and an optional per-second recording.")
    st.info(PRIVACY, icon=":material/lock:")
    if model_missing(loaded):
        return
    with st.expander("Live options"):
        smoothing = persisted_widget(st.slider, "webcam.smoothing", 1.0, "Smoothing (seconds)", min_value=0.0,
                                     max_value=5.0, step=0.25,
                                     help="time constant of the moving average per face; 0 shows raw "
                                          "per-frame scores")
        show_score = persisted_widget(st.checkbox, "webcam.show_score", True, "Show the probability on the video")
    settings = live_settings(loaded.settings, smoothing, show_score)
    session, board = session_state(settings, live_detector(loaded, settings))
    rtc, rtc_problem = read_rtc()
    if rtc_problem:
        st.warning(rtc_problem)
    ctx = webrtc_streamer(
        key="emotion-webcam", mode=WebRtcMode.SENDRECV, rtc_configuration=rtc.config,
        video_frame_callback=session.callback, async_processing=True,
        media_stream_constraints={"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}, "audio": False},
    )
    st.caption(f"Connection: {rtc.source}." + (" The browser must reach this server directly (same machine or "
                                               "network); behind NAT configure STUN/TURN servers (docs/webcam.md)."
                                               if rtc.offline else ""))
    playing = bool(ctx.state.playing)
    if board.recorder.recording:
        st.button("Stop recording", icon=":material/stop:", on_click=_stop_recording, args=(session, board), key="webcam_rec_stop")
    else:
        st.button("Record session", icon=":material/fiber_manual_record:", on_click=_start_recording, args=(board,), key="webcam_rec_start",
                  help="keep one row of emotions per second and face until you stop; then download it as CSV")
    st.fragment(run_every=REFRESH_S if playing else None)(live_panel)(session, board, playing)
    recording_results(board)
