"""Who is who in a reaction recording, and who is watching: viewers from face tracks, attention from landmarks.

A reaction recording has no cuts and its viewers stay in their seats, so each
face *track* over the whole recording is a viewer (:func:`find_viewers`):

1. faces of consecutive samples are linked by box overlap
   (:func:`emotion.tracking.assign_tracks`, the whole recording one "scene");
2. a track that ends is *stitched* to one that starts later near where it
   ended, with a similar size (a viewer who looked down, turned away, or
   stepped out): tracks that overlap in time are never joined, so two viewers
   side by side stay two;
3. what is left shorter than ``min_viewer_s`` of face time (a passer-by, a
   false detection) is not a viewer;
4. viewers are numbered from the left of the frame, 1, 2, ...: numbers, never names.

Attention (:func:`attention`) reads YuNet's five landmarks: a face is turned
towards the screen when its nose sits near the midpoint of its eyes
(sideways, ``|nose - eye midpoint| / eye distance`` at most ``yaw_limit``)
and between eyes and mouth (up/down). This assumes the camera sits by the
screen, as a laptop webcam or a camera under a screening-room screen does.
Faces without landmarks (the Haar detector finds frontal faces only) count as attentive.

>>> attention(np.array([[[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]]], np.float32), 0.4).tolist()
[True]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracking import assign_tracks

#: The nose must sit this far down from the eyes towards the mouth (share of eye-to-mouth height).
PITCH_RANGE = (0.2, 0.9)
#: Seconds a face may be missed before its track ends (tracks are then stitched by position).
TRACK_GAP_S = 1.5


def attention(landmarks: np.ndarray, yaw_limit: float) -> np.ndarray:
    """For each face (N, 5, 2 landmarks), whether it is turned towards the camera (True where unknown)."""
    m = np.asarray(landmarks, np.float64).reshape(-1, 5, 2)
    out = np.ones(len(m), bool)
    known = np.isfinite(m).all(axis=(1, 2))
    if not known.any():
        return out
    k = m[known]
    eyes = (k[:, 0] + k[:, 1]) / 2
    mouth = (k[:, 3] + k[:, 4]) / 2
    eye_dist = np.linalg.norm(k[:, 1] - k[:, 0], axis=1)
    height = mouth[:, 1] - eyes[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        yaw = (k[:, 2, 0] - eyes[:, 0]) / eye_dist
        pitch = (k[:, 2, 1] - eyes[:, 1]) / height
    ok = (eye_dist > 0) & (height > 0) & (np.abs(yaw) <= yaw_limit) & (pitch >= PITCH_RANGE[0]) \
        & (pitch <= PITCH_RANGE[1])
    out[known] = ok
    return out


@dataclass(frozen=True)
class _Track:
    id: int
    first: float
    last: float
    first_box: np.ndarray
    last_box: np.ndarray
    samples: int


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def _side(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], box[3] - box[1], 1e-6))


def _continues(end: np.ndarray, start: np.ndarray) -> float | None:
    """How far (in face sizes) a new track starts from where another ended, or None if too far or too different."""
    size_ratio = _side(start) / _side(end)
    if not 0.5 <= size_ratio <= 2.0:
        return None
    distance = float(np.linalg.norm(_centre(start) - _centre(end))) / _side(end)
    return distance if distance <= 0.75 else None


def find_viewers(sample_time, face_sample, boxes, *, fps: float, iou: float = 0.3, stitch_gap_s: float = 600.0,
                 min_viewer_s: float = 10.0, duration: float | None = None) -> tuple[np.ndarray, int]:
    """(viewer number per face row, 0 for faces that belong to no viewer; number of viewers).

    ``sample_time`` (T,) are the sampled frames' times; per face row,
    ``face_sample`` indexes them and ``boxes`` (N, 4) are its box. ``fps``
    converts samples to seconds of face time; ``min_viewer_s`` is capped at a
    quarter of ``duration`` so short recordings keep their viewers.

    >>> find_viewers([0.0, 0.5, 1.0], [0, 1, 2], [[0, 0, 10, 10]] * 3, fps=2, min_viewer_s=1)[0].tolist()
    [1, 1, 1]
    """
    sample_time = np.asarray(sample_time, np.float64)
    face_sample = np.asarray(face_sample, np.int64)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(face_sample)
    if n == 0:
        return np.zeros(0, np.int32), 0
    times = sample_time[face_sample]
    tracks = assign_tracks(face_sample, times, np.zeros(n, np.int64), boxes, iou=iou, max_gap=TRACK_GAP_S)
    summary = []
    for tid in np.unique(tracks):
        rows = np.flatnonzero(tracks == tid)
        summary.append(_Track(int(tid), float(times[rows[0]]), float(times[rows[-1]]), boxes[rows[0]],
                              boxes[rows[-1]], len(rows)))
    summary.sort(key=lambda t: (t.first, t.id))
    groups: list[dict] = []     # {"tracks": [...], "last": time, "box": last box, "samples": n}
    for track in summary:
        best, best_distance = None, None
        for group in groups:
            if not (group["last"] < track.first <= group["last"] + stitch_gap_s):
                continue
            distance = _continues(group["box"], track.first_box)
            if distance is not None and (best_distance is None or distance < best_distance):
                best, best_distance = group, distance
        if best is None:
            best = {"tracks": [], "last": -np.inf, "box": track.last_box, "samples": 0}
            groups.append(best)
        best["tracks"].append(track.id)
        best["last"], best["box"] = track.last, track.last_box
        best["samples"] += track.samples
    shortest = min_viewer_s if duration is None else min(min_viewer_s, 0.25 * float(duration))
    kept = [g for g in groups if g["samples"] / fps >= shortest]
    group_of = {tid: g_index for g_index, g in enumerate(kept) for tid in g["tracks"]}
    centre_x = []
    for g_index, g in enumerate(kept):
        rows = np.isin(tracks, g["tracks"])
        centre_x.append(float(((boxes[rows, 0] + boxes[rows, 2]) / 2).mean()))
    number = {g_index: k + 1 for k, g_index in enumerate(np.argsort(centre_x, kind="stable"))}
    viewer = np.array([number[group_of[t]] if t in group_of else 0 for t in tracks.tolist()], np.int32)
    return viewer, len(kept)
