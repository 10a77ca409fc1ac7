"""The frozen values that pass between stages: faces, emotions, results.

The settings that produce them live in :mod:`emotion.settings`.

Every class validates itself on construction and says what it expected and
what it got, so a bad value fails where it is made, not three stages later.
"No faces" is an empty value (``len() == 0``), never ``None``.

>>> faces = Faces.empty()
>>> len(faces)
0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .labels import CANONICAL


def _frozen_array(value: Any, dtype, name: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected numbers convertible to {np.dtype(dtype).name}, "
                         f"got {type(value).__name__}") from exc
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Faces:
    """Face boxes found in one frame.

    ``boxes`` is float32 (N, 4) as x1, y1, x2, y2 in the pixels of the frame
    given to the detector; ``scores`` float32 (N,) in [0, 1]. ``landmarks``,
    when the detector finds them (YuNet does, Haar does not), is float32
    (N, 5, 2): right eye, left eye, nose tip, right and left mouth corner, as
    x, y in the same pixels; else None. Arrays are copied and made read-only.

    >>> Faces(boxes=[[10, 10, 50, 60]], scores=[0.9]).boxes.shape
    (1, 4)
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray | None = None

    def __post_init__(self) -> None:
        boxes = _frozen_array(self.boxes, np.float32, "Faces.boxes")
        scores = _frozen_array(self.scores, np.float32, "Faces.scores")
        if boxes.size == 0:
            boxes = np.zeros((0, 4), np.float32)
            boxes.setflags(write=False)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"Faces.boxes: expected shape (N, 4), got {boxes.shape}")
        if scores.shape != (boxes.shape[0],):
            raise ValueError(f"Faces.scores: expected shape ({boxes.shape[0]},), got {scores.shape}")
        if len(boxes) and not np.all(boxes[:, 2:] >= boxes[:, :2]):
            raise ValueError("Faces.boxes: expected x2 >= x1 and y2 >= y1 in every row")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        if self.landmarks is not None:
            marks = _frozen_array(self.landmarks, np.float32, "Faces.landmarks")
            if marks.size == 0:
                marks = np.zeros((0, 5, 2), np.float32)
                marks.setflags(write=False)
            if marks.shape != (boxes.shape[0], 5, 2):
                raise ValueError(f"Faces.landmarks: expected shape ({boxes.shape[0]}, 5, 2), got {marks.shape}")
            object.__setattr__(self, "landmarks", marks)

    @classmethod
    def empty(cls) -> Faces:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def select(self, mask_or_index) -> Faces:
        """A new ``Faces`` holding the rows picked by a boolean mask or index array."""
        marks = None if self.landmarks is None else self.landmarks[mask_or_index]
        return Faces(self.boxes[mask_or_index], self.scores[mask_or_index], marks)

    def scaled(self, factor: float) -> Faces:
        """Boxes multiplied by ``factor`` (to map a downscaled frame back to the original)."""
        marks = None if self.landmarks is None else self.landmarks * np.float32(factor)
        return Faces(self.boxes * np.float32(factor), self.scores, marks)


@dataclass(frozen=True, eq=False)
class Emotions:
    """Emotion probabilities for N faces over ``labels`` (canonical names).

    >>> e = Emotions(("happy", "sad"), [[0.75, 0.25]])
    >>> e.top()
    [('happy', 0.75)]
    """

    labels: tuple[str, ...]
    probs: np.ndarray

    def __post_init__(self) -> None:
        labels = tuple(self.labels)
        bad = [lab for lab in labels if lab not in CANONICAL]
        if bad:
            raise ValueError(f"Emotions.labels: expected canonical names from {CANONICAL}, got {bad}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"Emotions.labels: duplicate labels in {labels}")
        probs = _frozen_array(self.probs, np.float32, "Emotions.probs")
        if probs.size == 0:
            probs = np.zeros((0, len(labels)), np.float32)
            probs.setflags(write=False)
        if probs.ndim != 2 or probs.shape[1] != len(labels):
            raise ValueError(f"Emotions.probs: expected shape (N, {len(labels)}), got {probs.shape}")
        if len(probs) and not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
            raise ValueError("Emotions.probs: expected every row to sum to 1 (probabilities, not logits)")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "probs", probs)

    @classmethod
    def empty(cls, labels: tuple[str, ...]) -> Emotions:
        return cls(tuple(labels), np.zeros((0, len(labels)), np.float32))

    def __len__(self) -> int:
        return int(self.probs.shape[0])

    def top(self) -> list[tuple[str, float]]:
        """The most probable label of each face with its probability."""
        idx = self.probs.argmax(axis=1) if len(self) else np.zeros((0,), int)
        return [(self.labels[i], float(self.probs[r, i])) for r, i in enumerate(idx)]

    def row(self, i: int) -> dict[str, float]:
        """Probabilities of face ``i`` as ``{label: p}``."""
        return {lab: float(p) for lab, p in zip(self.labels, self.probs[i])}


@dataclass(frozen=True)
class FaceResult:
    """One scored face: integer box in image pixels, detector score, top emotion, probabilities."""

    box: tuple[int, int, int, int]
    score: float
    emotion: str
    probabilities: dict[str, float]

    def __post_init__(self) -> None:
        box = tuple(int(round(float(v))) for v in self.box)
        if len(box) != 4 or box[2] < box[0] or box[3] < box[1]:
            raise ValueError(f"FaceResult.box: expected (x1, y1, x2, y2) with x2 >= x1, y2 >= y1, got {self.box}")
        probs = {str(k): float(v) for k, v in dict(self.probabilities).items()}
        if self.emotion not in probs:
            raise ValueError(f"FaceResult.emotion: {self.emotion!r} is not among the labels {list(probs)}")
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "probabilities", probs)

    @property
    def confidence(self) -> float:
        """Probability of the top emotion."""
        return self.probabilities[self.emotion]

    def to_dict(self) -> dict[str, Any]:
        return {"box": list(self.box), "score": round(self.score, 4), "emotion": self.emotion,
                "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()}}


@dataclass(frozen=True)
class ImageResult:
    """Every face found in one image, with the names of the detector and model used."""

    faces: tuple[FaceResult, ...]
    width: int
    height: int
    detector: str
    model: str
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        faces = tuple(self.faces)
        if not all(isinstance(f, FaceResult) for f in faces):
            raise ValueError("ImageResult.faces: expected a tuple of FaceResult")
        if int(self.width) <= 0 or int(self.height) <= 0:
            raise ValueError(f"ImageResult: expected a positive size, got {self.width}x{self.height}")
        object.__setattr__(self, "faces", faces)
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))

    def __len__(self) -> int:
        return len(self.faces)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: detector, model, size, labels and the faces."""
        return {"detector": self.detector, "model": self.model, "width": self.width, "height": self.height,
                "labels": list(self.labels), "faces": [f.to_dict() for f in self.faces]}
