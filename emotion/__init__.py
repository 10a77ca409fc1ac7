"""Facial and audience emotion analytics, offline: faces and their emotions per photo, webcam frame,
film scene, and the audience's reaction to a film, scene by scene.

The public API is imported lazily, so ``import emotion`` stays quick and pulls
in neither torch nor OpenCV until a function needs them.

>>> import emotion
>>> result = emotion.analyze_image("photo.jpg")                 # doctest: +SKIP
>>> result.faces[0].emotion                                     # doctest: +SKIP
'happy'
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> module that defines it
_API = {
    "analyze_image": "emotion.detector",
    "build_detector": "emotion.detector",
    "get_detector": "emotion.detector",
    "EmotionDetector": "emotion.detector",
    "analyze_video": "emotion.film",
    "FilmSettings": "emotion.settings",
    "VideoReport": "emotion.film",
    "analyze_audience": "emotion.audience",
    "analyze_reaction": "emotion.audience",
    "sync_offset": "emotion.audience",
    "AudienceReport": "emotion.audience",
    "AudienceSettings": "emotion.settings",
    "Reaction": "emotion.audience",
    "load_model": "emotion.model",
    "EmotionModel": "emotion.model",
    "make_face_detector": "emotion.faces",
    "load_image": "emotion.media",
    "annotate": "emotion.annotate",
    "Settings": "emotion.settings",
    "Faces": "emotion.types",
    "Emotions": "emotion.types",
    "FaceResult": "emotion.types",
    "ImageResult": "emotion.types",
    "EmotionError": "emotion.errors",
    "UnreadableMedia": "emotion.errors",
    "ModelLoadError": "emotion.errors",
    "SettingsError": "emotion.errors",
    "BackendUnavailable": "emotion.errors",
    "AnalysisCancelled": "emotion.errors",
    "DataError": "emotion.errors",
    "CANONICAL": "emotion.labels",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'emotion' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_API))
