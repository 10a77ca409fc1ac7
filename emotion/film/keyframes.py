"""Choosing one thumbnail per scene while the film streams past.

Cuts are reported a little late (shot detectors look a few frames ahead and
back), so the collector keeps every candidate of the last ``horizon`` seconds
as a small image, and only older candidates are reduced to the best one per
scene known so far. Memory stays bounded: one JPEG per scene plus a few
recent thumbnails.

A candidate's score prefers frames with faces, then larger and surer faces;
without faces, the frame with the most contrast (not a black fade).

>>> kf = KeyFrames(horizon=1.0)
>>> kf.add(0.5, 0.2, np.zeros((9, 16, 3), np.uint8))
>>> kf.add(1.0, 1.5, np.full((9, 16, 3), 90, np.uint8))
>>> kf.cut(0.9)
>>> sorted(kf.best([0.0, 0.9]))
[1, 2]
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np


def frame_score(rgb: np.ndarray, boxes: np.ndarray, scores: np.ndarray, width: int, height: int) -> float:
    """How good a thumbnail a sampled frame makes: 1 + face weight with faces, else contrast (< 1)."""
    if len(boxes):
        b = np.asarray(boxes, np.float64)
        area = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
        return 1.0 + float((area / float(width * height) * np.asarray(scores, np.float64)).sum())
    grey = rgb.mean(axis=2) if rgb.ndim == 3 else rgb
    return min(0.99, float(grey.std()) / 128.0)


def encode_jpeg(rgb: np.ndarray, quality: int = 80) -> bytes:
    """JPEG bytes of an RGB uint8 image."""
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("could not encode a thumbnail as JPEG")
    return buf.tobytes()


def thumbnail(rgb: np.ndarray, width: int = 320) -> np.ndarray:
    """``rgb`` shrunk to ``width`` pixels wide (never enlarged)."""
    import cv2

    h, w = rgb.shape[:2]
    if w <= width:
        return np.ascontiguousarray(rgb)
    size = (int(width), max(1, round(h * width / w)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


@dataclass
class Candidate:
    time: float
    score: float
    image: np.ndarray | None = None  # recent candidates keep pixels
    jpeg: bytes = b""                # settled winners keep only JPEG bytes

    def settle(self) -> None:
        if self.image is not None:
            self.jpeg = encode_jpeg(self.image)
            self.image = None


class KeyFrames:
    """Collects sampled-frame thumbnails and keeps the best one per scene."""

    def __init__(self, horizon: float = 2.0):
        self.horizon = float(horizon)
        self._cuts: list[float] = []
        self._settled: dict[int, Candidate] = {}   # segment index (cuts before it) -> best
        self._recent: list[Candidate] = []
        self._now = 0.0

    def _segment(self, time: float) -> int:
        return bisect.bisect_right(self._cuts, time)

    def cut(self, time: float) -> None:
        """A shot starts at ``time`` (cuts arrive in increasing order, possibly late)."""
        if self._cuts and time <= self._cuts[-1]:
            return
        later = [seg for seg in self._settled if seg >= self._segment(time)]
        self._cuts.append(float(time))
        # A late cut can split a segment whose winner was settled; re-file it by time.
        for seg in sorted(later, reverse=True):
            cand = self._settled.pop(seg)
            self._offer(cand)

    def add(self, time: float, score: float, image: np.ndarray) -> None:
        """A sampled frame at ``time`` with its :func:`frame_score` and thumbnail image."""
        self._now = max(self._now, float(time))
        self._recent.append(Candidate(float(time), float(score), image=image))
        self._settle(self._now - self.horizon)

    def _offer(self, cand: Candidate) -> None:
        seg = self._segment(cand.time)
        best = self._settled.get(seg)
        if best is None or cand.score > best.score:
            cand.settle()
            self._settled[seg] = cand

    def _settle(self, before: float) -> None:
        keep = []
        for cand in self._recent:
            if cand.time < before:
                self._offer(cand)
            else:
                keep.append(cand)
        self._recent = keep

    def best(self, scene_starts: list[float]) -> dict[int, Candidate]:
        """The winner for each scene (numbered from 1) given the final scene start times."""
        self._settle(float("inf"))
        starts = list(scene_starts)
        out: dict[int, Candidate] = {}
        for cand in self._settled.values():
            number = bisect.bisect_right(starts, cand.time)
            if number and (number not in out or cand.score > out[number].score):
                out[number] = cand
        return out

    def snapshot(self) -> list[Candidate]:
        """Every candidate still held, as settled JPEGs (for a checkpoint)."""
        cands = list(self._settled.values())
        for cand in self._recent:
            cand.settle()
            cands.append(cand)
        return sorted(cands, key=lambda c: c.time)

    def restore(self, candidates: list[Candidate], cuts: list[float]) -> None:
        """Start from a checkpoint's candidates and cuts.

        Candidates within ``horizon`` of the newest stay unsettled, as they
        were before the checkpoint: cuts found after resuming may still split them.
        """
        self._cuts = sorted(cuts)
        if not candidates:
            return
        self._now = max(self._now, max(c.time for c in candidates))
        for cand in sorted(candidates, key=lambda c: c.time):
            if cand.time < self._now - self.horizon:
                self._offer(cand)
            else:
                self._recent.append(cand)
