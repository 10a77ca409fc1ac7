"""The Film page's "Compare with another analysis" section: a second film, or this film at another rate.

The second analysis goes through the page's own analysis path (same detector,
cache and checkpoints), passed in as ``analyse`` by :mod:`emotion.ui.film_page`
so this module does not import it. The comparison itself is
:func:`emotion.film.compare.compare_reports`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import streamlit as st

from emotion.film import FilmSettings, VideoReport
from emotion.film.compare import compare_reports

_P = "film.compare."
OTHER_FILM, OTHER_RATE = "another film", "this film at another sampling rate"


def _second_film(store: Callable, from_disk: Callable, media: Callable):
    """The second film from the media folder or an upload (None until one is chosen)."""
    files = media()
    if files:
        root = Path(os.environ["EMOTION_MEDIA_DIR"])
        choice = st.selectbox("Second film from the media folder", [None, *files], key=f"{_P}media",
                              format_func=lambda p: "–" if p is None else str(p.relative_to(root)))
        if choice is not None:
            return from_disk(Path(choice))
    upload = st.file_uploader("Second film or cut", key=f"{_P}file",
                              help="compared scene by scene with the film above, on film time from 0")
    if upload is None:
        return None
    try:
        return store(upload)
    except OSError as exc:
        st.error(f"Could not store the second film: {exc.strerror or exc}")
        return None


def compare_section(report: VideoReport, stored, film: FilmSettings, segments: str, *,
                    analyse: Callable[[object, FilmSettings], VideoReport | None],
                    store: Callable, from_disk: Callable, media: Callable, fps_choices=()) -> None:
    """Draw the section under the results of ``report`` (the film ``stored``, analysed with ``film``)."""
    with st.expander("Compare with another analysis", expanded=bool(st.session_state.get(f"{_P}shown"))):
        what = st.radio("Compare with", [OTHER_FILM, OTHER_RATE], horizontal=True, key=f"{_P}what")
        if what == OTHER_RATE:
            other = [f for f in fps_choices if f != film.fps] or [film.fps]
            fps = st.select_slider("Frames sampled per second (B)", other, key=f"{_P}fps")
            second, film_b = stored, replace(film, fps=float(fps))
        else:
            second, film_b = _second_film(store, from_disk, media), film
        if second is None:
            st.caption("Choose the second film (B) to compare with this one (A).")
            return
        ident = (second.sha256, film_b)
        if st.button("Compare", key=f"{_P}start"):
            st.session_state[f"{_P}shown"] = ident
        elif st.session_state.get(f"{_P}shown") != ident:   # a new choice waits for the button
            return
        b = analyse(second, film_b)
        if b is None:
            return
        if not b.complete:
            st.warning(f"{b.source}: partial analysis; only the part analysed is compared.")
        # B's scenes made as A's were ("scenes" where A follows a crew's scene list: that list is A's).
        b = b.resegment(segments)
        comparison = compare_reports(report, b)
        st.markdown(f"**A**: {report.source} ({film.fps:g} frames/s) · **B**: {b.source} ({film_b.fps:g} frames/s). "
                    "Aligned on film time from 0; differences are B − A per scene of A.")
        st.plotly_chart(comparison.figure(), key=f"{_P}figure")
        st.dataframe(comparison.table(), hide_index=True)
        stem = f"{Path(report.source).stem}_vs_{Path(b.source).stem}"
        st.download_button("Comparison (CSV)", comparison.csv(), f"{stem}_compare.csv", "text/csv", key=f"{_P}csv",
                           on_click="ignore")
