"""The Audience page: a film, the viewers' reaction recordings, and how the audience reacted scene by scene.

The work is :mod:`emotion.audience`; this module stores uploads, keeps results
in the session and draws them. Steps: choose the film (the Film page's film is
offered, and its analysis is reused from the cache), upload reaction
recordings (each is aligned by sound at once, and its offset can be corrected),
analyse, then explore the panel. Reaction videos are deleted once analysed
unless the user keeps them; what is kept are numbers (the scans are cached by
content, so a corrected offset costs nothing).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import streamlit as st

from emotion.audience import AudienceSettings, analyze_audience, analyze_reaction, output, sync_offset
from emotion.audience.charts import panel_figure, sync_figure, viewer_figure
from emotion.errors import EmotionError
from emotion.film import FilmSettings, analyze_video
from emotion.paths import cache_dir

from . import audience_live
from .film_page import progress_text
from .film_uploads import VIDEO_TYPES, StoredUpload, store_video
from .loaders import Loaded
from .status import model_missing

_P = "audience."
PRIVACY = ("**Consent and privacy.** Film viewers only with their informed consent. Viewers are numbered, never "
           "named; reaction videos are deleted once analysed unless you keep them, and only numbers are kept. "
           "An expression is not a feeling: these scores describe faces, not what people felt.")


def _film() -> StoredUpload | None:
    """The film: a new upload here, else the last one here, else the Film page's film."""
    uploaded = st.session_state.get(f"{_P}film_file")
    if uploaded is not None and st.session_state.get(f"{_P}film_id") != uploaded.file_id:
        stored, problem = store_video(uploaded)
        st.session_state[f"{_P}film"], st.session_state[f"{_P}film_problem"] = stored, problem
        st.session_state[f"{_P}film_id"] = uploaded.file_id
    if uploaded is not None and st.session_state.get(f"{_P}film_problem"):
        st.error(f"{_sentence(st.session_state[f'{_P}film_problem'])} Choose the film itself (a video file).")
        return None
    stored = st.session_state.get(f"{_P}film") or st.session_state.get("film.upload")
    return stored if stored is not None and stored.path.exists() else None


def _sentence(text: str) -> str:
    """``text`` ending as a sentence does, so another can follow it."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _reactions() -> list[StoredUpload]:
    """Reaction uploads, stored once each (kept in the session while they are on disk)."""
    stored: dict = st.session_state.setdefault(f"{_P}stored", {})
    problems: dict = st.session_state.setdefault(f"{_P}problems", {})
    for uploaded in st.session_state.get(f"{_P}files") or []:
        if uploaded.file_id not in stored and uploaded.file_id not in problems:
            video, problem = store_video(uploaded, cache_dir("audience") / "uploads")
            if video is None:
                problems[uploaded.file_id] = problem
            else:
                stored[uploaded.file_id] = video
    current = {u.file_id for u in st.session_state.get(f"{_P}files") or []}
    for fid, problem in problems.items():
        if fid in current:
            st.error(f"{_sentence(problem)} It is left out; remove it from the list or upload the recording itself.")
    return [s for fid, s in stored.items() if fid in current]


def _sync(film: StoredUpload, rec: StoredUpload):
    """The sync of ``rec`` to ``film`` (computed once per pair): a SyncResult, or the error's text."""
    syncs: dict = st.session_state.setdefault(f"{_P}syncs", {})
    key = (film.sha256, rec.sha256)
    if key not in syncs:
        try:
            with st.spinner(f"Aligning {rec.name} to the film by sound…"):
                syncs[key] = sync_offset(film.path, rec.path, name=rec.name)
        except EmotionError as exc:
            syncs[key] = str(exc)
    return syncs[key]


