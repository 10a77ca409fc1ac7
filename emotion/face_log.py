"""The faces a pass gathers, sample by sample: one growing columnar log, shared by the film pass and the reaction scan.

A film pass and a reaction scan both append, for each sampled frame, the faces found
in it: which sample they belong to, their boxes, detector scores, landmarks and
emotion probabilities. :class:`FaceLog` keeps those columns in chunks while the
pass runs (appending is cheap), joins them for a checkpoint (:meth:`arrays`, the
keys the checkpoint files use) and gives them back as one frozen
:class:`~emotion.types.Faces` table (:meth:`table`) whose ``samples`` column
says which sample each face belongs to. What goes in is a scored
:class:`~emotion.types.Faces` table per sample, as the face worker gives it.

Landmarks are kept when the log is made with ``landmarks=True`` (the reaction
scan: attention is read from them); a face without landmarks (Haar) gets NaN
there, so the column always has one row per face.

>>> log = FaceLog(("happy", "sad"))
>>> log.add(0, Faces([[0, 0, 10, 10]], [0.9], ("happy", "sad"), [[0.75, 0.25]]))
>>> log.add(2, Faces([[5, 5, 15, 15], [20, 0, 30, 10]], [0.8, 0.7], ("happy", "sad"), [[0.5, 0.5], [0.1, 0.9]]))
>>> len(log), log.table().samples.tolist()
(3, [0, 2, 2])
>>> log.table().rows()[2].emotion
'sad'
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .types import Faces

#: The checkpoint keys of a log, in order (``landmarks`` only when the log keeps them).
COLUMNS = ("face_sample", "boxes", "scores", "landmarks", "probs")


class FaceLog:
    """Faces appended sample by sample; see the module docstring. Not thread-safe (one pass owns it)."""

    def __init__(self, labels: tuple[str, ...], landmarks: bool = False):
        self.labels = tuple(labels)
        self.keeps_landmarks = bool(landmarks)
        self._chunks: dict[str, list[np.ndarray]] = {name: [] for name in self._columns()}
        self._count = 0

    def _columns(self) -> tuple[str, ...]:
        return tuple(c for c in COLUMNS if c != "landmarks" or self.keeps_landmarks)

    def __len__(self) -> int:
        return self._count

    def add(self, sample: int, faces: Faces) -> None:
        """The scored faces of sample number ``sample`` (their own ``samples`` column is replaced)."""
        n = len(faces)
        if not n:
            return
        if faces.labels != self.labels:
            raise ValueError(f"FaceLog.add: faces scored over {faces.labels}, this log keeps {self.labels}")
        self._chunks["face_sample"].append(np.full(n, int(sample), np.int64))
        self._chunks["boxes"].append(faces.boxes)
        self._chunks["scores"].append(faces.scores)
        self._chunks["probs"].append(faces.probs)
        if self.keeps_landmarks:
            marks = np.full((n, 5, 2), np.nan, np.float32) if faces.landmarks is None else faces.landmarks
            self._chunks["landmarks"].append(marks)
        self._count += n

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns joined, under the checkpoint's keys (empty columns have their full shape)."""
        shapes = {"face_sample": ((0,), np.int64), "boxes": ((0, 4), np.float32), "scores": ((0,), np.float32),
                  "landmarks": ((0, 5, 2), np.float32), "probs": ((0, len(self.labels)), np.float32)}
        out = {}
        for name in self._columns():
            parts = self._chunks[name]
            shape, dtype = shapes[name]
            out[name] = np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype)
            if len(parts) > 1:
                self._chunks[name] = [out[name]]       # joined once: the next call starts from one chunk
        return out

    @classmethod
    def from_arrays(cls, labels: tuple[str, ...], data: Mapping[str, np.ndarray], landmarks: bool = False) -> FaceLog:
        """A log holding a checkpoint's columns (as :meth:`arrays` wrote them)."""
        log = cls(labels, landmarks)
        n = len(data["face_sample"])
        if n:
            for name in log._columns():
                log._chunks[name] = [np.asarray(data[name])]
            log._count = n
        return log

    def copy(self) -> FaceLog:
        """An independent log with the same faces (its chunks are shared, never modified in place)."""
        twin = FaceLog(self.labels, self.keeps_landmarks)
        twin._chunks = {name: list(parts) for name, parts in self._chunks.items()}
        twin._count = self._count
        return twin

    def table(self) -> Faces:
        """Every face as one :class:`~emotion.types.Faces` table, ``samples`` set (landmarks where kept and found)."""
        a = self.arrays()
        marks = a.get("landmarks")
        if marks is not None and (not len(marks) or np.isnan(marks).any()):
            marks = None                 # the table has landmarks for every face or none
        return Faces(a["boxes"], a["scores"], self.labels, a["probs"], landmarks=marks, samples=a["face_sample"])
