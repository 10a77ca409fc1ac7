"""The Film page's results: summary first, a player that jumps to a moment, charts, scenes, downloads.

Kept apart from :mod:`emotion.ui.film_page` (which gets the film and runs the
analysis). Everything here is drawn from a :class:`~emotion.film.VideoReport`;
downloads are made when first clicked, then kept in the session.

Drawn to be on screen quickly (``benchmarks/bench_film_page_browser.py``): figures and the per-frame
table are built once per report and kept in the session, so a click (a play button, a scene) does not
build them again; the key-frame strip starts with its first rows and grows on request; the parts a
crew changes often (the bars/heatmap view, the key frames shown, the scene in detail) are fragments
that redraw alone; the per-scene table is built only while its expander is open.
"""

from __future__ import annotations

import math
import threading
from functools import partial
from pathlib import Path

import streamlit as st

from emotion.film import VideoReport
from emotion.film.charts import scene_bars, scene_heatmap, timeline_with_arc
from emotion.film.summary import Moment, summarize
from emotion.film.timeline import timecode
from emotion.io import clock

from .film_html import Stat, emotion_bars, stats_html
from .status import guarded

PLAY = ":material/play_arrow:"

STRIP_COLUMNS = 6
STRIP_FIRST = 12          # key frames drawn at first (two rows); "Show more" adds STRIP_STEP
STRIP_STEP = 24
STRIP_MAX = 60            # key frames drawn at once, at most
_P = "film."


def _play(seconds: float) -> None:
    st.session_state[f"{_P}play_at"] = max(0.0, float(seconds))


def _play_from_fragment(seconds: float) -> None:
    """A play button inside a fragment: the player is outside it, so the whole page runs again."""
    _play(seconds)
    st.rerun()


KEEP_BUILT = 4            # timelines whose figures and tables a session keeps (scenes, shots, a regrouping)


def _built(timeline, what: str, build):
    """``build(timeline)`` made once per timeline and kept in the session (the last few timelines), so a
    click that reruns the page (a play button, another level and back) does not build it again."""
    store: dict = st.session_state.setdefault(f"{_P}built", {})
    entry = store.get(id(timeline))
    if entry is None or entry[0] is not timeline:      # an id can be reused once a timeline is gone
        while len(store) >= KEEP_BUILT:
            store.pop(next(iter(store)))
        entry = store[id(timeline)] = (timeline, {})
    made = entry[1]
    if what not in made:
        made[what] = build(timeline)
    return made[what]


def _player(path: Path | None, report: VideoReport) -> None:
    """The film, once the user plays it: a ▶ here or on a scene, moment or key frame opens the player there.

    Until then the page draws a button, not a video element: the browser's media pipeline took about
    0.25 s of a cache hit's drawing (benchmarks/bench_film_page_browser.py), and a player opened by a
    click can start playing at once.
    """
    if path is None or not Path(path).exists():
        return
    start = st.session_state.get(f"{_P}play_at")
    if start is None:
        st.button("Play the film", icon=PLAY, key=f"{_P}play_film", on_click=_play, args=(0.0,),
                  help="or click a scene's, moment's or key frame's play button (or its picture) to play from there")
        return
    st.video(str(path), start_time=int(start), autoplay=True)
    st.caption(f"Playing from {report.tc(start)}: click a scene, moment or key frame below to jump there.")


def _moments(title: str, moments: tuple[Moment, ...], key: str) -> None:
    st.markdown(f"**{title}** <small>· click a picture to play the film from there</small>", unsafe_allow_html=True)
    if not moments:
        st.caption("None: no face was seen.")
        return
    st.html(_TILE_CSS)
    cols = st.columns(len(moments))
    for i, (col, m) in enumerate(zip(cols, moments)):
        tile = col.container(key=f"{_P}tile_{key}{i}")
        if m.thumbnail:
            tile.image(m.thumbnail, caption=m.label, width="stretch")
        else:
            tile.caption(m.label)
        tile.button("Play", icon=PLAY, key=f"{_P}{key}{i}", on_click=_play, args=(m.start,),
                    help=f"play from {m.timecode}")