def _offset_box(film: StoredUpload, rec: StoredUpload, number: int) -> float | None:
    """Show one reaction's sync and an offset box; the offset in use (None until one is known)."""
    sync = _sync(film, rec)
    key = f"{_P}offset.{rec.sha256[:16]}"
    with st.expander(f"Reaction {number}: {rec.name}", expanded=True):
        if isinstance(sync, str):
            st.warning(f"{sync}: type it below.")
            value = st.number_input("Offset (s): the recording time at which the film starts", value=None,
                                    step=0.1, format="%.2f", key=key, placeholder="type the offset")
            return None if value is None else float(value)
        left, right = st.columns([2, 3])
        left.metric("Film starts at", f"{sync.offset_s:+.2f} s", help="of the recording; negative: the recording "
                    "began after the film")
        left.metric("Confidence", f"{sync.confidence:.2f}")
        for warning in sync.warnings:
            left.warning(warning)
        right.plotly_chart(sync_figure(sync), key=f"{key}.plot")
        value = st.number_input("Offset (s): correct it here if needed", value=round(sync.offset_s, 3), step=0.1,
                                format="%.3f", key=key)
        return float(value)


def _analyse(film: StoredUpload, recs: list[StoredUpload], offsets: dict, loaded: Loaded,
             audience: AudienceSettings, keep: bool) -> None:
    bar = st.progress(0.0, text="Analysing the film…")
    try:
        report = analyze_video(film.path, loaded.settings, FilmSettings(fps=audience.fps), detector=loaded.detector,
                               content_hash=film.sha256,
                               progress=lambda p: bar.progress(min(1.0, p.fraction or 0.0),
                                                               text=f"Film: {progress_text(p)}"))
        reactions = {}
        for i, rec in enumerate(recs, 1):
            sync = _sync(film, rec)
            offset = offsets[rec.sha256]
            use = sync if not isinstance(sync, str) and math.isclose(offset, round(sync.offset_s, 3)) else offset
            reactions[rec.sha256] = analyze_reaction(
                rec.path, use, loaded.settings, audience, detector=loaded.detector, content_hash=rec.sha256,
                name=rec.name, progress=lambda p, i=i, n=rec.name: bar.progress(
                    min(1.0, p.fraction or 0.0), text=f"Reaction {i} of {len(recs)} ({n}): {progress_text(p)}"))
    except EmotionError as exc:
        bar.empty()
        st.error(str(exc))
        return
    bar.empty()
    st.session_state[f"{_P}film_report"] = report
    st.session_state[f"{_P}results"] = reactions
    if not keep:
        for rec in recs:
            rec.path.unlink(missing_ok=True)
        st.session_state[f"{_P}deleted"] = [r.name for r in recs]


def render(loaded: Loaded) -> None:
    """Draw the page body for an already loaded detector (the sidebar is drawn by the page)."""
    st.title("Audience: how viewers reacted, scene by scene")
    st.caption("Film the viewers while they watch, with sound: each recording is aligned to the film by its "
               "soundtrack, every face becomes a viewer, and the panel's expressions are summed per scene.")
    st.info(PRIVACY)
    if model_missing(loaded):
        return
    st.subheader("1. The film")
    st.file_uploader("Film or trailer (or keep the Film page's film)", type=list(VIDEO_TYPES),
                     key=f"{_P}film_file")
    film = _film()
    if film is None:
        st.info("Choose the film the audience watched.")
        return
    st.caption(f"Film: **{film.name}**")
    st.subheader("2. Reaction recordings")
    st.file_uploader("Reaction videos (webcam, phone or screening-room camera, with sound)",
                     type=list(VIDEO_TYPES), accept_multiple_files=True, key=f"{_P}files")
    recs = _reactions()
    results: dict = st.session_state.get(f"{_P}results") or {}
    report_film = st.session_state.get(f"{_P}film_report")
    offsets = {}
    for i, rec in enumerate(recs, 1):
        offsets[rec.sha256] = _offset_box(film, rec, i)
    keep = st.checkbox("Keep the reaction videos after the analysis", value=False, key=f"{_P}keep",
                       help="off: each video is deleted from this machine once analysed; only numbers stay")
    work, live_area = st.container(), st.container()   # the live screening is drawn last, in its own section
    with live_area:
        live = audience_live.section(film, loaded)
    with work:
        _analyse_and_show(film, recs, offsets, results, report_film, live, loaded, keep)


