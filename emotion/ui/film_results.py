"""The Film page's results: summary first, a player that jumps to a moment, charts, scenes, downloads.

Kept apart from :mod:`emotion.ui.film_page` (which gets the film and runs the
analysis). Everything here is drawn from a :class:`~emotion.film.VideoReport`;
downloads are made when first clicked, then kept in the session.
"""

from __future__ import annotations

import math
import threading
from functools import partial
from pathlib import Path

import streamlit as st

from emotion.film import VideoReport
from emotion.film.charts import arc_figure, scene_bars, scene_heatmap, timeline_figure
from emotion.film.summary import Moment, summarize
from emotion.film.timeline import timecode

STRIP_COLUMNS = 6
STRIP_MAX = 60            # key frames drawn at once
_P = "film."


def _play(seconds: float) -> None:
    st.session_state[f"{_P}play_at"] = max(0.0, float(seconds))


def _player(path: Path | None) -> None:
    if path is None or not Path(path).exists():
        return
    start = st.session_state.get(f"{_P}play_at", 0.0)
    st.video(str(path), start_time=int(start))
    if start:
        st.caption(f"Playing from {timecode(start)}: click ▶ on a scene, peak or key frame to jump.")


def _moments(title: str, moments: tuple[Moment, ...], key: str) -> None:
    st.markdown(f"**{title}**")
    if not moments:
        st.caption("None: no face was seen.")
        return
    cols = st.columns(len(moments))
    for i, (col, m) in enumerate(zip(cols, moments)):
        if m.thumbnail:
            col.image(m.thumbnail, width="stretch")
        col.caption(m.label)
        col.button("▶ play", key=f"{_P}{key}{i}", on_click=_play, args=(m.start,), help=f"play from {timecode(m.start)}")


def _summary(report: VideoReport) -> None:
    summary = summarize(report)
    st.markdown(f"#### {summary.headline()}")
    cols = st.columns(5)
    cols[0].metric("Dominant (not neutral)", summary.dominant or "no face")
    cols[1].metric("Screen time with faces", f"{summary.face_time:.0%}")
    cols[2].metric("Expressiveness", "–" if not math.isfinite(summary.expressiveness)
                   else f"{summary.expressiveness:.0%}")
    cols[3].metric("Scenes", len(report.scenes), help=f"from {len(report.shots)} shots ({report.segmentation})")
    end = report.scenes[-1].end if report.scenes else 0.0
    length = round(end)  # h:mm:ss or m:ss: a full timecode does not fit the metric's column
    cols[4].metric("Length", f"{length // 3600}:{length // 60 % 60:02d}:{length % 60:02d}" if length >= 3600
                   else f"{length // 60}:{length % 60:02d}", help=f"ends at {timecode(end)}")
    _moments("Most intense scenes", summary.top_scenes, "top_scene")
    _moments("Strongest moments", summary.top_peaks, "top_peak")


def _key_frame_strip(rows, thumbs, noun: str) -> None:
    first = 1
    if len(rows) > STRIP_MAX:
        first = st.slider(f"First {noun} shown", 1, len(rows) - STRIP_MAX + 1, 1, key=f"{_P}strip_from",
                          help=f"{STRIP_MAX} key frames at a time, from this {noun} on")
    shown = rows[first - 1:first - 1 + STRIP_MAX]
    for start in range(0, len(shown), STRIP_COLUMNS):
        cols = st.columns(STRIP_COLUMNS)
        for col, row in zip(cols, shown[start:start + STRIP_COLUMNS]):
            thumb = thumbs[row.scene - 1]
            name = f" {row.name}" if row.name else ""
            caption = f"{noun} {row.scene}{name} · {timecode(row.start_s)} · {row.dominant_emotion or 'no face'}"
            if thumb:
                col.image(thumb, caption=caption, width="stretch")
            else:
                col.caption(caption)
            col.button("▶", key=f"{_P}strip_play{row.scene}", on_click=_play, args=(row.start_s,),
                       help=f"play from {timecode(row.start_s)}")


def _detail(report: VideoReport, timeline, thumbs, noun: str) -> None:
    rows = timeline.rows

    def label(n: int) -> str:
        r = rows[n - 1]
        name = f" {r.name}" if r.name else ""
        return f"{noun.title()} {n}{name} · {timecode(r.start_s)}–{timecode(r.end_s)} · {r.dominant_emotion or 'no face'}"
    number = st.selectbox(noun.title(), [r.scene for r in rows], format_func=label, key=f"{_P}detail_{noun}")
    row = rows[number - 1]
    left, right = st.columns([2, 3])
    if thumbs[number - 1]:
        left.image(thumbs[number - 1], caption=f"key frame at {timecode(row.key_frame_s)}", width="stretch")
    left.button("▶ play from here", key=f"{_P}detail_play", on_click=_play, args=(row.start_s,))
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

        probs = pd.DataFrame({"emotion": list(row.probabilities),
                              "percent": [100 * v for v in row.probabilities.values()]})
        right.bar_chart(probs, x="emotion", y="percent", horizontal=True, sort=False, height=220)
    else:
        right.info(f"No face in this {noun}'s sampled frames.")
    faces = report.frame_table()
    column = "scene" if noun == "scene" or "shot" not in faces.columns else "shot"
    faces = faces[(faces[column] == number) & (faces["faces"] > 0)]
    if len(faces):
        st.dataframe(faces, hide_index=True, height=220)


