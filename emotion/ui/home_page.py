"""The Home page: what the app does, a link to each page, and what is loaded (details folded away).

Drawn by ``app.py`` as the first entry of its ``st.navigation``; the pages it links are the
navigation's other entries, so a new page needs one line in ``app.py`` only.
"""

from __future__ import annotations

import streamlit as st

from .loaders import Loaded
from .status import status_rows, technical_details


def render(loaded: Loaded, pages=()) -> None:
    """Draw the home page; ``pages`` is ``[(st.Page, what it does), ...]`` in navigation order.

    >>> run_page(None, ":material/mood:", lambda loaded: render(loaded, pages))   # doctest: +SKIP
    """
    st.title("Emotion analytics")
    st.markdown(
        "Find the faces in photos, webcam streams and films, and estimate the **facial expression** of each one "
        "(angry, disgust, fear, happy, sad, surprise, neutral, and contempt where the model has it). "
        "Everything runs on this machine: no image leaves it."
    )
    st.subheader("Pages")
    for page, what in pages:
        st.page_link(page, label=f"{page.title}: {what}", icon=page.icon or None)
    st.subheader("What is loaded")
    st.table(status_rows(loaded))
    details = technical_details(loaded)
    if details:
        with st.expander("Technical details: how the model runs here"):
            st.markdown("\n".join(f"- {line}" for line in details))
    st.caption(
        "An expression is not a feeling: these scores describe faces, not people's inner states. "
        "Emotion recognition in workplaces and schools is prohibited in the EU (AI Act, Art. 5(1)(f))."
    )