def _analyse_and_show(film, recs, offsets, results, report_film, live, loaded, keep) -> None:
    """Step 3, analyse (the button), and step 4, the panel."""
    st.subheader("3. Analyse")
    audience = AudienceSettings(fps=4.0)
    missing = [r.name for r in recs if offsets[r.sha256] is None]
    todo = [r for r in recs if r.sha256 not in results or report_film is None]
    if report_film is not None and Path(report_film.source).name != film.path.name:
        report_film = None          # the panel's film changed
    if recs and missing:
        st.warning(f"Give an offset for {', '.join(missing)} to analyse it.")
    elif (todo or (live and report_film is None)) and st.button("Analyse reactions", type="primary",
                                                                 key=f"{_P}start"):
        on_disk = [r for r in todo if r.path.exists()]
        if len(on_disk) < len(todo):
            st.error("Some reaction videos were deleted after an earlier analysis; upload them again.")
        else:
            _analyse(film, recs, offsets, loaded, audience, keep)
            results = st.session_state.get(f"{_P}results") or {}
            report_film = st.session_state.get(f"{_P}film_report")
    deleted = st.session_state.get(f"{_P}deleted")
    if deleted:
        st.caption(f"Deleted after analysis: {', '.join(deleted)}.")
    shown = [results[r.sha256] for r in recs if r.sha256 in results]
    if not (shown or live) or report_film is None:
        if not recs and not live:
            st.info("Upload one or more reaction recordings, or screen the film live.")
        return
    reactions = []
    for rec, reaction in zip([r for r in recs if r.sha256 in results], shown):
        offset = offsets[rec.sha256]
        if offset is not None and not math.isclose(offset, round(reaction.offset_s, 3)):
            reaction = reaction.with_offset(offset)
        reactions.append(reaction)
    reactions.extend(live)
    try:
        report = analyze_audience(report_film, reactions, audience)
    except EmotionError as exc:
        st.error(str(exc))
        return
    st.subheader("4. How the audience reacted")
    show_panel(report)


_PERCENT = st.column_config.NumberColumn(format="%.0f%%")
_SIGNED = st.column_config.NumberColumn(format="%+.2f")


def _ranking_table(report) -> None:
    """Scenes strongest first, in a crew's words: timecodes, percentages, valence; the CSV keeps the raw names."""
    ranking = report.ranking()
    unseen = ranking[ranking["viewers"] == 0]
    ranking = ranking[ranking["viewers"] > 0]
    emotions = [e for e in report.labels if e != "neutral"]
    shown = {"scene": "Scene", "start_timecode": "Starts", "end_timecode": "Ends",
             "headline": "What the audience did", "viewers": "Viewers seen",
             "audience_expression": "Faces moved", "attentive_share": "Facing the screen",
             "audience_valence": "Audience mood", "screen_valence": "On-screen mood",
             **{f"audience_{e}": e for e in emotions}}
    table = ranking[[c for c in shown if c in ranking]].rename(columns=shown)
    percent = ["Faces moved", "Facing the screen", *emotions]
    for column in percent:
        if column in table:
            table[column] = 100 * table[column].astype(float)
    config = {c: _PERCENT for c in percent} | {"Audience mood": _SIGNED, "On-screen mood": _SIGNED}
    config["What the audience did"] = st.column_config.TextColumn(
        width="large", help="the share of the viewers seen whose face showed an emotion at least 15 points above "
                            "their own resting face (their median over the screening)")
    config["Faces moved"] = st.column_config.NumberColumn(
        format="%.0f%%", help="mean probability of the emotions other than neutral across viewers with a face")
    config["On-screen mood"] = st.column_config.NumberColumn(
        format="%+.2f", help="valence of the faces on screen; empty where the scene shows no readable face")
    st.dataframe(table, hide_index=True, height=min(400, 38 + 35 * max(1, len(table))), column_config=config)
    if len(unseen):
        st.caption(f"No viewer's face was seen in scene{'s' if len(unseen) > 1 else ''} "
                   f"{', '.join(str(int(n)) for n in sorted(unseen['scene']))}, so they are not ranked.")


def _seat_maps(report) -> None:
    """Each room's seat map (faces blurred), with a PNG download."""
    from emotion.audience.seatmap import seat_map_png

    stem = Path(report.film).stem or "film"
    for i, reaction in enumerate(report.reactions):
        png = seat_map_png(report, i)
        if png is None:
            continue
        st.image(png, caption=f"{reaction['name']}: each viewer where they sat, coloured by what their face showed "
                              "most above their resting face over the film (faces blurred)")
        st.download_button("Seat map (PNG)", png, f"{stem}_{Path(reaction['name']).stem}_seats.png", "image/png",
                           key=f"{_P}dl_seats_{i}", on_click="ignore")


