"""Rolling, smoothed emotion history per face track, and live speed figures.

The page drains :class:`~emotion.live.session.FrameReport` values and feeds
them here; the chart and the "current emotion" read from here. Smoothing is an
exponential moving average with a time constant in seconds, so a face's curve
means the same whether the model runs at 5 or 30 frames a second.

>>> roll = RollingEmotions(window_s=30, smoothing_s=0)      # doctest: +SKIP
>>> roll.add(report)                                         # doctest: +SKIP
>>> roll.current()                                           # doctest: +SKIP
{1: ('happy', 0.82)}
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..labels import CANONICAL


def probability_vector(probabilities: dict[str, float], labels: tuple[str, ...]) -> np.ndarray:
    """Probabilities in ``labels`` order (0 for a label the model does not have)."""
    return np.array([float(probabilities.get(lab, 0.0)) for lab in labels], np.float64)


class RollingEmotions:
    """Per-track smoothed probabilities over the last ``window_s`` seconds.

    Time is the reports' own wall-clock ``time``: the window ends at the newest
    report, so a paused stream keeps its last 30 seconds on screen.
    Not thread-safe; the page (one script thread) owns it.
    """

    def __init__(self, window_s: float = 30.0, smoothing_s: float = 1.0):
        self.window_s = float(window_s)
        self.smoothing_s = float(smoothing_s)
        self.labels: tuple[str, ...] = ()
        self._points: dict[int, deque] = {}   # track -> (time, smoothed probs)
        self._state: dict[int, tuple[float, np.ndarray]] = {}
        self.now: float | None = None

    def clear(self) -> None:
        self._points.clear()
        self._state.clear()
        self.labels, self.now = (), None

    def add(self, report) -> None:
        """Take in one frame's faces (a :class:`~emotion.live.session.FrameReport`)."""
        labels = tuple(lab for lab in CANONICAL if lab in report.result.labels)
        if labels != self.labels:
            self.clear()          # another model: old curves are over other labels
            self.labels = labels
        t = float(report.time)
        if self.now is not None and t < self.now - self.window_s:
            return                # older than everything on screen
        self.now = t if self.now is None else max(self.now, t)
        for track, face in zip(report.tracks, report.result.faces):
            probs = probability_vector(face.probabilities, labels)
            prev = self._state.get(track)
            if prev is not None and self.smoothing_s > 0 and t > prev[0]:
                alpha = 1.0 - math.exp(-(t - prev[0]) / self.smoothing_s)
                probs = prev[1] + alpha * (probs - prev[1])
            elif prev is not None and t <= prev[0]:
                continue          # out of order: keep the newer state
            self._state[track] = (t, probs)
            self._points.setdefault(track, deque()).append((t, probs))
        self._trim()

    def _trim(self) -> None:
        cutoff = self.now - self.window_s
        for track in list(self._points):
            points = self._points[track]
            while points and points[0][0] < cutoff:
                points.popleft()
            if not points:
                del self._points[track], self._state[track]

    @property
    def tracks(self) -> tuple[int, ...]:
        """Tracks with points in the window, most recently seen first."""
        return tuple(sorted(self._points, key=lambda k: -self._points[k][-1][0]))

    def current(self, max_age_s: float = 2.0) -> dict[int, tuple[str, float]]:
        """Dominant smoothed emotion and its probability per track seen in the last ``max_age_s`` seconds."""
        out = {}
        for track in self.tracks:
            t, probs = self._points[track][-1]
            if self.now - t <= max_age_s:
                i = int(np.argmax(probs))
                out[track] = (self.labels[i], float(probs[i]))
        return out

    def table(self):
        """Long pandas table for the chart: ``track``, ``seconds`` (<= 0: before the newest report),
        ``emotion``, ``probability``."""
        import pandas as pd

        rows = []
        for track in sorted(self._points):
            for t, probs in self._points[track]:
                for lab, p in zip(self.labels, probs):
                    rows.append((track, round(t - self.now, 3), lab, float(p)))
        return pd.DataFrame(rows, columns=["track", "seconds", "emotion", "probability"])


@dataclass(frozen=True)
class SpeedSnapshot:
    """Live speed over the recent past: analysed and camera frame rates, latency percentiles."""

    analysed_fps: float
    camera_fps: float
    latency_p50_ms: float
    latency_p95_ms: float
    inference_p50_ms: float
    dropped: int
    frames: int


class LiveStats:
    """Frames per second and per-frame latency over the last ``window_s`` seconds of reports."""

    def __init__(self, window_s: float = 5.0):
        self.window_s = float(window_s)
        self._reports: deque = deque()  # (time, index, latency_ms, inference_ms)
        self._dropped = 0

    def add(self, report) -> None:
        self._reports.append((float(report.time), int(report.index), float(report.latency_ms),
                              float(report.inference_ms)))
        self._dropped = max(self._dropped, int(report.dropped))
        cutoff = self._reports[-1][0] - self.window_s
        while self._reports and self._reports[0][0] < cutoff:
            self._reports.popleft()

    def snapshot(self) -> SpeedSnapshot:
        """Rates need two reports; with fewer they are 0."""
        r = list(self._reports)
        if not r:
            return SpeedSnapshot(0.0, 0.0, 0.0, 0.0, 0.0, self._dropped, 0)
        lat = np.array([x[2] for x in r])
        inf = np.array([x[3] for x in r])
        span = r[-1][0] - r[0][0]
        analysed = (len(r) - 1) / span if span > 0 else 0.0
        camera = (r[-1][1] - r[0][1]) / span if span > 0 else 0.0
        return SpeedSnapshot(analysed, camera, float(np.percentile(lat, 50)), float(np.percentile(lat, 95)),
                             float(np.percentile(inf, 50)), self._dropped, len(r))