def _summary(report: VideoReport) -> None:
    summary = summarize(report)
    st.markdown(f"#### {summary.headline()}")
    end = report.scenes[-1].end if report.scenes else 0.0
    st.html(stats_html([
        Stat("Dominant (not neutral)", summary.dominant or "no face"),
        Stat("Screen time with faces", f"{summary.face_time:.0%}"),
        Stat("Expressiveness", "–" if not math.isfinite(summary.expressiveness) else f"{summary.expressiveness:.0%}"),
        Stat("Scenes", str(len(report.scenes)), help=f"from {len(report.shots)} shots ({report.segmentation})"),
        Stat("Length", clock(end),   # a full timecode does not fit a figure's column
             help=f"ends at {report.tc(end)}"),
    ]))
    _moments("Most intense scenes", summary.top_scenes, "top_scene")
    _moments("Strongest moments", summary.top_peaks, "top_peak")


@st.fragment
@guarded
def _scene_chart(timeline, noun: str) -> None:
    """Stacked bars or heatmap by scene/shot; switching the view redraws this chart alone."""
    view = st.radio("View", ["Stacked bars", "Heatmap"], horizontal=True, key=f"{_P}view",
                    label_visibility="collapsed", help=f"the emotions of each {noun}, on the film's time axis")
    fig = _built(timeline, "bars", scene_bars) if view == "Stacked bars" else \
        _built(timeline, "heatmap", scene_heatmap)
    st.plotly_chart(fig, key=f"{_P}scenes_chart")


def _show_more(count: int) -> None:
    st.session_state[f"{_P}strip_count"] = count


#: A key frame or moment is clickable: its play button is stretched over the picture and caption (it shows
#: on hover). A tile is a container keyed ``film.tile...`` holding a picture and one button.
_TILE_CSS = """<style>
div[class*="st-key-film-tile"] { position: relative; }
div[class*="st-key-film-tile"] .stElementContainer:has(.stButton) {
  position: absolute; inset: 0; z-index: 2; width: 100% !important; height: 100% !important; max-width: none; }
div[class*="st-key-film-tile"] .stElementContainer:has(.stButton) :is(div, span, button) {
  width: 100% !important; height: 100% !important; max-width: none !important; }
div[class*="st-key-film-tile"] .stButton button {
  background: transparent; border: 2px solid transparent; color: transparent; cursor: pointer; }
div[class*="st-key-film-tile"]:hover .stButton button {
  border-color: var(--primary-color, #ff4b4b); color: white; background: rgba(0, 0, 0, 0.25); }
</style>"""


@st.fragment
@guarded
def _key_frame_strip(timeline, thumbs, noun: str) -> None:
    """Key frames in film order, twelve at first and more on request (a fragment: showing more redraws the
    strip alone). A click on a key frame plays the film from its scene or shot."""
    rows = timeline.rows
    count = max(1, min(st.session_state.get(f"{_P}strip_count", STRIP_FIRST), STRIP_MAX, len(rows)))
    st.html(_TILE_CSS)
    shown = rows[:count]
    for start in range(0, len(shown), STRIP_COLUMNS):
        cols = st.columns(STRIP_COLUMNS)
        for col, row in zip(cols, shown[start:start + STRIP_COLUMNS]):
            thumb = thumbs[row.scene - 1]
            name = f" {row.name}" if row.name else ""
            caption = f"{noun} {row.scene}{name} · {timecode(row.start_s, timeline.fps)} · {row.dominant_emotion or 'no face'}"
            tile = col.container(key=f"{_P}tile{row.scene}")
            if thumb:
                tile.image(thumb, caption=caption, width="stretch")
            else:
                tile.caption(caption)
            if tile.button("Play", icon=PLAY, key=f"{_P}strip_play{row.scene}",
                           help=f"play from {timecode(row.start_s, timeline.fps)}"):
                _play_from_fragment(row.start_s)
    more = min(STRIP_STEP, len(rows) - count, STRIP_MAX - count)
    if more > 0:
        st.button(f"Show {more} more key frames", key=f"{_P}strip_more", on_click=_show_more, args=(count + more,),
                  help=f"{len(rows)} {noun}s in all; at most {STRIP_MAX} key frames at a time")
    elif len(rows) > count:
        st.caption(f"The first {count} of {len(rows)} {noun}s; the {noun} detail below shows any {noun}.")


