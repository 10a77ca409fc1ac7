"""Have the browser fetch and run the code of the elements a page will draw, before it draws them.

Streamlit's frontend loads each kind of element's code the first time a page shows one. Plotly's is
by far the largest (4.7 MB in Streamlit 1.67); a fresh browser fetched and evaluated it only once the
first chart of the Film page's results arrived, about 1-2 s on a busy 2-core machine, and every element
after that chart (player, key frames, downloads) waited with it. Asked for while the user is still
choosing a file, the code is ready when the results come (``benchmarks/bench_film_page_browser.py``
measures the difference).

The files are Streamlit's own, from the folder it serves them from, imported at the URLs its frontend
uses, so the browser evaluates each module once. With a Streamlit whose files are named differently
nothing is asked for ahead and the page only draws as it did before.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import streamlit as st

#: the element code the Film page's results use (file stems in Streamlit's static/js folder)
RESULT_ELEMENTS = ("PlotlyChart", "ImageList", "Button", "DownloadButton", "DataFrame", "Video")


def _frontend_js() -> Path:
    return Path(st.__file__).parent / "static" / "static" / "js"


@functools.cache
def element_files(stems: tuple[str, ...], folder: Path | None = None) -> tuple[str, ...]:
    """Streamlit's frontend files for ``stems`` (``PlotlyChart`` -> ``PlotlyChart.<hash>.js``), those found once.

    ``folder`` is Streamlit's own ``static/js`` unless given (tests).
    """
    folder = _frontend_js() if folder is None else Path(folder)
    found = []
    for stem in stems:
        matches = sorted(folder.glob(f"{stem}.*.js")) if folder.is_dir() else []
        if len(matches) == 1:   # none or several: this Streamlit names its files another way; skip
            found.append(matches[0].name)
    return tuple(found)


def preload_script(files: tuple[str, ...]) -> str:
    """The ``<script>`` that imports ``files`` relative to the frontend's own entry module (any base URL)."""
    return ("<script>(() => { const entry = document.querySelector('script[type=module][src*=\"/static/js/index.\"]');"
            " if (!entry) return;"
            f" for (const f of {json.dumps(list(files))}) import(new URL(f, entry.src).href).catch(() => {{}}); }})()"
            "</script>")


def preload_elements(stems: tuple[str, ...] = RESULT_ELEMENTS) -> None:
    """Ask the browser for the code of ``stems`` now (drawn at the end of the sidebar: it takes no room).

    >>> preload_elements(("PlotlyChart",))   # doctest: +SKIP
    """
    files = element_files(tuple(stems))
    if files:
        st.sidebar.html(preload_script(files), unsafe_allow_javascript=True)
