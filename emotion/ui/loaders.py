"""Process-wide cached loaders for the pages, and the fallbacks a user should be told about.

The emotion model and face detectors are loaded once per process with
``st.cache_resource`` and shared by every session and thread. Both are safe
to share: :class:`~emotion.model.EmotionModel` keeps no per-call state and the
face detectors lock their OpenCV objects. A lock around the cached calls
makes two sessions that start at once wait for one load instead of doing two.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import streamlit as st

from emotion.model import checkpoint as model_module
from emotion.detector import EmotionDetector
from emotion.errors import BackendUnavailable, ModelLoadError
from emotion.faces import make_face_detector
from emotion.model import load_model
from emotion.settings import Settings

_lock = threading.RLock()


@st.cache_resource(show_spinner="Loading the emotion model…", max_entries=4)
def _model(name: str, backend: str, bundled_dir: str):
    # bundled_dir is part of the key so a moved bundled checkpoint is not served from the cache.
    return load_model(name, backend)


@st.cache_resource(show_spinner="Preparing the face detector…", max_entries=8)
def _face_detector(kind: str, face_model: str | None, min_face: int, threshold: float, max_side: int,
                   env_face_model: str | None):
    return make_face_detector(kind, face_model, min_face, threshold, max_side)


def cached_model(name: str, backend: str = "auto", mirror: bool | None = None):
    """The emotion model for ``name``/``backend``, loaded once per process.

    ``mirror`` (``None``: as the checkpoint asks) gives a twin of that one model, not a second load.
    """
    with _lock:
        model = _model(name, backend, str(model_module.BUNDLED_DIR))
    return model if mirror is None else model.with_mirror(mirror)


def cached_face_detector(settings: Settings):
    """The face detector for ``settings``, built once per process."""
    with _lock:
        return _face_detector(settings.detector, settings.face_model, settings.min_face, settings.threshold,
                              settings.max_side, os.environ.get("EMOTION_FACE_MODEL"))


@dataclass(frozen=True)
class Loaded:
    """What a page can run with: a detector (or ``None``), the settings really in use, and notes for the user.

    ``notes`` are ``(level, message)`` pairs, level one of ``error``, ``warning``, ``info``.
    """

    detector: EmotionDetector | None
    settings: Settings
    notes: tuple[tuple[str, str], ...] = ()


def load_detector(settings: Settings) -> Loaded:
    """Load model and face detector for ``settings``, falling back where a user would want it.

    A hub or local model that fails falls back to the bundled model; a missing
    bundled model is an error with what to do; a backend that cannot run falls
    back to ``auto``; a YuNet file that does not load falls back to Haar.
    """
    notes: list[tuple[str, str]] = []
    try:
        face = cached_face_detector(settings)
    except ModelLoadError as exc:
        notes.append(("warning", f"Face detector: {exc}. Using the Haar detector instead."))
        settings = settings.replace(detector="haar", face_model=None)
        face = cached_face_detector(settings)
    if face.fallback_reason:
        notes.append(("warning", f"{face.fallback_reason}. (Haar misses turned and small faces.)"))

    model = None
    try:
        model = cached_model(settings.model, settings.backend, settings.mirror)
    except BackendUnavailable as exc:
        notes.append(("warning", f"Backend {settings.backend!r} is not available ({exc}); using 'auto'."))
        settings = settings.replace(backend="auto")
    except ModelLoadError as exc:
        if settings.model == "bundled":
            notes.append(("error", f"No emotion model: {exc}."))
            return Loaded(None, settings, tuple(notes))
        notes.append(("warning", f"Could not load the model {settings.model!r}: {exc}. "
                                 "Falling back to the bundled model."))
        settings = settings.replace(model="bundled")
    if model is None:
        try:
            model = cached_model(settings.model, settings.backend, settings.mirror)
        except (ModelLoadError, BackendUnavailable) as exc:
            notes.append(("error", f"No emotion model: {exc}."))
            return Loaded(None, settings, tuple(notes))
    return Loaded(EmotionDetector(face, model, margin=settings.margin), settings, tuple(notes))