class Downloads:
    """A report's files, each made on the first click of its download button (in Streamlit's download
    thread, not while the page draws) and then kept: the HTML report alone takes a few tenths of a second.

    >>> files = Downloads(report)                                  # doctest: +SKIP
    >>> name, mime = files.names["Markers (EDL)"]; text = files.content("Markers (EDL)")  # doctest: +SKIP
    """

    def __init__(self, report: VideoReport) -> None:
        self.report = report
        stem = Path(report.source).stem or "film"
        #: label -> (file name, mime), in the order the buttons are drawn
        self.names = {
            "Per-scene table (CSV)": (f"{stem}_scenes.csv", "text/csv"),
            "Per-shot table (CSV)": (f"{stem}_shots.csv", "text/csv"),
            "Per-frame table (CSV)": (f"{stem}_frames.csv", "text/csv"),
            "Summary (JSON)": (f"{stem}_summary.json", "application/json"),
            "Report (HTML, offline)": (f"{stem}_report.html", "text/html"),
            "Markers (EDL)": (f"{stem}_markers.edl", "text/plain"),
            "Markers (CSV)": (f"{stem}_markers.csv", "text/csv"),
        }
        self._made: dict[str, str] = {}
        self._lock = threading.Lock()

    def _make(self, label: str) -> str:
        from emotion.film.markers import edl, markers_csv
        from emotion.film.report_html import html_report

        r = self.report
        return {"Per-scene table (CSV)": r.scenes_csv, "Per-shot table (CSV)": r.shots_csv,
                "Per-frame table (CSV)": r.frames_csv, "Summary (JSON)": r.to_json,
                "Report (HTML, offline)": lambda: html_report(r), "Markers (EDL)": lambda: edl(r),
                "Markers (CSV)": lambda: markers_csv(r)}[label]()

    def content(self, label: str) -> str:
        """The file's text, made once (thread-safe: two quick clicks make it once)."""
        with self._lock:
            if label not in self._made:
                self._made[label] = self._make(label)
            return self._made[label]


def _downloads(report: VideoReport) -> Downloads:
    """The session's :class:`Downloads` for this report (one at a time: a new report replaces it)."""
    files = st.session_state.get(f"{_P}downloads")
    if files is None or files.report is not report:
        files = st.session_state[f"{_P}downloads"] = Downloads(report)
    return files


def show_report(report: VideoReport, key: str, video_path: Path | None = None) -> None:
    """Summary and player first, then charts and tables at scene or shot level, then downloads."""
    if not report.complete and report.stopped_at is not None:
        st.warning(f"Partial results: this covers the film up to {timecode(report.stopped_at)}.")
    for warning in report.warnings:
        st.warning(warning)
    if report.from_cache:
        st.caption("Loaded from the cache: this film was analysed before with the same model and settings.")
    elif report.resumed_from is not None:
        st.caption(f"Resumed from {timecode(report.resumed_from)}; the earlier part came from the checkpoint.")
    _summary(report)
    _player(video_path)
    level = st.radio("Rows and charts by", ["scenes", "shots"], horizontal=True, key=f"{_P}level",
                     help="scenes group shots (see 'Scenes are' above); shots are cut to cut")
    timeline, thumbs = report.level(level)
    noun = level[:-1]
    st.subheader("Timeline")
    st.plotly_chart(timeline_figure(timeline), key=f"{_P}timeline")
    st.plotly_chart(arc_figure(timeline), key=f"{_P}arc")
    st.subheader(f"Emotions by {noun}")
    view = st.radio("View", ["Stacked bars", "Heatmap"], horizontal=True, key=f"{_P}view",
                    label_visibility="collapsed")
    fig = scene_bars(timeline) if view == "Stacked bars" else scene_heatmap(timeline)
    st.plotly_chart(fig, key=f"{_P}scenes_chart")
    st.subheader("Key frames")
    _key_frame_strip(timeline.rows, thumbs, noun)
    st.subheader(f"{noun.title()} detail")
    _detail(report, timeline, thumbs, noun)
    st.subheader("Downloads")
    files = _downloads(report)
    cols = st.columns(4)
    for i, (label, (name, mime)) in enumerate(files.names.items()):
        cols[i % 4].download_button(label, partial(files.content, label), name, mime, key=f"{_P}dl{i}",
                                    on_click="ignore", type="primary" if i == 0 else "secondary")
    with st.expander(f"Per-{noun} table"):
        st.dataframe(report.scene_table() if level == "scenes" else report.shot_table(), hide_index=True)