def _peaks_table(report) -> None:
    rows = [{"Timecode": report.tc(p.time_s), "Scene": p.scene, "Emotion": p.emotion,
             "Level": 100 * p.level, "Rise": 100 * p.rise, "Viewers": p.viewers} for p in report.peaks]
    st.dataframe(rows, hide_index=True, column_config={
        "Level": _PERCENT, "Rise": st.column_config.NumberColumn(
            format="%+.0f%%", help=f"how much the emotion rose over the {report.settings.peak_window_s:g} s before")})


def show_panel(report) -> None:
    """The panel: overview, timeline with bands, scene ranking, peaks, per-viewer traces and downloads."""
    for warning in report.warnings:
        st.warning(warning)
    cols = st.columns(4)
    cols[0].metric("Viewers", report.viewers)
    cols[1].metric("Reactions", len(report.reactions))
    cols[2].metric("Scenes", len(report.scenes))
    corr = report.valence_correlation
    cols[3].metric("Mood vs screen", "–" if corr is None else f"{corr:+.2f}",
                   help="correlation over scenes of the audience's mood (valence) with the mood of the faces on "
                        "screen: +1 the audience mirrors the screen, -1 the opposite")
    st.subheader("Panel timeline")
    means = np.nanmean(report.seconds.mean, axis=0) if np.isfinite(report.seconds.mean).any() else \
        np.zeros(len(report.labels))
    strongest = [report.labels[j] for j in np.argsort(-np.nan_to_num(means)) if report.labels[j] != "neutral"][:4]
    emotions = st.multiselect("Emotions", list(report.labels), default=strongest, key=f"{_P}emotions",
                              help="by default the four the audience showed most, besides neutral")
    st.plotly_chart(panel_figure(report, emotions), key=f"{_P}panel")
    from emotion.audience.panel import MIN_BAND_VIEWERS

    few = int((report.seconds.viewers < MIN_BAND_VIEWERS).sum())
    if few:
        st.caption(f"The shaded band is where the audience's mean would lie with 95% confidence (Wilson score "
                   f"interval over viewers). It is left out for {few} of {len(report.seconds.viewers)} seconds "
                   f"where fewer than {MIN_BAND_VIEWERS} viewers' faces were seen: one or two faces say too "
                   "little about an audience.")
    st.subheader("Scenes ranked by how many in the audience responded")
    _ranking_table(report)
    if report.peaks:
        st.subheader("Audience peaks")
        _peaks_table(report)
    if report.viewers:
        st.subheader("Viewers")
        from emotion.audience.report import found_in_words

        for reaction in report.reactions:
            st.caption(found_in_words(reaction))
        _seat_maps(report)
        st.dataframe(report.viewers_in_words(), hide_index=True)
    if report.viewers and st.toggle("Show each viewer's trace", key=f"{_P}traces"):
        viewer = st.selectbox("Viewer", list(range(1, report.viewers + 1)), key=f"{_P}viewer",
                              format_func=lambda v: f"Viewer {v} ({report.viewer_names[v - 1]})")
        st.plotly_chart(viewer_figure(report, viewer), key=f"{_P}viewer_plot")
    st.subheader("Downloads")
    stem = Path(report.film).stem or "film"
    cols = st.columns(5)
    cols[0].download_button("Per-scene (CSV)", output.scenes_csv(report), f"{stem}_audience_scenes.csv", "text/csv",
                            key=f"{_P}dl_scenes", on_click="ignore", type="primary")
    cols[1].download_button("Per-second (CSV)", output.seconds_csv(report), f"{stem}_audience_seconds.csv", "text/csv",
                            key=f"{_P}dl_seconds", on_click="ignore")
    cols[2].download_button("Per-viewer (CSV)", output.viewers_csv(report), f"{stem}_audience_viewers.csv", "text/csv",
                            key=f"{_P}dl_viewers", on_click="ignore")
    cols[3].download_button("Summary (JSON)", output.report_json(report), f"{stem}_audience.json", "application/json",
                            key=f"{_P}dl_json", on_click="ignore")
    cols[4].download_button("Report (HTML)", output.report_html(report), f"{stem}_audience.html", "text/html",
                            key=f"{_P}dl_html", on_click="ignore")
