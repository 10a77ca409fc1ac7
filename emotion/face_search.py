"""The thorough face search films use: each frame looked at three ways, the faces found merged by score.

:class:`ThoroughDetector` wraps any :class:`~emotion.faces.FaceDetector`; :func:`merge_faces`
joins the looks.
"""

from __future__ import annotations

import numpy as np

from .faces import check_frame
from .types import Faces


class ThoroughDetector:
    """A detector that looks at each frame twice and keeps every face found once.

    Films are darker and busier than the photos face detectors learn from. On
    165 frames of the shared films labelled by eye (``tests/data/detector_faces.csv``,
    ``benchmarks/bench_detector_recall.py``), YuNet on frames of 480 px missed 11 of
    60 readable faces (recall 0.817). Looking at the frame brightened by a gamma of
    :data:`GAMMA` (faces in shadow) and at the frame as it is shrunk to :data:`SHRINK`
    of its size (faces near YuNet's smallest anchors' upper edge are found at the other
    scale) finds 4 of them with no more false faces (recall 0.883, precision 0.964).
    A third look at the frame as it is, which this detector made until December 2026,
    found nothing more on those frames. Faces from the looks are merged by score:
    a face overlapping a higher-scoring one by :data:`MERGE_IOU` or more is the
    same face. It costs about 1.4 times the single look (the shrunk look has 44 % of the pixels).

    >>> import numpy as np
    >>> from emotion.faces import make_face_detector
    >>> ThoroughDetector(make_face_detector("haar")).detect(np.zeros((64, 64, 3), np.uint8)).boxes.shape
    (0, 4)
    """

    #: The second look's size, as a fraction of the frame's.
    SHRINK = 2 / 3
    #: The third look's gamma (below 1 lifts the shadows).
    GAMMA = 0.75
    #: Faces overlapping this much (intersection over union) are one face.
    MERGE_IOU = 0.3

    def __init__(self, base):
        self.base = base
        self.name = f"{base.name}-thorough"
        self._lut = (255.0 * (np.arange(256) / 255.0) ** self.GAMMA + 0.5).astype(np.uint8)
        # the shrunk look's detector, made once: its minimum face size shrinks with the frame
        self._smaller = base.with_min_face(max(1, round(base.min_face * self.SHRINK)))

    @property
    def min_face(self) -> int:
        return self.base.min_face

    @property
    def threshold(self) -> float:
        return self.base.threshold

    @property
    def max_side(self) -> int:
        return self.base.max_side

    @property
    def fallback_reason(self) -> str | None:
        return getattr(self.base, "fallback_reason", None)

    def with_min_face(self, min_face: int) -> ThoroughDetector:
        """The same three looks with another minimum face size (see :meth:`_Resizable.with_min_face`)."""
        return ThoroughDetector(self.base.with_min_face(min_face))

    def detect(self, rgb: np.ndarray) -> Faces:
        import cv2

        check_frame(rgb)
        h, w = rgb.shape[:2]
        # The brightened frame stands in for the frame as it is: on the labelled frames it finds every
        # face the plain look finds, and those in shadow (two looks, not three: the same recall).
        looks = [self.base.detect(cv2.LUT(rgb, self._lut))]
        size = (max(1, round(w * self.SHRINK)), max(1, round(h * self.SHRINK)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        found = self._smaller.detect(small)
        kx, ky = np.float32(w / size[0]), np.float32(h / size[1])
        marks = None if found.landmarks is None else found.landmarks * np.array([kx, ky], np.float32)
        looks.append(Faces(found.boxes * np.array([kx, ky, kx, ky], np.float32), found.scores, landmarks=marks))
        return merge_faces(looks, self.MERGE_IOU)


def merge_faces(looks: list[Faces], iou: float = 0.3) -> Faces:
    """One :class:`Faces` from several detections of the same frame: by score, overlapping ones dropped.

    >>> a = Faces(np.array([[0, 0, 10, 10]], np.float32), np.array([0.9], np.float32))
    >>> b = Faces(np.array([[1, 1, 11, 11], [50, 50, 60, 60]], np.float32), np.array([0.95, 0.7], np.float32))
    >>> merged = merge_faces([a, b])
    >>> merged.boxes.tolist(), [round(float(x), 2) for x in merged.scores]
    ([[1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]], [0.95, 0.7])
    """
    from .tracking import iou_matrix

    looks = [f for f in looks if len(f)]
    if not looks:
        return Faces.empty()
    boxes = np.concatenate([f.boxes for f in looks]).astype(np.float32)
    scores = np.concatenate([f.scores for f in looks]).astype(np.float32)
    with_marks = all(f.landmarks is not None for f in looks)
    marks = np.concatenate([f.landmarks for f in looks]).astype(np.float32) if with_marks else None
    order = np.argsort(-scores, kind="stable")
    overlap = iou_matrix(boxes, boxes)
    keep: list[int] = []
    for i in order:
        if not keep or overlap[i, keep].max() < iou:
            keep.append(int(i))
    return Faces(boxes[keep], scores[keep], landmarks=None if marks is None else marks[keep])


# ---------------------------------------------------------------- YuNet file
