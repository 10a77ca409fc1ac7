"""Following faces through a scene, and smoothing each face's emotions over time.

A film samples a few frames a second; one face seen in consecutive samples of
the same shot should count as one *track*, so its probabilities can be
smoothed (single-frame classifier noise averages out) and a crew can follow
one character. Boxes are linked by overlap (IoU), greedily, best pair first,
and never across a cut: a new shot starts new tracks (:func:`assign_tracks`,
over a whole film's face table at once).

The webcam follows faces frame by frame instead (:class:`FaceTracker`). A busy
machine may read only one frame a second, and a person moves more than a box's
width in that time, so overlap alone splits one person into many faces. The
tracker therefore matches by overlap first, then by position and time: a box
whose centre lies within a reach that grows with the time since the track was
last seen (and whose size is similar) continues it. A track unseen for a while
is kept as *lost* for ``memory_s`` seconds; a face that reappears where it was
lost takes its number back.

>>> assign_tracks(sample=[0, 1, 1], time=[0.0, 0.25, 0.25], scene=[1, 1, 1],
...               boxes=[[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]]).tolist()
[1, 1, 2]
>>> t = FaceTracker(iou=0.3, ttl_s=2.0)
>>> t.update(Faces([[0, 0, 10, 10]], [0.9]), now=0.0).track_ids.tolist()
[1]
>>> t.update(Faces([[1, 1, 11, 11], [50, 50, 60, 60]], [0.9, 0.8]), now=0.1).track_ids.tolist()
[1, 2]
"""

from __future__ import annotations

import numpy as np

from .types import Faces


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


def match_boxes(boxes, previous, ids, iou: float) -> list:
    """For each box in ``boxes`` (N, 4), the id of the ``previous`` box (M, 4) it continues, or None.

    Greedy, best overlapping pair first: each previous box (named by ``ids``,
    M values) continues at most one new box, and only at an overlap of at least
    ``iou``. Ties go to the earlier pair, so the result is deterministic.

    >>> match_boxes([[1, 1, 11, 11], [50, 50, 60, 60]], [[0, 0, 10, 10]], ids=[7], iou=0.3)
    [7, None]
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    ids = list(ids)
    chosen: list = [None] * len(boxes)
    if not ids or not len(boxes):
        return chosen
    overlap = iou_matrix(boxes, previous)
    if overlap.shape != (len(boxes), len(ids)):
        raise ValueError(f"match_boxes: expected {len(ids)} previous boxes (one per id), got {overlap.shape[1]}")
    for flat in np.argsort(-overlap, axis=None, kind="stable"):
        i, j = divmod(int(flat), len(ids))
        if overlap[i, j] < iou:
            break
        if chosen[i] is None and ids[j] not in chosen:
            chosen[i] = ids[j]
    return chosen


def assign_tracks(sample, time, scene, boxes, iou: float = 0.3, max_gap: float = 1.0) -> np.ndarray:
    """A track id (from 1, unique in the video) for each face row.

    Rows are faces; ``sample`` says which sampled frame each came from (rows
    of one frame are adjacent and frames in time order), ``time`` its time in
    seconds, ``scene`` its scene number. A face continues a track when its box
    overlaps the track's last box by at least ``iou`` and the track was seen
    within ``max_gap`` seconds in the same scene.
    """
    sample = np.asarray(sample, np.int64)
    time = np.asarray(time, np.float64)
    scene = np.asarray(scene, np.int64)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(sample)
    if not (len(time) == len(scene) == len(boxes) == n):
        raise ValueError(f"assign_tracks: expected equal lengths, got sample {n}, time {len(time)}, "
                         f"scene {len(scene)}, boxes {len(boxes)}")
    out = np.zeros(n, np.int32)
    if n == 0:
        return out
    if np.any(np.diff(sample) < 0):
        raise ValueError("assign_tracks: rows must be ordered by sample")
    next_id = 1
    active: dict[int, tuple[np.ndarray, float]] = {}  # track id -> (last box, last time)
    current_scene = None
    starts = np.flatnonzero(np.r_[True, sample[1:] != sample[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], n]):
        now, here = time[a], int(scene[a])
        if here != current_scene:
            active, current_scene = {}, here
        active = {t: v for t, v in active.items() if now - v[1] <= max_gap}
        ids = list(active)
        chosen = match_boxes(boxes[a:b], [active[t][0] for t in ids], ids, iou)
        for i in range(b - a):
            if chosen[i] is None:
                chosen[i] = next_id
                next_id += 1
            active[chosen[i]] = (boxes[a + i], now)
            out[a + i] = chosen[i]
    return out


def smooth_tracks(track, time, probs, sigma: float = 0.5) -> np.ndarray:
    """Probabilities smoothed over time within each track (Gaussian, ``sigma`` seconds).

    Centred, so a reaction is not shifted late as a running average would
    shift it; samples further than 3 sigma apart do not mix. Rows still sum
    to 1. ``sigma`` 0 returns a copy.

    >>> smooth_tracks([1, 1, 1], [0.0, 0.25, 0.5], [[1, 0], [0, 1], [1, 0]], sigma=0.25).round(2)
    array([[0.65, 0.35],
           [0.55, 0.45],
           [0.65, 0.35]], dtype=float32)
    """
    track = np.asarray(track, np.int64)
    time = np.asarray(time, np.float64)
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2 or len(probs) != len(track) or len(time) != len(track):
        raise ValueError(f"smooth_tracks: expected probs (N, L) with N = {len(track)}, got {probs.shape}")
    out = probs.copy()
    if sigma <= 0 or len(track) == 0:
        return out.astype(np.float32)
    reach = 3.0 * sigma
    for tid in np.unique(track):
        rows = np.flatnonzero(track == tid)
        if len(rows) < 2:
            continue
        rows = rows[np.argsort(time[rows], kind="stable")]
        t, p = time[rows], probs[rows]
        lo = np.searchsorted(t, t - reach, side="left")
        hi = np.searchsorted(t, t + reach, side="right")
        for block in range(0, len(rows), 256):
            sl = slice(block, min(block + 256, len(rows)))
            j0, j1 = lo[sl].min(), hi[sl].max()
            w = np.exp(-0.5 * ((t[sl, None] - t[None, j0:j1]) / sigma) ** 2)
            w[np.abs(t[sl, None] - t[None, j0:j1]) > reach] = 0.0
            out[rows[sl]] = (w @ p[j0:j1]) / w.sum(axis=1, keepdims=True)
    return out.astype(np.float32)


def _centres_and_sizes(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
    sizes = np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 1e-6, None) * np.clip(boxes[:, 3] - boxes[:, 1], 1e-6, None))
    return centres, sizes


def match_by_position(boxes, previous, ids, ages, iou: float = 0.3, reach: float = 0.75,
                      reach_per_s: float = 1.0, max_reach: float = 2.5) -> list:
    """Like :func:`match_boxes`, then by position and time for the boxes overlap left unmatched.

    ``ages[j]`` is how long ago (s) previous box ``j`` was seen. A box continues a
    previous one whose centre is within ``reach + reach_per_s * age`` face sizes (at
    most ``max_reach``) and whose size is within a factor 1.6. Overlap matches come
    first; then the nearest pairs, greedily.

    >>> match_by_position([[15, 0, 25, 10]], [[0, 0, 10, 10]], ids=[4], ages=[1.0])
    [4]
    >>> match_by_position([[60, 0, 70, 10]], [[0, 0, 10, 10]], ids=[4], ages=[1.0])
    [None]
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    previous = np.asarray(previous, np.float64).reshape(-1, 4)
    ids = list(ids)
    chosen = match_boxes(boxes, previous, ids, iou)
    free_new = [i for i, c in enumerate(chosen) if c is None]
    free_old = [j for j, t in enumerate(ids) if t not in chosen]
    if not free_new or not free_old:
        return chosen
    c_new, s_new = _centres_and_sizes(boxes[free_new])
    c_old, s_old = _centres_and_sizes(previous[free_old])
    ages = np.asarray(ages, np.float64)[free_old]
    size = np.maximum(s_new[:, None], s_old[None, :])
    dist = np.linalg.norm(c_new[:, None, :] - c_old[None, :, :], axis=2) / size
    limit = np.minimum(reach + reach_per_s * np.maximum(ages, 0.0), max_reach)[None, :]
    ratio = np.maximum(s_new[:, None], s_old[None, :]) / np.minimum(s_new[:, None], s_old[None, :])
    ok = (dist <= limit) & (ratio <= 1.6)
    order = np.argsort(np.where(ok, dist, np.inf), axis=None, kind="stable")
    taken: set[int] = set()
    for flat in order:
        a, b = divmod(int(flat), len(free_old))
        if not ok[a, b]:
            break
        i, j = free_new[a], free_old[b]
        if chosen[i] is None and j not in taken:
            chosen[i] = ids[j]
            taken.add(j)
    return chosen


