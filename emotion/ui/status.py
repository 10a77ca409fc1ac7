"""Showing what is loaded (model, face detector, backend) and the notes about fallbacks."""

from __future__ import annotations

import streamlit as st

from .loaders import Loaded


def show_notes(loaded: Loaded) -> None:
    """Render each note as ``st.error`` / ``st.warning`` / ``st.info``."""
    for level, message in loaded.notes:
        {"error": st.error, "warning": st.warning}.get(level, st.info)(message)


def status_rows(loaded: Loaded) -> list[dict[str, str]]:
    """Rows of (part, active, details) describing the loaded detector."""
    det = loaded.detector
    if det is None:
        return [{"part": "Emotion model", "active": "none", "details": "see the error above"}]
    face = det.face_detector
    model = det.model
    return [
        {"part": "Emotion model", "active": model.name,
         "details": f"{len(model.labels)} emotions: {', '.join(model.labels)}"},
        {"part": "Face detector", "active": face.name,
         "details": face.fallback_reason or f"min face {loaded.settings.min_face} px, "
                                            f"threshold {loaded.settings.threshold:.2f}"},
        {"part": "Accelerator backend", "active": model.backend, "details": model.backend_reason},
    ]


def sidebar_status(loaded: Loaded) -> None:
    """One short line under the sidebar settings."""
    det = loaded.detector
    if det is None:
        st.sidebar.caption("No emotion model loaded")
    else:
        st.sidebar.caption(f"Active: {det.model.name} · {det.face_detector.name} · {det.model.backend}")


def setup_page(title: str, icon: str) -> Loaded:
    """The prologue every page shares: page config, sidebar settings, loaded detector, notes.

    >>> loaded = setup_page("Image", "🖼️")      # doctest: +SKIP
    """
    from .loaders import load_detector
    from .sidebar import sidebar_settings

    st.set_page_config(page_title=f"{title} · Emotion analytics", page_icon=icon, layout="wide")
    loaded = load_detector(sidebar_settings())
    sidebar_status(loaded)
    show_notes(loaded)
    return loaded
