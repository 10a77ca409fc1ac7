"""Faces plus emotions: a frame in, scored faces out.

:class:`EmotionDetector` pairs a face detector with an emotion model.
:func:`analyze_image` is the one-call entry point for a photo.

>>> from emotion import analyze_image
>>> result = analyze_image("group.jpg")                       # doctest: +SKIP
>>> [(f.emotion, round(f.confidence, 2)) for f in result.faces]  # doctest: +SKIP
[('happy', 0.91), ('neutral', 0.64)]
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any, Iterable

import numpy as np

from .crops import crop_faces
from .faces import FaceDetector, make_face_detector
from .settings import Settings
from .types import Emotions, Faces, ImageResult

log = logging.getLogger(__name__)


class EmotionDetector:
    """Find faces with ``face_detector`` and score them with ``model`` (an :class:`~emotion.model.EmotionModel`).

    Holds no per-call state, so one instance can serve several threads as
    long as its parts can (both built-in face detectors and the model can).
    """

    def __init__(self, face_detector: FaceDetector, model, margin: float = 0.15):
        self.face_detector = face_detector
        self.model = model
        self.margin = float(margin)

    @property
    def detector_name(self) -> str:
        return self.face_detector.name

    @property
    def model_name(self) -> str:
        return self.model.name

    def _result(self, rgb: np.ndarray, faces: Faces, emotions: Emotions) -> ImageResult:
        return ImageResult(faces=faces.with_emotions(emotions), width=rgb.shape[1], height=rgb.shape[0],
                           detector=self.detector_name, model=self.model_name, labels=self.model.labels)

    def analyze(self, rgb: np.ndarray) -> ImageResult:
        """Every face in an RGB uint8 frame with its box, score, top emotion and probabilities."""
        return self.analyze_many([rgb])[0]

    def analyze_many(self, frames: Iterable[np.ndarray]) -> list[ImageResult]:
        """Like :meth:`analyze` for several frames, with all their faces scored in one batch."""
        frames = list(frames)
        found = [self.face_detector.detect(f) for f in frames]
        crops = [c for f, faces in zip(frames, found) for c in crop_faces(f, faces, self.margin)]
        emotions = self.model.predict(crops)
        out, start = [], 0
        for frame, faces in zip(frames, found):
            n = len(faces)
            part = Emotions(emotions.labels, emotions.probs[start:start + n])
            out.append(self._result(frame, faces, part))
            start += n
        return out


def build_detector(settings: Settings | None = None, expected_faces: int | None = None) -> EmotionDetector:
    """A fresh :class:`EmotionDetector` for ``settings`` (loads the model: seconds, not per frame).

    ``expected_faces``: about how many faces a short job will score (see :func:`emotion.model.load_model`).
    """
    from .model import load_model

    s = settings or Settings()
    model = load_model(s.model, s.backend, mirror=s.mirror, expected_faces=expected_faces)
    face = make_face_detector(s.detector, s.face_model, s.min_face, s.threshold, s.max_side)
    return EmotionDetector(face, model, margin=s.margin)


_cache: OrderedDict[Settings, EmotionDetector] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 4


def get_detector(settings: Settings | None = None) -> EmotionDetector:
    """Like :func:`build_detector`, but reuses detectors built for the same settings in this process."""
    s = settings or Settings()
    with _cache_lock:
        if s in _cache:
            _cache.move_to_end(s)
            return _cache[s]
        det = build_detector(s)
        _cache[s] = det
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return det


def analyze_image(image: Any, settings: Settings | None = None,
                  detector: EmotionDetector | None = None) -> ImageResult:
    """Find the faces in ``image`` and score their emotions.

    ``image`` is a path, bytes, a file-like object, a PIL image or a numpy
    array (see :func:`emotion.media.load_image`). Without ``detector`` one is
    built for ``settings`` (default :class:`Settings`) and reused by later calls.

    >>> analyze_image("photo.jpg", Settings(detector="haar")).faces[0].emotion  # doctest: +SKIP
    'happy'
    """
    from .media import load_image

    rgb = load_image(image)
    return (detector or get_detector(settings)).analyze(rgb)
