"""The Film page: upload a film, analyse it scene by scene, explore and download the results.

The analysis itself is :func:`emotion.film.analyze_video`; this module stores
the upload, keeps results in the session, and draws them. It runs the analysis
in the script thread with a progress bar; any widget interaction (the Cancel
button, switching pages) stops the run, and :mod:`emotion.film` has then saved
a checkpoint, so coming back resumes instead of starting over. Finished results
are cached on disk by (file content, model, detector, settings) and in the
session, so nothing is recomputed when a user switches pages or re-runs.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

import streamlit as st

from emotion.errors import EmotionError
from emotion.io import clock
from emotion.film import FilmSettings, VideoReport, analyze_video, job_key, saved_progress
from emotion.settings import SCENE_DETECTORS
from emotion.film.timeline import timecode

from .film_compare import compare_section
from .film_uploads import VIDEO_TYPES, StoredUpload, media_files, store_upload, store_video
from .film_results import show_report
from .loaders import Loaded
from .preload import preload_elements
from .sidebar import persisted_widget
from .status import model_missing

FPS_CHOICES = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
KEEP_REPORTS = 3          # finished reports kept in a session
_P = "film."              # session-state prefix


def _from_disk(path: Path) -> StoredUpload:
    """A media-folder film; its hash is computed once per (path, size, modification time) in the session."""
    from emotion.film.cache import file_hash

    stat = path.stat()
    hashes: dict = st.session_state.setdefault(f"{_P}disk_hashes", {})
    ident = (str(path), stat.st_size, stat.st_mtime_ns)
    if ident not in hashes:
        with st.spinner(f"Reading {path.name} once to recognise it later…"):
            hashes[ident] = file_hash(path)
    return StoredUpload(path.name, path, hashes[ident], stat.st_size)


def progress_text(p) -> str:
    """The line under the progress bar: where in the film, elapsed, ETA, what was found so far."""
    fps = getattr(p, "fps", 0.0)
    where = f"{timecode(p.position, fps)} of {timecode(p.duration, fps)}" if p.duration else timecode(p.position, fps)
    resumed = f" · resumed at {timecode(p.resumed_from, fps)}" if p.resumed_from is not None else ""
    return (f"{where} · elapsed {clock(p.elapsed)} · ETA {clock(p.eta)} · {p.shots} shots, "
            f"{p.faces} faces{resumed}")


# One analysis per job key at a time in this process. Streamlit's fast reruns start the next script
# run while the interrupted one is still unwinding (and writing its checkpoint); the next run waits
# here, so it resumes from that checkpoint instead of racing it. Sessions analysing the same film with
# the same settings wait for one another, then load the cached result.
_job_locks: dict[str, threading.Lock] = {}
_job_locks_guard = threading.Lock()


def _job_lock(key: str) -> threading.Lock:
    with _job_locks_guard:
        return _job_locks.setdefault(key, threading.Lock())


def _acquire(key: str) -> threading.Lock:
    """The job's lock, acquired; shows a notice while another run of the same job finishes."""
    lock = _job_lock(key)
    if lock.acquire(timeout=0.05):
        return lock
    notice = st.empty()
    waited = 0.0
    while not lock.acquire(timeout=0.5):
        waited += 0.5
        # An st call per turn also lets Streamlit stop this run if the user moves on.
        notice.info(f"Waiting for the previous run of this analysis to finish ({waited:.0f} s)…")
    notice.empty()
    return lock


_warm = threading.Event()


def _warm_up_libraries() -> None:
    """Import the chart and video libraries and build one tiny figure the way the page builds its figures.

    Their first use in a process costs 1-2 s on a busy 2-core machine (pandas alone about 1 s; plotly
    loads its default template with the first figure). Done in a background thread while the user
    picks a film, the first result draws at once instead. Nothing here touches Streamlit.
    """
    try:
        import pandas as pd
        import plotly.graph_objects as go
        import plotly.io as pio

        import emotion.film.video  # noqa: F401  (PyAV, for probing the upload)

        # As emotion.film.charts builds them: dicts, no per-property validation.
        fig = go.Figure({"data": [{"type": "scatter", "x": [0, 1], "y": [0, 1]}, {"type": "bar", "x": [0], "y": [1]},
                                  {"type": "heatmap", "z": [[0.0]]}], "layout": {"height": 100}}, _validate=False)
        pio.to_json(fig.to_dict(), validate=False)
        pd.DataFrame({"time_s": [0.0, 1.0], "scene": [1, 1]}).groupby("scene").mean()  # the timeline's tables
    except Exception:  # noqa: BLE001  a warm-up only: the page imports the same modules itself when it draws
        logging.getLogger(__name__).debug("warm-up failed", exc_info=True)


def _warm_up() -> None:
    """Start :func:`_warm_up_libraries` once per server process."""
    if not _warm.is_set():
        _warm.set()
        threading.Thread(target=_warm_up_libraries, name="film-page-warm-up", daemon=True).start()


