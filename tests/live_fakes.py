"""Synthetic frames, results and a fake detector for the live-pipeline tests.

Frames are dark with one bright square for a "face"; :class:`FakeDetector`
finds the square, so every expectation is computed from what the test drew.
"""

from __future__ import annotations

import dataclasses
import threading

import av
import numpy as np

from emotion.errors import EmotionError
from emotion.live import FrameReport
from emotion.types import FaceResult, ImageResult

LABELS = ("happy", "sad", "neutral")


def frame_with_square(x: int, y: int, side: int = 40, w: int = 160, h: int = 120, fmt: str = "rgb24"):
    """A dark ``av.VideoFrame`` with a white square (the fake detector's "face") at (x, y)."""
    rgb = np.full((h, w, 3), 20, np.uint8)
    rgb[y:y + side, x:x + side] = 255
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return frame if fmt == "rgb24" else frame.reformat(format=fmt)


def make_result(boxes, probs=None, w=160, h=120, labels=LABELS) -> ImageResult:
    probs = probs or [dict(zip(labels, (0.7, 0.2, 0.1)))] * len(boxes)
    faces = tuple(FaceResult(tuple(b), 0.9, max(p, key=p.get), p) for b, p in zip(boxes, probs))
    return ImageResult(faces, w, h, "fake", "fake-model", labels)


class FakeDetector:
    """Finds the bright square in a frame; optional gate (blocks until set), cost (advances a fake clock)."""

    def __init__(self, probs=None, gate: threading.Event | None = None, clock=None, cost: float = 0.0,
                 fail_first: int = 0):
        self.probs = probs or dict(zip(LABELS, (0.7, 0.2, 0.1)))
        self.gate, self.clock, self.cost = gate, clock, cost
        self.fail_first = fail_first
        self.seen: list[np.ndarray] = []
        self.started = threading.Event()

    def analyze(self, rgb: np.ndarray) -> ImageResult:
        self.seen.append(rgb)
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10), "test gate never opened"
        if self.clock is not None:
            self.clock.advance(self.cost)
        if self.fail_first > 0:
            self.fail_first -= 1
            raise EmotionError("fake failure")
        ys, xs = np.nonzero(rgb[..., 0] > 200)
        boxes = [] if len(xs) == 0 else [(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)]
        return make_result(boxes, [self.probs] * len(boxes), w=rgb.shape[1], h=rgb.shape[0])


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def tracked(result: ImageResult, tracks) -> ImageResult:
    """``result`` with a track id per face in its table, as the live session's tracker leaves it."""
    return dataclasses.replace(result, faces=result.table.with_tracks(list(tracks)))


def report(t: float, boxes=(), probs=None, tracks=None, index=0, latency=10.0, inference=8.0, dropped=0):
    boxes = list(boxes)
    result = tracked(make_result(boxes, probs), tracks if tracks is not None else range(1, len(boxes) + 1))
    return FrameReport(index=index, time=t, result=result, latency_ms=latency, inference_ms=inference,
                       dropped=dropped)
