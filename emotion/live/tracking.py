"""Stable ids for faces across live frames, by box overlap.

A webcam shows the same few faces frame after frame; the rolling chart and
the session table follow each one as a *track*. Greedy IoU matching is enough
at webcam frame rates (faces move little between analysed frames) and costs
microseconds, so it runs on the analysis thread for every frame. The matching
itself is the film's (:func:`emotion.tracking.match_boxes`); what differs here
is the state: tracks live on across frames until unseen for ``ttl_s`` seconds.

>>> t = FaceTracker(iou=0.3, ttl_s=2.0)
>>> t.update([[0, 0, 10, 10]], now=0.0)
(1,)
>>> t.update([[1, 1, 11, 11], [50, 50, 60, 60]], now=0.1)
(1, 2)
"""

from __future__ import annotations

import numpy as np

from ..tracking import iou_matrix, match_boxes  # the film's matcher; iou_matrix stays importable here

__all__ = ["FaceTracker", "iou_matrix"]


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
        assigned = match_boxes(boxes, [self._boxes[t] for t in ids], ids, self.iou)
        for i, box in enumerate(boxes):
            if assigned[i] is None:
                assigned[i] = self._next
                self._next += 1
            self._boxes[assigned[i]] = box
            self._seen[assigned[i]] = now
        return tuple(int(t) for t in assigned)
