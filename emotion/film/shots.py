"""Shot cuts -> a scene list, from frames the caller decodes itself.

PySceneDetect's detectors (:class:`scenedetect.ContentDetector`,
:class:`scenedetect.AdaptiveDetector`) are fed by :class:`ShotDetector`, one
small BGR frame at a time, so the same decoding pass that samples frames for
faces also finds the cuts; PySceneDetect never opens the file. Timestamps go
in as exact times (microseconds), so variable frame rate video cuts at the
right moment.

A video without a cut is one scene.

>>> from emotion.film.video import open_video
>>> with open_video("trailer.mp4") as video:                          # doctest: +SKIP
...     shots = ShotDetector("content", fps=video.info.fps)
...     for frame in video.frames():
...         shots.push(frame.index, frame.time, frame.small_bgr(2))
...     scenes = shots.scenes(end_time=frame.time + 1 / video.info.fps, end_frame=frame.index + 1)
>>> len(scenes)                                                       # doctest: +SKIP
31
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..settings import SCENE_DETECTORS, check_choice, check_number

log = logging.getLogger(__name__)

#: Default cut threshold of each detector (PySceneDetect's own defaults).
DEFAULT_THRESHOLDS = {"content": 27.0, "adaptive": 3.0}
_US = Fraction(1, 1_000_000)


@dataclass(frozen=True)
class Cut:
    """A shot change: the first frame of the new shot (time in seconds and its index)."""

    time: float
    frame: int


@dataclass(frozen=True)
class Scene:
    """One shot: number (from 1), start/end in seconds (end exclusive) and frame indices (end exclusive).

    >>> Scene(1, 0.0, 2.5, 0, 60).duration
    2.5
    """

    number: int
    start: float
    end: float
    start_frame: int
    end_frame: int

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ValueError(f"Scene.number: expected 1 or more, got {self.number}")
        if not (0.0 <= self.start <= self.end):
            raise ValueError(f"Scene {self.number}: expected 0 <= start <= end, got {self.start}..{self.end}")
        if not (0 <= self.start_frame <= self.end_frame):
            raise ValueError(f"Scene {self.number}: expected 0 <= start_frame <= end_frame, "
                             f"got {self.start_frame}..{self.end_frame}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame


def make_scenedetect_detector(kind: str = "content", threshold: float | None = None,
                              min_scene_len: float = 0.5):
    """A PySceneDetect detector: ``content`` (fast cuts) or ``adaptive`` (robust to camera motion).

    ``threshold`` defaults to PySceneDetect's own (27 for content, 3 for the
    adaptive ratio); ``min_scene_len`` is in seconds.
    """
    check_choice("scene_detector", kind, SCENE_DETECTORS)
    if threshold is not None:
        check_number("scene_threshold", threshold)
    check_number("min_scene_len", min_scene_len)
    from scenedetect import AdaptiveDetector, ContentDetector

    value = float(DEFAULT_THRESHOLDS[kind] if threshold is None else threshold)
    if kind == "content":
        return ContentDetector(threshold=value, min_scene_len=float(min_scene_len))
    return AdaptiveDetector(adaptive_threshold=value, min_scene_len=float(min_scene_len))


class ShotDetector:
    """Collects cuts from a PySceneDetect detector fed with frames we decoded.

    ``detector`` may be any object with PySceneDetect's ``process_frame`` /
    ``post_process`` interface (tests pass fakes); otherwise one is made by
    :func:`make_scenedetect_detector`. Frames go in with :meth:`push`, in
    order; cuts at or before ``ignore_before`` seconds are dropped (used when
    an analysis resumes and re-feeds a few frames to warm the detector up).
    """

    def __init__(self, kind: str = "content", threshold: float | None = None, min_scene_len: float = 0.5,
                 fps: float = 25.0, detector=None, ignore_before: float = -1.0):
        self._detector = detector if detector is not None else make_scenedetect_detector(kind, threshold,
                                                                                          min_scene_len)
        self._rate = Fraction(fps).limit_denominator(100_000) if fps and fps > 0 else Fraction(25)
        # Cuts may refer to frames a few steps back (AdaptiveDetector's window, flash filter).
        self._recent: deque[tuple[int, int]] = deque(maxlen=max(64, 2 * self._lag_frames()))
        self._cuts: list[Cut] = []
        self._ignore_before = float(ignore_before)
        self._last: tuple[int, float] | None = None

    def _lag_frames(self) -> int:
        return int(getattr(self._detector, "event_buffer_length", 0) or 0) + \
            2 * int(getattr(self._detector, "window_width", 0) or 0)

    @property
    def cuts(self) -> tuple[Cut, ...]:
        return tuple(self._cuts)

    def _timecode(self, time: float):
        from scenedetect import FrameTimecode
        from scenedetect.common import Timecode

        return FrameTimecode(Timecode(pts=round(time * 1_000_000), time_base=_US), fps=self._rate)

    def _collect(self, found: Iterable) -> list[Cut]:
        new = []
        lookup = dict(self._recent)
        for tc in found:
            us = int(getattr(tc, "pts", round(float(tc.seconds) * 1_000_000)))
            time = us / 1_000_000
            frame = lookup.get(us)
            if frame is None:
                frame = round(time * float(self._rate))
            if time <= self._ignore_before or time <= 0.0:
                continue
            if self._cuts and time <= self._cuts[-1].time:
                continue
            cut = Cut(time, frame)
            self._cuts.append(cut)
            new.append(cut)
        return new

    def push(self, index: int, time: float, bgr: np.ndarray) -> list[Cut]:
        """Feed the next frame (BGR uint8, any size but the same every time); returns new cuts."""
        tc = self._timecode(time)
        self._recent.append((int(tc.pts), int(index)))
        self._last = (int(index), float(time))
        return self._collect(self._detector.process_frame(tc, bgr))

    def finish(self) -> list[Cut]:
        """Tell the detector the video ended; returns cuts it was still holding back."""
        if self._last is None:
            return []
        return self._collect(self._detector.post_process(self._timecode(self._last[1])))

    def scenes(self, end_time: float, end_frame: int) -> tuple[Scene, ...]:
        """The scene list for a video ending at ``end_time`` seconds / ``end_frame`` (exclusive)."""
        return scenes_from_cuts(self._cuts, end_time, end_frame)


def scenes_from_cuts(cuts: Sequence[Cut], end_time: float, end_frame: int,
                     min_len: float = 0.0) -> tuple[Scene, ...]:
    """Contiguous scenes from the start to ``end_time``, split at each cut.

    Cuts outside (0, end_time), duplicates, and cuts closer than ``min_len``
    seconds to the previous kept one are dropped. No cut -> one scene.

    >>> [(s.start, s.end) for s in scenes_from_cuts([Cut(2.0, 50)], 5.0, 125)]
    [(0.0, 2.0), (2.0, 5.0)]
    """
    end_time = max(0.0, float(end_time))
    end_frame = max(0, int(end_frame))
    kept: list[Cut] = []
    for cut in sorted(cuts, key=lambda c: c.time):
        if not 0.0 < cut.time < end_time or not 0 < cut.frame < end_frame:
            continue
        previous = kept[-1] if kept else Cut(0.0, 0)
        if cut.time - previous.time < max(min_len, 1e-9) or cut.frame <= previous.frame:
            continue
        kept.append(cut)
    bounds = [Cut(0.0, 0), *kept, Cut(end_time, end_frame)]
    return tuple(Scene(i + 1, a.time, b.time, a.frame, b.frame) for i, (a, b) in enumerate(itertools.pairwise(bounds)))


def scene_numbers(scenes: Sequence[Scene], times: np.ndarray) -> np.ndarray:
    """The scene number (1-based) that each time in seconds falls in (int32 array)."""
    times = np.asarray(times, np.float64)
    if not scenes:
        return np.zeros(times.shape, np.int32)
    starts = np.array([s.start for s in scenes[1:]], np.float64)
    return (np.searchsorted(starts, times, side="right") + 1).astype(np.int32)


def detect_scenes(source, kind: str = "content", threshold: float | None = None,
                  min_scene_len: float = 0.5) -> tuple[Scene, ...]:
    """Scenes of a video file in one decoding pass (no faces): a convenience for scripts.

    >>> [round(s.start, 2) for s in detect_scenes("trailer.mp4")][:3]   # doctest: +SKIP
    [0.0, 1.71, 3.38]
    """
    from .video import open_video

    with open_video(source) as video:
        step = scene_step(video.info.width if video.info.rotation in (0, 180) else video.info.height)
        shots = ShotDetector(kind, threshold, min_scene_len, fps=video.info.fps)
        last = None
        for frame in video.frames():
            shots.push(frame.index, frame.time, frame.small_bgr(step))
            last = frame
        shots.finish()
        step_s = 1.0 / video.info.fps if video.info.fps > 0 else 0.04
        return shots.scenes(last.time + step_s, last.index + 1)


def scene_step(coded_width: int, target: int = 192) -> int:
    """Pixel step that brings a frame of ``coded_width`` down to roughly ``target`` pixels wide.

    Even steps (or 1) keep the chroma planes of 4:2:0 video aligned with luma.
    On the shared trailer, 160 px wide frames gave the same 24 cuts as 320 px
    ones, for about 40% less shot-detection time.
    """
    step = max(1, round(coded_width / target))
    return step if step == 1 or step % 2 == 0 else step + 1
