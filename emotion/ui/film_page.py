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

import hashlib
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from emotion.film.charts import scene_bars, scene_heatmap, timeline_figure
from emotion.errors import EmotionError
from emotion.film import FilmSettings, VideoReport, analyze_video, default_cache_dir, job_key, saved_progress
from emotion.settings import SCENE_DETECTORS
from emotion.film.timeline import timecode

from .loaders import Loaded
from .sidebar import persisted_widget
from .status import model_missing

VIDEO_TYPES = ("mp4", "mov", "m4v", "mkv", "avi", "webm", "mpg", "mpeg", "wmv", "flv", "ts")
FPS_CHOICES = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
KEEP_UPLOADS = 3          # uploaded films kept on disk (they can be gigabytes)
KEEP_REPORTS = 3          # finished reports kept in a session
STRIP_COLUMNS = 6
STRIP_MAX = 60            # key frames drawn at once
_P = "film."              # session-state prefix


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded film saved to disk under its content hash (PyAV reads files, and hashes key the cache)."""

    name: str
    path: Path
    sha256: str
    size: int


def store_upload(uploaded, folder: Path | None = None) -> StoredUpload:
    """Stream an upload to ``folder/<sha256>.<ext>`` (once per content) and keep only the newest few."""
    folder = Path(folder or default_cache_dir() / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    ext = Path(uploaded.name).suffix.lower()[:8] or ".video"
    tmp = folder / f".upload.{os.getpid()}.{time.monotonic_ns()}.part"
    digest, size = hashlib.sha256(), 0
    uploaded.seek(0)
    try:
        with open(tmp, "wb") as out:
            for chunk in iter(lambda: uploaded.read(8 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
        target = folder / f"{sha}{ext}"
        if target.exists():
            tmp.unlink()
            target.touch()
        else:
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    old = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                 key=lambda p: p.stat().st_mtime, reverse=True)[KEEP_UPLOADS:]
    for p in old:
        p.unlink(missing_ok=True)
    return StoredUpload(uploaded.name, target, sha, size)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_text(p) -> str:
    """The line under the progress bar: where in the film, elapsed, ETA, what was found so far."""
    where = f"{timecode(p.position)} of {timecode(p.duration)}" if p.duration else timecode(p.position)
    resumed = f" · resumed at {timecode(p.resumed_from)}" if p.resumed_from is not None else ""
    return (f"{where} · elapsed {_clock(p.elapsed)} · ETA {_clock(p.eta)} · {p.scenes} scenes, "
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


def _cancel() -> None:
    st.session_state[f"{_P}running"] = None
    st.session_state[f"{_P}cancelled"] = True


def _current_upload() -> StoredUpload | None:
    """The film to show: a new upload is stored; without one, the last stored film stays."""
    uploaded = st.session_state.get("film.file")
    if uploaded is not None and st.session_state.get(f"{_P}upload_id") != uploaded.file_id:
        st.session_state[f"{_P}upload"] = store_upload(uploaded)
        st.session_state[f"{_P}upload_id"] = uploaded.file_id
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
        bar.progress(min(1.0, max(0.0, p.fraction or 0.0)), text=progress_text(p))

    lock = _acquire(key)
    try:
        report = analyze_video(stored.path, loaded.settings, film, progress=on_progress, detector=loaded.detector,
                               content_hash=stored.sha256)
    except EmotionError as exc:
        st.session_state[f"{_P}running"] = None
        st.error(f"{stored.name}: {exc}")
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


def _exports(key: str, report: VideoReport) -> tuple[str, str, str]:
    cache: dict = st.session_state.setdefault(f"{_P}exports", {})
    if key not in cache:
        cache.clear()
        cache[key] = (report.scenes_csv(), report.frames_csv(), report.to_json())
    return cache[key]


def render(loaded: Loaded) -> None:
    """Draw the page body for an already loaded detector (the sidebar is drawn by the page)."""
    st.title("Film: emotions scene by scene")
    st.caption("Upload a film or trailer: shots are detected, faces are sampled a few times a second, and each "
               "scene gets the emotions its faces show. Expressions are not feelings; see the home page.")
    if model_missing(loaded):
        return
    st.file_uploader("Film or trailer", type=list(VIDEO_TYPES), key="film.file",
                     help="the upload limit is set in .streamlit/config.toml (server.maxUploadSize)")
    left, right = st.columns(2)
    with left:
        fps = persisted_widget(st.select_slider, f"{_P}fps", 4.0, "Frames sampled per second",
                               options=list(FPS_CHOICES),
                               help="more samples catch brief expressions but take longer (about linearly)")
    with right:
        scene_kind = persisted_widget(st.radio, f"{_P}scene_detector", "content", "Shot detection",
                                      options=list(SCENE_DETECTORS), horizontal=True,
                                      help="content: hard cuts; adaptive: steadier with fast camera motion")
    try:
        stored = _current_upload()
    except OSError as exc:
        st.error(f"Could not store the upload: {exc}")
        return
    if stored is None:
        st.info("Choose a video file to start (MP4, MOV, MKV, AVI, WebM, ...).")
        return
    if st.session_state.get("film.file") is None:
        st.caption(f"Showing **{stored.name}** (upload another file to replace it).")
    film = FilmSettings(fps=float(fps), scene_detector=scene_kind)
    key = job_key(stored.sha256, loaded.detector, loaded.settings, film)
    report = st.session_state.get(f"{_P}reports", {}).get(key)
    if report is None:
        _acquire(key).release()  # an interrupted run of this job may still be writing its checkpoint
        saved = saved_progress(key)
        running = st.session_state.get(f"{_P}running") == key
        start = saved is not None and saved[0] == "done"  # finished before: loads at once from the cache
        if not (start or running):
            slot = st.empty()
            with slot.container():
                if saved and saved[0] == "partial":
                    note = "You stopped it" if st.session_state.get(f"{_P}cancelled") else \
                        "An earlier analysis stopped"
                    st.info(f"{note} at {timecode(saved[1])}; starting again resumes from there.")
                label = "Resume analysis" if saved and saved[0] == "partial" else "Analyse"
                start = st.button(label, type="primary", key=f"{_P}start")
            if start:
                slot.empty()
        if start or running:
            report = _run(stored, loaded, film, key)
            if report is not None:
                _remember(key, report)
    if report is not None:
        show_report(report, key)


def _overview(report: VideoReport) -> None:
    overall = report.timeline.overall()
    cols = st.columns(4)
    cols[0].metric("Scenes", len(report.scenes))
    cols[1].metric("Length", timecode(report.scenes[-1].end if report.scenes else 0.0))
    cols[2].metric("Frames with faces", f"{overall['face_share']:.0%}")
    cols[3].metric("Overall", overall.get("dominant_emotion", "no face"))


def _key_frame_strip(report: VideoReport) -> None:
    rows = report.rows
    first = 1
    if len(rows) > STRIP_MAX:
        first = st.slider("Scenes shown", 1, len(rows) - STRIP_MAX + 1, 1, key=f"{_P}strip_from",
                          help=f"{STRIP_MAX} key frames at a time")
    shown = rows[first - 1:first - 1 + STRIP_MAX]
    for start in range(0, len(shown), STRIP_COLUMNS):
        cols = st.columns(STRIP_COLUMNS)
        for col, row in zip(cols, shown[start:start + STRIP_COLUMNS]):
            thumb = report.thumbnails[row.scene - 1]
            caption = f"{row.scene} · {timecode(row.start_s)} · {row.dominant_emotion or 'no face'}"
            if thumb:
                col.image(thumb, caption=caption, width="stretch")
            else:
                col.caption(caption)


def _scene_detail(report: VideoReport) -> None:
    rows = report.rows

    def label(n: int) -> str:
        r = rows[n - 1]
        return (f"Scene {n} · {timecode(r.start_s)}–{timecode(r.end_s)} · "
                f"{r.dominant_emotion or 'no face'}")
    number = st.selectbox("Scene", [r.scene for r in rows], format_func=label, key=f"{_P}scene")
    row = rows[number - 1]
    left, right = st.columns([2, 3])
    thumb = report.thumbnails[number - 1]
    if thumb:
        left.image(thumb, caption=f"key frame at {timecode(row.key_frame_s)}", width="stretch")
    m = right.columns(3)
    m[0].metric("Duration", f"{row.duration_s:.1f} s")
    m[1].metric("Frames with faces", f"{row.face_share:.0%}")
    m[2].metric("Faces per frame", f"{row.mean_faces:.1f}")
    if row.dominant_emotion:
        m = right.columns(3)
        m[0].metric("Dominant", f"{row.dominant_emotion} {row.dominant_share:.0%}")
        m[1].metric("Valence", f"{row.valence:+.2f}")
        m[2].metric("Peak", f"{row.peak_emotion} {row.peak_probability:.0%}", timecode(row.peak_time_s),
                    delta_color="off")
        import pandas as pd

        probs = pd.DataFrame({"emotion": list(row.probabilities), "probability": list(row.probabilities.values())})
        right.bar_chart(probs, x="emotion", y="probability", horizontal=True, sort=False, height=220)
    else:
        right.info("No face in this scene's sampled frames.")
    faces = report.frame_table()
    faces = faces[(faces["scene"] == number) & (faces["faces"] > 0)]
    if len(faces):
        st.dataframe(faces, hide_index=True, height=220)


def show_report(report: VideoReport, key: str) -> None:
    """Warnings, overview, timeline, per-scene view, key frames, scene detail and downloads."""
    for warning in report.warnings:
        st.warning(warning)
    if report.from_cache:
        st.caption("Loaded from the cache: this film was analysed before with the same model and settings.")
    elif report.resumed_from is not None:
        st.caption(f"Resumed from {timecode(report.resumed_from)}; the earlier part came from the checkpoint.")
    _overview(report)
    st.subheader("Timeline")
    st.plotly_chart(timeline_figure(report.timeline), key=f"{_P}timeline")
    st.subheader("Emotions by scene")
    view = st.radio("View", ["Stacked bars", "Heatmap"], horizontal=True, key=f"{_P}view",
                    label_visibility="collapsed")
    fig = scene_bars(report.timeline) if view == "Stacked bars" else scene_heatmap(report.timeline)
    st.plotly_chart(fig, key=f"{_P}scenes_chart")
    st.subheader("Key frames")
    _key_frame_strip(report)
    st.subheader("Scene detail")
    _scene_detail(report)
    st.subheader("Downloads")
    scenes_csv, frames_csv, summary = _exports(key, report)
    stem = Path(report.source).stem or "film"
    cols = st.columns(3)
    cols[0].download_button("Per-scene table (CSV)", scenes_csv, f"{stem}_scenes.csv", "text/csv",
                            key=f"{_P}dl_scenes", on_click="ignore", type="primary")
    cols[1].download_button("Per-frame table (CSV)", frames_csv, f"{stem}_frames.csv", "text/csv",
                            key=f"{_P}dl_frames", on_click="ignore")
    cols[2].download_button("Summary (JSON)", summary, f"{stem}_summary.json", "application/json",
                            key=f"{_P}dl_json", on_click="ignore")
    with st.expander("Per-scene table"):
        st.dataframe(report.scene_table(), hide_index=True)
