"""Showing what is loaded (model, face detector, speed-up), the notes about fallbacks, and the page guard."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

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
        {"part": "Speed-up", **speed_up_in_words(model)},
    ]


#: How each backend runs the model, in a user's words.
_BACKEND_WORDS = {"eager": "none (plain fp32)", "bf16": "bfloat16 arithmetic", "onnx-int8": "8-bit integer model",
                  "ipex": "Intel Extension for PyTorch"}


def speed_up_in_words(model) -> dict[str, str]:
    """The ``active`` and ``details`` cells of the Speed-up row: what runs, how much faster, and why.

    The figures (timings, agreement with fp32) stay in :func:`technical_details`.
    """
    backend = getattr(model, "backend", "eager")
    reason = getattr(model, "backend_reason", "") or ""
    trials = {t.backend: t.seconds for t in getattr(model, "backend_trials", ())
              if t.seconds is not None and t.seconds == t.seconds}
    chosen_by = "picked automatically" if reason.startswith("auto:") else "as chosen in the sidebar (Advanced)"
    if backend == "eager":
        if reason.startswith("auto:"):
            return {"active": "none on this CPU",
                    "details": "no faster way to run the model here gave the same results; see Technical details"}
        return {"active": "none", "details": f"plain fp32, {chosen_by}"}
    words = _BACKEND_WORDS.get(backend, backend)
    if getattr(model, "backend_warning", None):
        return {"active": words, "details": "as chosen in the sidebar, although its answers differ from plain fp32 "
                                            "more than the accuracy check allows (see Technical details)"}
    if trials.get("eager") and trials.get(backend):
        factor = trials["eager"] / trials[backend]
        return {"active": f"{factor:.1f}x faster ({words})",
                "details": f"{chosen_by}; the same top emotion as plain fp32 on at least 99% of faces (checked when loaded)"}
    return {"active": words, "details": f"{chosen_by}; the same top emotion as plain fp32 on at least 99% of faces (checked when loaded)"}


def technical_details(loaded: Loaded) -> list[str]:
    """The numbers behind the status table (backend race timings, agreement with fp32, model folder), one line each."""
    det = loaded.detector
    if det is None:
        return []
    model = det.model
    lines = [f"Inference backend **{model.backend}**: {model.backend_reason}"]
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
        st.sidebar.caption(f"Active: {det.model.name} · {det.face_detector.name} · "
                           f"speed-up: {speed_up_in_words(det.model)['active']}")


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

    >>> loaded = setup_page("Image", ":material/image:")      # doctest: +SKIP
    """
    from .loaders import load_detector
    from .sidebar import sidebar_settings

    page_title = APP_NAME if title is None else f"{title} · {APP_NAME}"
    st.set_page_config(page_title=page_title, page_icon=icon, layout="wide")
    loaded = load_detector(sidebar_settings())
    sidebar_status(loaded)
    show_notes(loaded)
    return loaded


log = logging.getLogger(__name__)

#: What a user reads when something unexpected breaks a page; the traceback goes to the server's log.
UNEXPECTED = ("Something went wrong on this page, and it was not your input. What was already computed is kept: "
              "reload the page to go on. If it happens again, the server's log has the details for a bug report.")


def guarded(draw: Callable) -> Callable:
    """``draw`` with any unexpected exception logged in full and shown as one plain sentence, never a traceback.

    Streamlit's own control flow (``st.rerun``, ``st.stop``) derives from ``BaseException`` and passes
    through. Use it on page bodies and on fragments (a fragment reruns alone, outside the page's guard).

    >>> @guarded
    ... def render(loaded): ...                      # doctest: +SKIP
    """
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        try:
            return draw(*args, **kwargs)
        except Exception:
            log.exception("unexpected error while drawing %s", getattr(draw, "__qualname__", draw))
            st.error(UNEXPECTED, icon=":material/error:")
            return None
    return wrapper


def run_page(title: str | None, icon: str, render: Callable) -> None:
    """Every page's script: :func:`setup_page`, then ``render(loaded)``, both under :func:`guarded`.

    >>> run_page("Film", ":material/movie:", render)      # doctest: +SKIP
    """
    loaded = guarded(setup_page)(title, icon)
    if loaded is not None:
        guarded(render)(loaded)
