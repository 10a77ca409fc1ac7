"""Stable ids for faces across live frames, by box overlap.

A webcam shows the same few faces frame after frame; the rolling chart and
the session table follow each one as a *track*. Greedy IoU matching is enough
at webcam frame rates (faces move little between analysed frames) and costs
microseconds, so it runs on the analysis thread for every frame.

>>> t = FaceTracker(iou=0.3, ttl_s=2.0)
>>> t.update([[0, 0, 10, 10]], now=0.0)
(1,)
>>> t.update([[1, 1, 11, 11], [50, 50, 60, 60]], now=0.1)
(1, 2)
"""

from __future__ import annotations

import numpy as np


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (N, 4) with every box in ``b`` (M, 4)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


class FaceTracker:
    """Assigns each face box a track id that persists while the face stays in view.

    Not thread-safe: one tracker belongs to one analysis thread.
    """

    def __init__(self, iou: float = 0.3, ttl_s: float = 2.0):
        self.iou = float(iou)
        self.ttl_s = float(ttl_s)
        self._next = 1
        self._boxes: dict[int, np.ndarray] = {}
        self._seen: dict[int, float] = {}

    def reset(self) -> None:
        """Forget every track; ids start again at 1."""
        self.__init__(self.iou, self.ttl_s)

    def update(self, boxes, now: float) -> tuple[int, ...]:
        """Track ids for ``boxes`` (N, 4) seen at time ``now`` (seconds), in the same order."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        for tid in [t for t, seen in self._seen.items() if now - seen > self.ttl_s]:
            del self._boxes[tid], self._seen[tid]
        ids = list(self._boxes)
        assigned: list[int | None] = [None] * len(boxes)
        if ids and len(boxes):
            overlap = iou_matrix(boxes, np.stack([self._boxes[t] for t in ids]))
            # Greedy: best overlapping pair first, each track and box used once.
            for flat in np.argsort(-overlap, axis=None):
                i, j = divmod(int(flat), len(ids))
                if overlap[i, j] < self.iou:
                    break
                if assigned[i] is None and ids[j] not in assigned:
                    assigned[i] = ids[j]
        for i, box in enumerate(boxes):
            if assigned[i] is None:
                assigned[i] = self._next
                self._next += 1
            self._boxes[assigned[i]] = box
            self._seen[assigned[i]] = now
        return tuple(int(t) for t in assigned)