def _cancel() -> None:
    st.session_state[f"{_P}running"] = None
    st.session_state[f"{_P}cancelled"] = True


def _current_upload() -> StoredUpload | None:
    """The film to show: a new upload is stored and probed at once; without one, the last film stays."""
    uploaded = st.session_state.get("film.file")
    if uploaded is not None and st.session_state.get(f"{_P}upload_id") != uploaded.file_id:
        stored, problem = store_video(uploaded)
        st.session_state[f"{_P}upload_id"] = uploaded.file_id
        if problem:
            st.session_state[f"{_P}upload"] = None
            st.session_state[f"{_P}bad_upload"] = problem
            return None
        st.session_state[f"{_P}bad_upload"] = None
        st.session_state[f"{_P}upload"] = stored
    if uploaded is not None and st.session_state.get(f"{_P}bad_upload"):
        return None
    stored = st.session_state.get(f"{_P}upload")
    if stored is not None and not stored.path.exists():
        st.session_state[f"{_P}upload"] = None
        return None
    return stored


def _run(stored: StoredUpload, loaded: Loaded, film: FilmSettings, key: str) -> VideoReport | None:
    st.session_state[f"{_P}running"] = key
    st.session_state[f"{_P}cancelled"] = False
    slot = st.empty()
    box = slot.container()
    bar = box.progress(0.0, text="Opening the video…")
    box.button("Cancel", key=f"{_P}cancel", on_click=_cancel,
               help="stops now; the part done is kept and the next start resumes from it")

    def on_progress(p) -> None:
        text = progress_text(p) if p.stage != "finishing" else \
            "All frames read; tracking faces and summing shots and scenes…"
        bar.progress(min(1.0, max(0.0, p.fraction or 0.0)), text=text)

    lock = _acquire(key)
    try:
        report = analyze_video(stored.path, loaded.settings, film, progress=on_progress, detector=loaded.detector,
                               content_hash=stored.sha256)
    except EmotionError as exc:
        st.session_state[f"{_P}running"] = None
        slot.empty()
        st.error(str(exc) if str(exc).startswith(stored.name) else f"{stored.name}: {exc}")
        return None
    finally:
        lock.release()
    st.session_state[f"{_P}running"] = None
    slot.empty()
    return report


def _remember(key: str, report: VideoReport) -> None:
    reports: OrderedDict = st.session_state.setdefault(f"{_P}reports", OrderedDict())
    reports[key] = report
    reports.move_to_end(key)
    while len(reports) > KEEP_REPORTS:
        reports.popitem(last=False)


def _segment_controls():
    """Scenes / shots / fixed windows / the crew's own list: (segments, scene list bytes or None)."""
    left, right = st.columns(2)
    with left:
        kind = st.radio("Scenes are", ["grouped shots", "shots", "fixed windows", "my scene list"],
                        horizontal=True, key=f"{_P}segments",
                        help="grouped shots: consecutive shots that look alike (cross-cutting included) make a "
                             "scene of at least 4 s; changing this does not analyse the film again")
    every = None
    listed = None
    with right:
        if kind == "fixed windows":
            every = st.number_input("Window (seconds)", 1, 3600, 10, key=f"{_P}every")
        elif kind == "my scene list":
            upload = st.file_uploader("Scene list (CSV: name,start,end)", type=["csv", "txt"], key="film.scene_list",
                                      help="times in seconds, HH:MM:SS[.mmm] or HH:MM:SS:FF; one scene a line")
            listed = upload.getvalue() if upload is not None else None
    segments = {"grouped shots": "scenes", "shots": "shots", "fixed windows": f"every:{every}"}.get(kind, "scenes")
    return segments, listed


def _segmented(key: str, report: VideoReport, segments: str, listed: bytes | None) -> VideoReport:
    """The report at the chosen segmentation (post-processing only), kept in the session."""
    from emotion.film.scenelist import parse_scene_list

    ident = (key, report.complete, segments, hash(listed))
    cache: dict = st.session_state.setdefault(f"{_P}segmented", {})
    if ident not in cache:
        with st.spinner("Grouping shots into scenes and summing their faces…"):
            scene_list = None
            if listed is not None:
                try:
                    text = listed.decode("utf-8-sig")
                except UnicodeDecodeError:
                    text = None
                    st.error("The scene list is not a UTF-8 text file; save it as CSV. Showing grouped shots.")
                if text is not None:
                    try:
                        scene_list = parse_scene_list(text, report.info.fps)
                    except EmotionError as exc:
                        st.error(f"{exc}. Showing grouped shots instead.")
            cache.clear()
            cache[ident] = report.resegment(segments, scene_list)
    return cache[ident]


def _pick_film() -> StoredUpload | None:
    """The film: from the server's media folder when one is chosen there, else the upload."""
    files = media_files()
    if files:
        root = Path(os.environ["EMOTION_MEDIA_DIR"])
        choice = st.selectbox("Or open a film from the media folder", [None, *files], key=f"{_P}media",
                              format_func=lambda p: "–" if p is None else str(p.relative_to(root)),
                              help="films in $EMOTION_MEDIA_DIR on the server, read from disk (no upload)")
        if choice is not None:
            return _from_disk(Path(choice))
    return _current_upload()