@st.fragment
@guarded
def _detail(report: VideoReport, timeline, thumbs, noun: str) -> None:
    """One scene/shot in detail (a fragment: choosing another redraws this section alone)."""
    rows = timeline.rows

    def label(n: int) -> str:
        r = rows[n - 1]
        name = f" {r.name}" if r.name else ""
        return f"{noun.title()} {n}{name} · {timecode(r.start_s, timeline.fps)}–{timecode(r.end_s, timeline.fps)} · {r.dominant_emotion or 'no face'}"
    number = st.selectbox(noun.title(), [r.scene for r in rows], format_func=label, key=f"{_P}detail_{noun}")
    row = rows[number - 1]
    left, right = st.columns([2, 3])
    if thumbs[number - 1]:
        left.image(thumbs[number - 1], caption=f"key frame at {timecode(row.key_frame_s, timeline.fps)}", width="stretch")
    if left.button("Play from here", icon=PLAY, key=f"{_P}detail_play"):
        _play_from_fragment(row.start_s)
    stats = [Stat("Duration", f"{row.duration_s:.1f} s"), Stat("Frames with faces", f"{row.face_share:.0%}"),
             Stat("Faces per frame", f"{row.mean_faces:.1f}")]
    if row.dominant_emotion:
        stats += [Stat("Dominant", f"{row.dominant_emotion} {row.dominant_share:.0%}"),
                  Stat("Mood (valence)", f"{row.valence:+.2f}",
                       help="the faces' mood, from -1 (negative) through 0 (balanced) to +1 (positive)"),
                  Stat("Peak", f"{row.peak_emotion} {row.peak_probability:.0%}",
                       note=f"at {timecode(row.peak_time_s, timeline.fps)}")]
    right.html(stats_html(stats, per_row=3, size="1.75rem"))
    if row.dominant_emotion:
        right.html(emotion_bars(row.probabilities))
    else:
        right.info(f"No face in this {noun}'s sampled frames.")
    faces = _built(report.timeline, "frames", lambda tl: tl.frame_table())
    column = "scene" if noun == "scene" or "shot" not in faces.columns else "shot"
    faces = faces[(faces[column] == number) & (faces["faces"] > 0)]
    if len(faces):
        # Each sampled face of this scene: a drill-down, built only while open.
        table = st.expander(f"Faces in this {noun} ({len(faces)} sampled)", key=f"{_P}faces_open",
                            on_change="rerun")
        if table.open:
            table.dataframe(faces, hide_index=True, height=220)


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
        from emotion.film import output

        return {"Per-scene table (CSV)": output.scenes_csv, "Per-shot table (CSV)": output.shots_csv,
                "Per-frame table (CSV)": output.frames_csv, "Summary (JSON)": output.report_json,
                "Report (HTML, offline)": output.html_report, "Markers (EDL)": output.edl,
                "Markers (CSV)": output.markers_csv}[label](self.report)

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
    warnings = list(report.warnings)
    if not report.complete and report.stopped_at is not None:
        # One message about where it stopped, not two (the analysis's own says it when it was cancelled).
        if not any(w.startswith("The analysis was stopped") for w in warnings):
            st.warning(f"Partial results: this covers the film up to {report.tc(report.stopped_at)}.")
    for warning in warnings:
        st.warning(warning)
    if report.from_cache:
        st.caption("Loaded from the cache: this film was analysed before with the same model and settings.")
    elif report.resumed_from is not None:
        st.caption(f"Resumed from {report.tc(report.resumed_from)}; the earlier part came from the checkpoint.")
    _summary(report)
    _player(video_path, report)
    level = st.radio("Rows and charts by", ["scenes", "shots"], horizontal=True, key=f"{_P}level",
                     help="scenes group shots (see 'Scenes are' above); shots are cut to cut")
    timeline, thumbs = report.level(level)
    noun = level[:-1]
    st.subheader("Timeline")
    # Emotions and valence in one figure: each chart costs the browser on its own (one chart fewer: page
    # done 1.81 -> 1.37 s, median of 15 fresh sessions at load 4).
    st.plotly_chart(_built(timeline, "timeline", timeline_with_arc), key=f"{_P}timeline")
    st.subheader(f"Emotions by {noun}")
    _scene_chart(timeline, noun)
    st.subheader("Key frames")
    _key_frame_strip(timeline, thumbs, noun)
    st.subheader(f"{noun.title()} detail")
    _detail(report, timeline, thumbs, noun)
    st.subheader("Downloads")
    files = _downloads(report)
    cols = st.columns(4)
    for i, (label, (name, mime)) in enumerate(files.names.items()):
        cols[i % 4].download_button(label, partial(files.content, label), name, mime, key=f"{_P}dl{i}",
                                    on_click="ignore", type="primary" if i == 0 else "secondary")
    # Built only while open: a feature film's table is thousands of rows the page need not send unasked.
    table = st.expander(f"Per-{noun} table", key=f"{_P}table_open", on_change="rerun")
    if table.open:
        table.dataframe(report.scene_table() if level == "scenes" else report.shot_table(), hide_index=True)
