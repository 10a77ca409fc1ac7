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
         "details": f"{len(model.labels)} emotions: {', '.join(model.labels)}"
                    f"{'; each face averaged with its mirror image' if getattr(model, 'mirror', False) else ''}"},
        {"part": "Face detector", "active": face.name,
         "details": face.fallback_reason or f"min face {loaded.settings.min_face} px, "
                                            f"threshold {loaded.settings.threshold:.2f}"},
        {"part": "Accelerator backend", "active": model.backend, "details": _backend_in_words(model.backend_reason)},
    ]


def _backend_in_words(reason: str) -> str:
    if reason.startswith("auto:"):
        return "picked automatically: the fastest way to run the model here that gives the same results"
    return "as chosen in the sidebar (Advanced)"


def technical_details(loaded: Loaded) -> list[str]:
    """The numbers behind the status table (backend race timings, agreement with fp32, model folder), one line each."""
    det = loaded.detector
    if det is None:
        return []
    model = det.model
    lines = [f"Accelerator backend **{model.backend}**: {model.backend_reason}"]
    if getattr(model, "path", None):
        lines.append(f"Emotion model **{model.name}** loaded from `{model.path}`")
    if det.face_detector.fallback_reason:
        lines.append(f"Face detector **{det.face_detector.name}**: {det.face_detector.fallback_reason}")
    return lines


def sidebar_status(loaded: Loaded) -> None:
    """One short line under the sidebar settings."""
    det = loaded.detector
    if det is None:
        st.sidebar.caption("No emotion model loaded")
    else:
        st.sidebar.caption(f"Active: {det.model.name} · {det.face_detector.name} · {det.model.backend}")


APP_NAME = "Emotion analytics"


def model_missing(loaded: Loaded) -> bool:
    """True (and says so on the page) when no emotion model could be loaded; the page then stops.

    The error itself, with what to do, is already shown by :func:`setup_page`.

    >>> if model_missing(loaded):                 # doctest: +SKIP
    ...     return
    """
    if loaded.detector is not None:
        return False
    st.info("This page needs an emotion model; see the message above.")
    return True


def setup_page(title: str | None, icon: str) -> Loaded:
    """The prologue every page shares: page config, sidebar settings, loaded detector, notes.

    ``title`` names the page in the browser tab; ``None`` is the home page (app.py).

    >>> loaded = setup_page("Image", "🖼️")      # doctest: +SKIP
    """
    from .loaders import load_detector
    from .sidebar import sidebar_settings

    page_title = APP_NAME if title is None else f"{title} · {APP_NAME}"
    st.set_page_config(page_title=page_title, page_icon=icon, layout="wide")
    loaded = load_detector(sidebar_settings())
    sidebar_status(loaded)
    show_notes(loaded)
    return loaded