def render(loaded: Loaded) -> None:
    """Draw the page body for an already loaded detector (the sidebar is drawn by the page)."""
    st.title("Film: emotions scene by scene")
    st.caption("Upload a film or trailer: shots are detected, grouped into scenes, faces are sampled a few times "
               "a second, and each scene gets the emotions its faces show. Expressions are not feelings; see the "
               "home page.")
    if model_missing(loaded):
        return
    _warm_up()
    preload_elements()   # the charts' code loads while the user picks a film, not after the results come
    st.file_uploader("Film or trailer", type=list(VIDEO_TYPES), key="film.file",
                     help="the upload limit is set in .streamlit/config.toml (server.maxUploadSize); for large "
                          "films, put them in the folder $EMOTION_MEDIA_DIR names on the server")
    left, right = st.columns(2)
    with left:
        fps = persisted_widget(st.select_slider, f"{_P}fps", 4.0, "Frames sampled per second",
                               options=list(FPS_CHOICES),
                               help="more samples catch brief expressions but take longer (about linearly)")
        thorough = persisted_widget(st.checkbox, f"{_P}thorough", True, "Thorough face search",
                                    help="look at each sampled frame twice (brightened, and smaller): finds more "
                                         "faces in dark or busy shots, and costs about 1.5 times the face search")
    with right:
        scene_kind = persisted_widget(st.radio, f"{_P}scene_detector", "content", "Shot detection",
                                      options=list(SCENE_DETECTORS), horizontal=True,
                                      help="content: hard cuts; adaptive: steadier with fast camera motion")
    segments, listed = _segment_controls()
    try:
        stored = _pick_film()
    except OSError as exc:
        st.error(f"Could not store the film: {exc.strerror or exc}")
        return
    bad = st.session_state.get(f"{_P}bad_upload")
    if stored is None:
        if bad and st.session_state.get("film.file") is not None:
            st.error(bad)
        else:
            st.info("Choose a video file to start (MP4, MOV, MKV, AVI, WebM, ...).")
        return
    if st.session_state.get("film.file") is None and stored.path.parent.parent.name == "uploads":
        st.caption(f"Showing **{stored.name}** (upload another file to replace it).")
    film = FilmSettings(fps=float(fps), scene_detector=scene_kind, thorough=bool(thorough), segments="shots")
    key = job_key(stored.sha256, loaded.detector, loaded.settings, film)
    report = st.session_state.get(f"{_P}reports", {}).get(key)
    if report is None:
        _acquire(key).release()  # an interrupted run of this job may still be writing its checkpoint
        saved = saved_progress(key)
        running = st.session_state.get(f"{_P}running") == key
        start = saved is not None and saved[0] == "done"  # finished before: loads at once from the cache
        if not (start or running):
            partial = None
            if saved and saved[0] == "partial":
                from emotion.film.partial import partial_report

                partial = partial_report(stored.path, key, loaded.detector, loaded.settings, film)
            slot = st.empty()
            with slot.container():
                if saved and saved[0] == "partial":
                    note = "You stopped it" if st.session_state.get(f"{_P}cancelled") else \
                        "An earlier analysis stopped"
                    at = partial.tc(saved[1]) if partial is not None else timecode(saved[1])
                    shown = "The part done so far is shown below." if partial is not None else ""
                    st.info(f"{note} at {at}; starting again resumes from there. {shown}".strip())
                label = "Resume analysis" if saved and saved[0] == "partial" else "Analyse"
                start = st.button(label, type="primary", key=f"{_P}start")
            if start:
                slot.empty()
            elif partial is not None:
                # The note above already says where it stopped and how to go on.
                from dataclasses import replace

                partial = replace(partial, warnings=tuple(w for w in partial.warnings
                                                          if not w.startswith("The analysis was stopped")))
                show_report(_segmented(key, partial, segments, listed), key, stored.path)
                return
            else:
                return
        if start or running:
            report = _run(stored, loaded, film, key)
            if report is not None:
                _remember(key, report)
    if report is not None:
        shown = _segmented(key, report, segments, listed)
        show_report(shown, key, stored.path)
        compare_section(shown, stored, film, segments, analyse=lambda b, f: _analyse_second(loaded, b, f),
                        store=store_upload, from_disk=_from_disk, media=media_files, fps_choices=FPS_CHOICES)


def _analyse_second(loaded: Loaded, stored: StoredUpload, film: FilmSettings) -> VideoReport | None:
    """The second analysis of a comparison, through the same path, cache and session store as the first."""
    key = job_key(stored.sha256, loaded.detector, loaded.settings, film)
    report = st.session_state.get(f"{_P}reports", {}).get(key)
    if report is None:
        report = _run(stored, loaded, film, key)
        if report is not None:
            _remember(key, report)
    return report
