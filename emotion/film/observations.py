"""What one film pass saw: :class:`Observations`, the sampled frames and the face table scored in them.

The film pass's checkpoint becomes this value (:func:`emotion.film.analyze`), and
:func:`emotion.film.timeline.build_timeline` turns it into scenes, tracks and rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..labels import CANONICAL
from ..types import Faces


def _array(value, dtype, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.array(value, dtype=dtype, copy=True)
    if arr.size == 0:
        arr = np.zeros((0, *shape_tail), dtype)
    if arr.ndim != 1 + len(shape_tail) or arr.shape[1:] != shape_tail:
        raise ValueError(f"{name}: expected shape (N, {', '.join(map(str, shape_tail))})"
                         if shape_tail else f"{name}: expected a 1-D array, got shape {arr.shape}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Observations:
    """What one film pass saw: sampled frames and the faces scored in them.

    ``sample_time``/``sample_frame``: time (s) and frame index of each sampled
    frame, in order. ``faces``: the scored face table of the whole film
    (:class:`~emotion.types.Faces`: boxes in display pixels, detector scores,
    probabilities over ``labels``), whose ``samples`` column (also
    :attr:`face_sample`) says which sampled frame each face row came from.
    ``width``/``height`` are the display frame size.
    """

    labels: tuple[str, ...]
    width: int
    height: int
    sample_time: np.ndarray
    sample_frame: np.ndarray
    faces: Faces
    #: The film's frame rate, for timecodes (0: unknown, times are then shown in milliseconds).
    fps: float = 0.0

    def __post_init__(self) -> None:
        labels = tuple(self.labels)
        bad = [lab for lab in labels if lab not in CANONICAL]
        if bad or not labels:
            raise ValueError(f"Observations.labels: expected canonical emotion names, got {labels}")
        object.__setattr__(self, "labels", labels)
        st = _array(self.sample_time, np.float64, (), "Observations.sample_time")
        sf = _array(self.sample_frame, np.int64, (), "Observations.sample_frame")
        if len(st) != len(sf):
            raise ValueError(f"Observations: {len(st)} sample times but {len(sf)} sample frames")
        if len(st) > 1 and np.any(np.diff(st) < 0):
            raise ValueError("Observations.sample_time: expected times in increasing order")
        faces = self.faces
        if not isinstance(faces, Faces):
            raise ValueError(f"Observations.faces: expected a Faces table, got {type(faces).__name__}")
        if len(faces) == 0 and not faces.labels:
            faces = Faces.empty(labels)
        if faces.labels != labels:
            raise ValueError(f"Observations.faces: expected probabilities over {labels}, got {faces.labels}")
        fs = faces.samples
        if len(fs) and (fs.min() < 0 or fs.max() >= len(st) or np.any(np.diff(fs) < 0)):
            raise ValueError("Observations.face_sample: expected sorted indices into the samples")
        for name, value in (("sample_time", st), ("sample_frame", sf), ("faces", faces)):
            object.__setattr__(self, name, value)
        if int(self.width) <= 0 or int(self.height) <= 0:
            raise ValueError(f"Observations: expected a positive frame size, got {self.width}x{self.height}")

    @classmethod
    def from_columns(cls, labels: Sequence[str], width: int, height: int, sample_time, sample_frame, face_sample,
                     boxes, scores, probs, fps: float = 0.0) -> Observations:
        """Observations from plain columns (a checkpoint's arrays): the face columns become one table."""
        labels = tuple(labels)
        n = len(boxes)
        fs = _array(face_sample, np.int64, (), "Observations.face_sample")
        if len(fs) != n:
            raise ValueError(f"Observations: {len(fs)} face_sample rows but {n} faces")
        return cls(labels, width, height, sample_time, sample_frame,
                   Faces(boxes, scores, labels, probs, samples=fs), fps)

    @classmethod
    def empty(cls, labels: Sequence[str], width: int, height: int) -> Observations:
        return cls(tuple(labels), width, height, [], [], Faces.empty(tuple(labels)))

    @property
    def face_sample(self) -> np.ndarray:
        """The sampled frame of each face row (the table's ``samples`` column)."""
        return self.faces.samples

    @property
    def boxes(self) -> np.ndarray:
        return self.faces.boxes

    @property
    def scores(self) -> np.ndarray:
        return self.faces.scores

    @property
    def probs(self) -> np.ndarray:
        return self.faces.probs

    @property
    def faces_per_sample(self) -> np.ndarray:
        return np.bincount(self.face_sample, minlength=len(self.sample_time)).astype(np.int32)
