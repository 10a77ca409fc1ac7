"""Viewers as seats: with a fixed camera on a room, a viewer is a place where a face keeps coming back.

A screening-room camera does not move and its viewers stay in their seats, so
the places where faces recur over the whole recording *are* the viewers
(:func:`find_seats`):

1. seeds: face centres are counted on a grid of half a face; the busiest
   cells become seats, each suppressing the cells within ``SEAT_RADIUS`` face
   sizes of it (two neighbours, a face apart, stay two seats);
2. every face joins the nearest seat within ``SEAT_RADIUS`` of its size (and of
   a similar size); seats move to the median of their faces, three times;
3. in one sample a seat holds one face (the nearest); a seat seen for less
   than ``min_viewer_s`` of face time is no viewer (a passer-by, a false face);
4. seats are numbered in reading order (rows from the top, a face's height apart; left to right), so
   a recording gets the same numbers every time it is analysed.

Someone who turns away, is hidden for a while, or leaves and comes back sits
in the same seat, so stays the same viewer. :func:`group_viewers` chooses
between seats and face tracks (:func:`~emotion.audience.viewers.find_viewers`,
for a camera held by hand or a single webcam viewer who leans about) and says
which it used and why.

>>> boxes = [[0, 0, 40, 40], [100, 0, 140, 40]] * 8          # two seats, 8 samples
>>> v = find_seats(np.repeat(np.arange(8), 2), boxes, fps=4, min_viewer_s=1)
>>> v.viewer.tolist()[:4], v.count
([1, 2, 1, 2], 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: A face belongs to a seat when its centre lies within this many face sizes of the seat's centre.
SEAT_RADIUS = 0.6
#: A seat's faces have sizes within this factor of the seat's.
SIZE_FACTOR = 1.8
#: Seats are used (``grouping="auto"``) when a sample shows at least this many faces (median) ...
ROOM_FACES = 2
#: ... and at least this share of the faces sits in a seat.
SEATED_SHARE = 0.85
GROUPINGS = ("auto", "seats", "tracks")


@dataclass(frozen=True)
class Viewers:
    """Who each face row is: ``viewer`` (N,) numbers from 1, 0 for no viewer; ``boxes`` (count, 4) each
    viewer's median box in the recording's pixels; ``grouping``: ``seats`` or ``tracks``; ``reason``: why."""

    viewer: np.ndarray
    count: int
    grouping: str
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    seated_share: float = 0.0
    reason: str = ""


def _centres_sizes(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    sizes = np.maximum(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]), 1e-6)
    return centres, sizes


def _seeds(centres: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cell = max(1.0, float(np.median(sizes)) / 2)
    q = np.floor(centres / cell).astype(np.int64)
    keys, inverse, counts = np.unique(q, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    order = np.lexsort((keys[:, 1], keys[:, 0], -counts))      # busiest first; ties in a fixed order
    seed_c: list[np.ndarray] = []
    seed_s: list[float] = []
    for k in order:
        rows = np.flatnonzero(inverse == k)
        c = np.median(centres[rows], axis=0)
        s = float(np.median(sizes[rows]))
        if seed_c:
            d = np.linalg.norm(np.asarray(seed_c) - c, axis=1) / np.maximum(np.asarray(seed_s), s)
            if d.min() <= SEAT_RADIUS:
                continue
        seed_c.append(c)
        seed_s.append(s)
    return np.asarray(seed_c, np.float64).reshape(-1, 2), np.asarray(seed_s, np.float64)


def _assign(centres, sizes, seat_c, seat_s, chunk: int = 200_000) -> np.ndarray:
    """The nearest seat of each face within SEAT_RADIUS seat sizes and SIZE_FACTOR of its size, else -1."""
    out = np.full(len(centres), -1, np.int64)
    if not len(seat_c):
        return out
    for a in range(0, len(centres), chunk):
        c, s = centres[a:a + chunk], sizes[a:a + chunk]
        d = np.linalg.norm(c[:, None, :] - seat_c[None, :, :], axis=2) / seat_s[None, :]
        ratio = s[:, None] / seat_s[None, :]
        d[(ratio > SIZE_FACTOR) | (ratio < 1 / SIZE_FACTOR)] = np.inf
        best = d.argmin(axis=1)
        ok = d[np.arange(len(c)), best] <= SEAT_RADIUS
        out[a:a + chunk] = np.where(ok, best, -1)
    return out


def _reading_order(seat_c: np.ndarray, seat_s: np.ndarray) -> np.ndarray:
    """Seat indices in reading order: rows (a gap in height of over a face starts a new row), then x."""
    if not len(seat_c):
        return np.zeros(0, np.int64)
    by_y = np.argsort(seat_c[:, 1], kind="stable")
    row, rows = 0, np.zeros(len(seat_c), np.int64)
    for prev, cur in zip(by_y[:-1], by_y[1:]):
        if seat_c[cur, 1] - seat_c[prev, 1] > max(seat_s[cur], seat_s[prev]):
            row += 1
        rows[cur] = row
    return np.lexsort((seat_c[:, 0], rows))


def find_seats(face_sample, boxes, *, fps: float, min_viewer_s: float = 10.0,
               duration: float | None = None) -> Viewers:
    """Viewers as seats (see the module docstring); per face row of ``face_sample`` (sample numbers)
    and ``boxes`` (N, 4). ``fps`` converts samples to seconds of face time."""
    face_sample = np.asarray(face_sample, np.int64)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(face_sample)
    if n == 0:
        return Viewers(np.zeros(0, np.int32), 0, "seats")
    centres, sizes = _centres_sizes(boxes)
    seat_c, seat_s = _seeds(centres, sizes)
    seat = _assign(centres, sizes, seat_c, seat_s)
    for _ in range(3):                                    # seats move to the median of their faces
        for k in range(len(seat_c)):
            rows = seat == k
            if rows.any():
                seat_c[k] = np.median(centres[rows], axis=0)
                seat_s[k] = float(np.median(sizes[rows]))
        seat = _assign(centres, sizes, seat_c, seat_s)
    # One face per seat and sample: the nearest stays.
    dist = np.full(n, np.inf)
    has = seat >= 0
    dist[has] = np.linalg.norm(centres[has] - seat_c[seat[has]], axis=1) / seat_s[seat[has]]
    order = np.lexsort((dist, seat, face_sample))
    pair = np.stack([face_sample[order], seat[order]], axis=1)
    repeat = np.zeros(n, bool)
    repeat[1:] = (pair[1:] == pair[:-1]).all(axis=1) & (pair[1:, 1] >= 0)
    seat[order[repeat]] = -1
    shortest = min_viewer_s if duration is None else min(min_viewer_s, 0.25 * float(duration))
    counts = np.bincount(seat[seat >= 0], minlength=len(seat_c))
    kept = np.flatnonzero(counts / fps >= shortest)
    ordered = kept[_reading_order(seat_c[kept], seat_s[kept])]
    number = np.zeros(len(seat_c) + 1, np.int32)          # index -1 (no seat) maps to the last slot: 0
    number[ordered] = np.arange(1, len(ordered) + 1)
    viewer = number[seat]
    out_boxes = np.zeros((len(ordered), 4), np.float32)
    for i, k in enumerate(ordered):
        out_boxes[i] = np.median(boxes[seat == k], axis=0)
    return Viewers(viewer.astype(np.int32), len(ordered), "seats", out_boxes, float(np.mean(viewer > 0)))


def group_viewers(sample_time, face_sample, boxes, *, fps: float, grouping: str = "auto", iou: float = 0.3,
                  stitch_gap_s: float = 600.0, min_viewer_s: float = 10.0,
                  duration: float | None = None) -> Viewers:
    """Viewers by seat (a fixed camera on a room) or by face track; ``grouping`` ``auto`` chooses.

    ``auto`` uses seats when a sample shows at least :data:`ROOM_FACES` faces
    (median over the samples with faces) and at least :data:`SEATED_SHARE` of
    the faces sit in a seat; otherwise the faces move about (a phone held by
    hand, one viewer at a laptop who leans) and tracks are used.
    """
    from .viewers import find_viewers

    if grouping not in GROUPINGS:
        raise ValueError(f"grouping must be one of {', '.join(GROUPINGS)}, got {grouping!r}")
    face_sample = np.asarray(face_sample, np.int64)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    per_sample = np.bincount(face_sample)[np.unique(face_sample)] if len(face_sample) else np.zeros(0)
    typical = float(np.median(per_sample)) if len(per_sample) else 0.0
    seats = None
    if grouping in ("auto", "seats"):
        seats = find_seats(face_sample, boxes, fps=fps, min_viewer_s=min_viewer_s, duration=duration)
        if grouping == "seats":
            return _with_reason(seats, "seats, as asked")
        if typical >= ROOM_FACES and seats.seated_share >= SEATED_SHARE:
            return _with_reason(seats, f"seats: a fixed camera on a room ({typical:.0f} faces a sample, "
                                       f"{100 * seats.seated_share:.0f} % of faces in a seat)")
    viewer, count = find_viewers(sample_time, face_sample, boxes, fps=fps, iou=iou, stitch_gap_s=stitch_gap_s,
                                 min_viewer_s=min_viewer_s, duration=duration)
    out_boxes = np.zeros((count, 4), np.float32)
    for v in range(count):
        out_boxes[v] = np.median(boxes[viewer == v + 1], axis=0)
    if grouping == "tracks":
        why = "face tracks, as asked"
    elif typical < ROOM_FACES:
        why = f"face tracks: {typical:.0f} face(s) a sample, not a room"
    else:
        why = (f"face tracks: the faces move about (only {100 * seats.seated_share:.0f} % sit in a seat; "
               "a moving camera?)")
    return Viewers(viewer, count, "tracks", out_boxes, float(np.mean(viewer > 0)) if len(viewer) else 0.0, why)


def _with_reason(v: Viewers, reason: str) -> Viewers:
    return Viewers(v.viewer, v.count, v.grouping, v.boxes, v.seated_share, reason)