class FaceTracker:
    """Assigns each face box a track id that persists while the face stays in view, whatever the frame rate.

    Matching (see the module docstring): overlap, then position and time. A track
    unseen for more than ``ttl_s`` is *lost*; it is forgotten after ``memory_s``,
    and until then a face that appears near where it was lost (and that no
    visible track claims) takes its id back. Two faces seen at once never share
    an id.

    Not thread-safe: one tracker belongs to one analysis thread.
    """

    def __init__(self, iou: float = 0.3, ttl_s: float = 2.0, memory_s: float = 10.0):
        self.iou = float(iou)
        self.ttl_s = float(ttl_s)
        self.memory_s = max(float(memory_s), self.ttl_s)
        self._next = 1
        self._boxes: dict[int, np.ndarray] = {}
        self._seen: dict[int, float] = {}

    def reset(self) -> None:
        """Forget every track; ids start again at 1."""
        self.__init__(self.iou, self.ttl_s, self.memory_s)

    def update(self, faces: Faces, now: float) -> Faces:
        """The face table seen at time ``now`` (seconds), with a track id per face (its ``track_ids`` column)."""
        return faces.with_tracks(self._ids(faces.boxes, now))

    def _ids(self, boxes, now: float) -> tuple[int, ...]:
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        for tid in [t for t, seen in self._seen.items() if now - seen > self.memory_s]:
            del self._boxes[tid], self._seen[tid]
        # Visible tracks first (overlap, then position); what is left may return to a lost track nearby.
        visible = [t for t in self._boxes if now - self._seen[t] <= self.ttl_s]
        assigned = match_by_position(boxes, [self._boxes[t] for t in visible], visible,
                                     [now - self._seen[t] for t in visible], self.iou)
        lost = [t for t in self._boxes if t not in visible]
        left = [i for i, a in enumerate(assigned) if a is None]
        if left and lost:
            back = match_by_position(boxes[left], [self._boxes[t] for t in lost], lost,
                                     [now - self._seen[t] for t in lost], self.iou, reach=1.0, reach_per_s=0.25,
                                     max_reach=2.0)
            for i, tid in zip(left, back):
                assigned[i] = tid
        for i, box in enumerate(boxes):
            if assigned[i] is None:
                assigned[i] = self._next
                self._next += 1
            self._boxes[assigned[i]] = box
            self._seen[assigned[i]] = now
        return tuple(int(t) for t in assigned)
