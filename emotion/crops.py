"""The crops the emotion model reads, cut from a frame around each face of a :class:`~emotion.types.Faces` table.

:func:`crop_faces` takes a square around each box with a margin (what every
pipeline uses); :func:`align_face` turns a face by its landmarks to FER2013's
framing (measured, not switched on: see benchmarks/results/alignment.md);
:func:`face_crops` chooses between them.
"""

from __future__ import annotations

import numpy as np

from .types import Faces


def crop_faces(rgb: np.ndarray, faces: Faces, margin: float = 0.15) -> list[np.ndarray]:
    """Square crops around each face, ``margin`` of the face size added on every side, kept in the frame.

    Square crops match how face datasets such as FER2013 frame a face, so the
    emotion model sees the shape it was trained on.
    """
    h, w = rgb.shape[:2]
    crops = []
    for x1, y1, x2, y2 in faces.boxes.tolist():
        side = max(x2 - x1, y2 - y1) * (1.0 + 2.0 * margin)
        cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
        left, top = int(max(0, np.floor(cx - side / 2))), int(max(0, np.floor(cy - side / 2)))
        right, bottom = int(min(w, np.ceil(cx + side / 2))), int(min(h, np.ceil(cy + side / 2)))
        right, bottom = max(right, min(w, left + 1)), max(bottom, min(h, top + 1))
        left, top = min(left, right - 1), min(top, bottom - 1)
        crops.append(np.ascontiguousarray(rgb[top:bottom, left:right]))
    return crops


#: Where FER2013 puts a face, as fractions of its side: the midpoint between the eyes and the midpoint of the
#: mouth corners (YuNet's landmarks on 1,483 of 1,500 Training faces, upscaled to 192 px; medians).
FER_EYES = (0.495, 0.382)
FER_MOUTH = (0.497, 0.754)
#: Below this distance (px) from the eyes to the mouth a face is too small for its landmarks to be trusted
#: (YuNet's landmarks on a 32 px face are off by a pixel or two): it is cropped by its box instead.
MIN_ALIGN_SPAN = 14.0


def align_face(rgb: np.ndarray, landmarks: np.ndarray, box=None) -> np.ndarray | None:
    """The face turned so its eyes are level, scaled and centred by its eyes and mouth to FER2013's framing.

    ``landmarks`` (5, 2): right eye, left eye, nose, right and left mouth corner, in frame pixels (YuNet's).
    The crop is square, at the face's own resolution (the model's preprocessing resizes it), with the frame's
    edge repeated where the face is near it. None when the landmarks are unusable (missing, NaN, eyes and
    mouth closer than :data:`MIN_ALIGN_SPAN`, a head turned by more than 45 degrees): then crop by the box.

    >>> marks = np.array([[40, 40], [60, 40], [50, 50], [42, 62], [58, 62]], np.float32)
    >>> align_face(np.zeros((100, 100, 3), np.uint8), marks).shape
    (59, 59, 3)
    """
    import cv2

    marks = np.asarray(landmarks, np.float64).reshape(-1, 2)
    if marks.shape != (5, 2) or not np.isfinite(marks).all():
        return None
    eyes, mouth = (marks[0] + marks[1]) / 2, (marks[3] + marks[4]) / 2
    dx, dy = marks[1] - marks[0]
    angle = np.arctan2(dy, dx)
    span = float(np.linalg.norm(mouth - eyes))
    if span < MIN_ALIGN_SPAN or abs(angle) > np.pi / 4 or np.hypot(dx, dy) < 2.0:
        return None
    side = int(round(span / (FER_MOUTH[1] - FER_EYES[1])))
    if box is not None:             # never larger than twice the detector's box: a bad landmark cannot zoom out
        x1, y1, x2, y2 = box
        side = min(side, int(2 * max(x2 - x1, y2 - y1)) + 1)
    side = max(side, 8)
    scale = side * (FER_MOUTH[1] - FER_EYES[1]) / span
    cos, sin = np.cos(-angle) * scale, np.sin(-angle) * scale
    # rotate and scale about the eyes' midpoint, then move it to FER's place for the eyes
    tx = FER_EYES[0] * side - (cos * eyes[0] - sin * eyes[1])
    ty = FER_EYES[1] * side - (sin * eyes[0] + cos * eyes[1])
    matrix = np.array([[cos, -sin, tx], [sin, cos, ty]], np.float64)
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(rgb, matrix, (side, side), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def face_crops(rgb: np.ndarray, faces: Faces, margin: float = 0.15, align: bool = False) -> list[np.ndarray]:
    """The crops the emotion model reads: aligned by landmarks (``align``, where the detector gave them and they
    are usable), else the box with ``margin`` (:func:`crop_faces`)."""
    boxed = crop_faces(rgb, faces, margin)
    if not align or faces.landmarks is None:
        return boxed
    out = []
    for crop, marks, box in zip(boxed, faces.landmarks, faces.boxes.tolist()):
        aligned = align_face(rgb, marks, box)
        out.append(crop if aligned is None else aligned)
    return out
