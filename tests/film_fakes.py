"""Tiny stand-ins that implement the face-detector and emotion-model contracts, for the film tests.

The fake detector "sees" faces by colour, so synthetic colour scenes decide
what it finds: a reddish frame has one face in its middle, a bright white frame
two faces, anything else none. The fake model scores a crop by its colour:
reddish -> happy, bright -> sad. Both count their calls so tests can check
batching.
"""

from __future__ import annotations

import numpy as np

from emotion.detector import EmotionDetector
from emotion.types import Emotions, Faces

LABELS = ("angry", "happy", "neutral", "sad")
HAPPY = np.array([0.1, 0.7, 0.1, 0.1], np.float32)
SAD = np.array([0.1, 0.1, 0.1, 0.7], np.float32)


class ColourFaces:
    """FaceDetector contract: ``name``, ``fallback_reason``, ``detect(rgb) -> Faces``."""

    name = "colour-faces"
    fallback_reason = None

    def __init__(self):
        self.calls = 0
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, rgb: np.ndarray) -> Faces:
        self.calls += 1
        self.shapes.append(rgb.shape)
        h, w = rgb.shape[:2]
        r, g, b = rgb.reshape(-1, 3).mean(axis=0)
        if r > b + 60 and r > g + 60:
            return Faces([[w * 0.25, h * 0.25, w * 0.75, h * 0.75]], [0.9])
        if min(r, g, b) > 200:
            return Faces([[0, 0, w * 0.25, h * 0.5], [w * 0.5, 0, w * 0.75, h * 0.5]], [0.8, 0.6])
        return Faces.empty()


class ColourModel:
    """EmotionModel contract: ``name``, ``labels``, ``backend``, ``predict(crops) -> Emotions``."""

    name = "colour-model"
    labels = LABELS
    backend = "eager"
    backend_reason = "fake"
    checkpoint = "colour-model-v1"

    def __init__(self):
        self.batches: list[int] = []

    def predict(self, crops) -> Emotions:
        self.batches.append(len(crops))
        probs = np.zeros((len(crops), len(LABELS)), np.float32)
        for i, crop in enumerate(crops):
            r, _g, b = crop.reshape(-1, 3).mean(axis=0)
            probs[i] = HAPPY if r > b + 60 else SAD
        return Emotions(LABELS, probs)


def fake_detector() -> EmotionDetector:
    return EmotionDetector(ColourFaces(), ColourModel())
