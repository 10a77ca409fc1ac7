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

from dataclasses import dataclass, field, replace
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


def _int_column(values, n: int, name: str) -> np.ndarray:
    """A frozen int64 column of ``n`` rows (zeros where not given)."""
    column = _frozen_array(np.zeros(n, np.int64) if values is None else values, np.int64, name)
    if column.size == 0:
        column = _frozen_array(np.zeros(n, np.int64), np.int64, name)
    if column.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {column.shape}")
    return column


@dataclass(frozen=True, eq=False)
class Faces:
    """The face table: one row per face, in columns, shared by every stage.

    A detector fills ``boxes`` (float32 (N, 4), x1, y1, x2, y2 in the pixels of
    the frame it was given) and ``scores`` (float32 (N,), in [0, 1]); the
    model adds ``probs`` (float32 (N, L) over ``labels``, canonical names);
    tracking adds ``track_ids`` (int64 (N,), 0 = not tracked); a pass over a
    video or recording sets ``samples`` (int64 (N,), the number of the sampled
    frame each face was seen in; 0 for a single image). Columns not yet
    filled are empty, never None, except ``landmarks``: float32 (N, 5, 2), right
    eye, left eye, nose tip, right and left mouth corner as x, y in the box's
    pixels, when the detector finds them (YuNet does), else None (Haar). Arrays
    are copied and made read-only; every step returns a new table
    (:meth:`with_emotions`, :meth:`with_tracks`, :meth:`with_samples`);
    :meth:`concat` joins tables.
    :class:`FaceResult` is a read-only view of one row, for display and JSON.

    >>> faces = Faces(boxes=[[10, 10, 50, 60]], scores=[0.9])
    >>> faces.boxes.shape, faces.scored
    ((1, 4), False)
    >>> scored = faces.with_emotions(Emotions(("happy", "sad"), [[0.75, 0.25]]))
    >>> scored.rows()[0].emotion
    'happy'
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: tuple[str, ...] = ()
    probs: np.ndarray | None = None
    track_ids: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    samples: np.ndarray | None = None

    def __post_init__(self) -> None:
        boxes = _frozen_array(self.boxes, np.float32, "Faces.boxes")
        scores = _frozen_array(self.scores, np.float32, "Faces.scores")
        if boxes.size == 0:
            boxes = _frozen_array(np.zeros((0, 4), np.float32), np.float32, "Faces.boxes")
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"Faces.boxes: expected shape (N, 4), got {boxes.shape}")
        n = boxes.shape[0]
        if scores.shape != (n,):
            raise ValueError(f"Faces.scores: expected shape ({n},), got {scores.shape}")
        if n and not np.all(boxes[:, 2:] >= boxes[:, :2]):
            raise ValueError("Faces.boxes: expected x2 >= x1 and y2 >= y1 in every row")
        labels = tuple(self.labels)
        bad = [lab for lab in labels if lab not in CANONICAL]
        if bad:
            raise ValueError(f"Faces.labels: expected canonical names from {CANONICAL}, got {bad}")
        probs = np.zeros((n, len(labels)), np.float32) if self.probs is None else self.probs
        probs = _frozen_array(probs, np.float32, "Faces.probs")
        if probs.size == 0:
            probs = _frozen_array(np.zeros((n, len(labels)), np.float32), np.float32, "Faces.probs")
        if probs.shape != (n, len(labels)):
            raise ValueError(f"Faces.probs: expected shape ({n}, {len(labels)}) for {n} faces over {len(labels)} "
                             f"labels, got {probs.shape}")
        tracks = _int_column(self.track_ids, n, "Faces.track_ids")
        samples = _int_column(self.samples, n, "Faces.samples")
        marks = self.landmarks
        if marks is not None:
            marks = _frozen_array(marks, np.float32, "Faces.landmarks")
            if marks.size == 0:
                marks = _frozen_array(np.zeros((0, 5, 2), np.float32), np.float32, "Faces.landmarks")
            if marks.shape != (n, 5, 2):
                raise ValueError(f"Faces.landmarks: expected shape ({n}, 5, 2), got {marks.shape}")
        for name, value in (("boxes", boxes), ("scores", scores), ("labels", labels), ("probs", probs),
                            ("track_ids", tracks), ("landmarks", marks), ("samples", samples)):
            object.__setattr__(self, name, value)

    @classmethod
    def empty(cls, labels: tuple[str, ...] = ()) -> Faces:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), labels)

    @classmethod
    def concat(cls, tables: list[Faces], labels: tuple[str, ...] = ()) -> Faces:
        """The rows of several tables with the same labels, in order."""
        tables = list(tables)
        if not tables:
            return cls.empty(labels)
        labels = tables[0].labels
        if any(t.labels != labels for t in tables):
            raise ValueError("Faces.concat: expected tables over the same labels")
        marks = None
        if all(t.landmarks is not None for t in tables):
            marks = np.concatenate([t.landmarks for t in tables])
        return cls(np.concatenate([t.boxes for t in tables]), np.concatenate([t.scores for t in tables]), labels,
                   np.concatenate([t.probs for t in tables]), np.concatenate([t.track_ids for t in tables]), marks,
                   np.concatenate([t.samples for t in tables]))

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def scored(self) -> bool:
        """Whether the emotion model has filled ``probs``."""
        return bool(self.labels)

    @property
    def emotions(self) -> Emotions:
        """The ``probs`` column as :class:`Emotions` (raises if the faces are not scored yet)."""
        if not self.scored:
            raise ValueError("Faces.emotions: these faces have not been scored; use with_emotions first")
        return Emotions(self.labels, self.probs)

    def with_emotions(self, emotions: Emotions) -> Faces:
        """This table with the model's probabilities, one row per face."""
        if len(emotions) != len(self):
            raise ValueError(f"Faces.with_emotions: expected {len(self)} rows of probabilities, got {len(emotions)}")
        return replace(self, labels=emotions.labels, probs=emotions.probs)

    def with_tracks(self, track_ids) -> Faces:
        """This table with a track id per face."""
        return replace(self, track_ids=track_ids)

    def with_samples(self, samples) -> Faces:
        """This table with the number of the sampled frame of each face (one int for all of them)."""
        if np.ndim(samples) == 0:
            samples = np.full(len(self), int(samples), np.int64)
        return replace(self, samples=samples)

    def select(self, mask_or_index) -> Faces:
        """A new table holding the rows picked by a boolean mask or index array."""
        marks = None if self.landmarks is None else self.landmarks[mask_or_index]
        return Faces(self.boxes[mask_or_index], self.scores[mask_or_index], self.labels,
                     self.probs[mask_or_index], self.track_ids[mask_or_index], marks, self.samples[mask_or_index])

    def scaled(self, factor: float) -> Faces:
        """Boxes and landmarks multiplied by ``factor`` (to map a downscaled frame back to the original)."""
        marks = None if self.landmarks is None else self.landmarks * np.float32(factor)
        return replace(self, boxes=self.boxes * np.float32(factor), landmarks=marks)

    def rows(self) -> tuple[FaceResult, ...]:
        """One :class:`FaceResult` per face (scored tables only): integer boxes, top emotion, probabilities."""
        emotions = self.emotions
        return tuple(FaceResult(box=tuple(self.boxes[i]), score=float(self.scores[i]), emotion=label,
                                probabilities=emotions.row(i)) for i, (label, _p) in enumerate(emotions.top()))


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
    """Every face found in one image, with the names of the detector and model used.

    Built from the scored face table (``faces=Faces``, as :class:`~emotion.detector.EmotionDetector`
    does) or from rows (a tuple of :class:`FaceResult`). ``faces`` holds the rows, the views a page
    or JSON shows; ``table`` the columns, for code that computes on them.
    """

    faces: tuple[FaceResult, ...]
    width: int
    height: int
    detector: str
    model: str
    labels: tuple[str, ...]
    table: Faces | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.faces, Faces):
            table = self.faces
            if not table.scored and len(table):
                raise ValueError("ImageResult.faces: expected a scored face table (Faces.with_emotions)")
            faces = table.rows() if len(table) else ()
        else:
            faces = tuple(self.faces)
            if not all(isinstance(f, FaceResult) for f in faces):
                raise ValueError("ImageResult.faces: expected a Faces table or a tuple of FaceResult")
            table = self.table if self.table is not None else _table_of(faces, tuple(self.labels))
        object.__setattr__(self, "table", table)
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


def _table_of(rows: tuple[FaceResult, ...], labels: tuple[str, ...]) -> Faces:
    """The face table behind rows given one by one (labels missing from a row count as 0)."""
    if not rows:
        return Faces.empty(labels)
    probs = [[r.probabilities.get(lab, 0.0) for lab in labels] for r in rows]
    return Faces([r.box for r in rows], [r.score for r in rows], labels, probs)
