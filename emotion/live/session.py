"""The live pipeline between the browser's frames and the page.

Two threads meet here:

* the WebRTC worker calls :meth:`LiveSession.callback` for every camera
  frame. It must return quickly, so it only converts the frame, puts it in a
  one-place :class:`LatestSlot` (a newer frame replaces an unprocessed older
  one: no backlog can grow) and draws the most recent result on the frame;
* an analysis thread takes the newest frame from the slot, runs
  frame -> detector -> tracker, and publishes a :class:`FrameReport` to a
  bounded :class:`ResultQueue` that the Streamlit page drains.

So when frames arrive faster than the model can score them, the newest frame
wins and the delay between a frame and its result stays at most about two
analysis times, however long the stream runs. Both threads read one frozen
``(LiveSettings, detector)`` pair that the page swaps in with
:meth:`LiveSession.configure`; neither touches Streamlit.

>>> session = LiveSession(LiveSettings(), detector)          # doctest: +SKIP
>>> ctx = webrtc_streamer(key="cam", video_frame_callback=session.callback)  # doctest: +SKIP
>>> for report in session.drain(): ...                        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..types import ImageResult
from .settings import LiveSettings
from ..tracking import FaceTracker

log = logging.getLogger(__name__)

#: The analysis thread exits after this long without frames; the next frame starts it again.
IDLE_EXIT_S = 5.0


@dataclass(frozen=True)
class FrameReport:
    """What the analysis of one live frame produced.

    ``index``: the frame's number among all frames received (dropped ones
    count too, so gaps show how many were skipped). ``time``: wall-clock
    arrival (seconds since the epoch). ``result.table.track_ids`` holds a
    track id per face (:attr:`tracks`, in the order of ``result.faces``). ``latency_ms``: arrival to result, including
    any wait for the analysis thread. ``inference_ms``: the detector alone.
    ``dropped``: frames replaced before analysis so far in this session.
    """

    index: int
    time: float
    result: ImageResult
    latency_ms: float
    inference_ms: float
    dropped: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.result, ImageResult):
            raise ValueError(f"FrameReport.result: expected an ImageResult, got {type(self.result).__name__}")
        if self.latency_ms < 0 or self.inference_ms < 0:
            raise ValueError(f"FrameReport: expected non-negative times, got latency {self.latency_ms} ms, "
                             f"inference {self.inference_ms} ms")

    @property
    def tracks(self) -> tuple[int, ...]:
        """A track id per face, in the order of ``result.faces`` (0 where the face was not tracked)."""
        return tuple(int(t) for t in self.result.table.track_ids)


class LatestSlot:
    """A one-place hand-off where the newest item wins.

    ``put`` never blocks: it replaces an item nobody took yet (and counts it
    in ``dropped``). ``take`` waits for an item, up to ``timeout`` seconds.

    >>> slot = LatestSlot()
    >>> slot.put("old"); slot.put("new")
    >>> slot.take(0), slot.dropped
    ('new', 1)
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._item = None
        self._full = False
        self.dropped = 0

    def put(self, item) -> None:
        with self._cond:
            if self._full:
                self.dropped += 1
            self._item, self._full = item, True
            self._cond.notify()

    def take(self, timeout: float | None = None):
        """The newest item, or ``None`` if none arrived within ``timeout`` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._full, timeout):
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def __len__(self) -> int:
        with self._cond:
            return int(self._full)


class ResultQueue:
    """A bounded, thread-safe queue where the oldest items give way.

    The page drains it on every refresh; if it falls behind (a slow rerun),
    the oldest reports are dropped and counted, so memory stays bounded and the
    newest results are never lost.

    >>> q = ResultQueue(2)
    >>> for i in range(3): q.put(i)
    >>> q.drain(), q.dropped
    ([1, 2], 1)
    """

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError(f"ResultQueue: maxsize must be at least 1, got {maxsize}")
        self._items: deque = deque(maxlen=maxsize)
        self._lock = threading.Lock()
        self.dropped = 0

    @property
    def maxsize(self) -> int:
        return int(self._items.maxlen)

    def put(self, item) -> None:
        with self._lock:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)

    def drain(self) -> list:
        """Every queued item, oldest first; the queue is empty afterwards."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


@dataclass(frozen=True)
class FrameJob:
    index: int
    wall: float
    arrived: float
    rgb: np.ndarray


class LiveSession:
    """One viewer's live analysis: the frame callback, the analysis thread, the results.

    ``detector`` is anything with ``analyze(rgb) -> ImageResult`` (an
    :class:`~emotion.detector.EmotionDetector`, or a fake in tests). It is
    only ever called from the analysis thread. ``clock`` (monotonic seconds,
    for latency) and ``wall`` (epoch seconds, for timestamps) can be replaced
    in tests. With ``autostart=False`` no thread is started: the caller runs
    the analysis itself with :meth:`step` (tests, benchmarks). ``on_report``
    is called with every report too, on the analysis thread (a live screening
    keeps them all, where the page's queue keeps only the latest).
    """

    def __init__(self, settings: LiveSettings, detector, *, clock: Callable[[], float] = time.perf_counter,
                 wall: Callable[[], float] = time.time, autostart: bool = True,
                 on_report: Callable[[FrameReport], None] | None = None):
        if not isinstance(settings, LiveSettings):
            raise TypeError(f"settings: expected LiveSettings, got {type(settings).__name__}")
        self._config = (settings, detector)
        self._clock, self._wall = clock, wall
        self._autostart = bool(autostart)
        self._on_report = on_report
        self._slot = LatestSlot()
        self.results = ResultQueue(settings.queue_size)
        self._tracker = FaceTracker(settings.track_iou, settings.track_ttl_s)
        self._latest: FrameReport | None = None
        self._received = 0
        self._lock = threading.Lock()
        self._step_lock = threading.Lock()  # one analysis at a time, even while a stopped thread winds down
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.last_error: str | None = None

    # ------------------------------------------------------------ configuration

    @property
    def settings(self) -> LiveSettings:
        return self._config[0]

    @property
    def detector(self):
        return self._config[1]

    def configure(self, settings: LiveSettings, detector) -> None:
        """Use new settings and detector from the next analysed frame on (an atomic swap)."""
        if not isinstance(settings, LiveSettings):
            raise TypeError(f"settings: expected LiveSettings, got {type(settings).__name__}")
        old = self._config[0]
        self._config = (settings, detector)
        if (old.track_iou, old.track_ttl_s) != (settings.track_iou, settings.track_ttl_s):
            self._tracker = FaceTracker(settings.track_iou, settings.track_ttl_s)

    # ------------------------------------------------------------ the WebRTC side

    @property
    def dropped(self) -> int:
        """Frames that a newer frame replaced before they could be analysed."""
        return self._slot.dropped

    @property
    def received(self) -> int:
        return self._received

    @property
    def latest(self) -> FrameReport | None:
        """The most recent report (also when the page has already drained it)."""
        return self._latest

    def submit(self, rgb: np.ndarray, at: float | None = None) -> None:
        """Hand a frame (RGB uint8 H x W x 3) to the analysis thread; never blocks.

        ``at`` is the frame's time on the ``wall`` clock (default: now), what its report is stamped with.
        """
        with self._lock:
            index = self._received
            self._received += 1
        self._slot.put(FrameJob(index, self._wall() if at is None else float(at), self._clock(), rgb))
        if self._autostart:
            self._ensure_worker()

    def overlay(self, rgb: np.ndarray) -> np.ndarray:
        """``rgb`` with the latest analysed faces drawn on it (unchanged if none, or if the size changed).

        Each face is numbered by its track id, the number the page and its chart show.
        """
        from ..annotate import annotate

        report = self._latest
        if report is None or not report.result.faces \
                or (report.result.height, report.result.width) != tuple(rgb.shape[:2]):
            return rgb
        return annotate(rgb, report.result, show_score=self.settings.show_score, numbers=report.tracks)

    def callback(self, frame):
        """The ``video_frame_callback`` for ``webrtc_streamer``: av.VideoFrame in, annotated av.VideoFrame out."""
        import av

        rgb = frame.to_ndarray(format="rgb24")
        self.submit(rgb)
        return av.VideoFrame.from_ndarray(self.overlay(rgb), format="rgb24")

    # ------------------------------------------------------------ the analysis side

    def step(self, timeout: float | None = 0.0) -> FrameReport | None:
        """Analyse the newest waiting frame, if one arrives within ``timeout`` seconds; publish its report.

        The analysis thread calls this in a loop; tests call it directly.
        """
        job = self._slot.take(timeout)
        if job is None:
            return None
        with self._step_lock:
            _settings, detector = self._config
            start = self._clock()
            result = detector.analyze(job.rgb)
            done = self._clock()
            result = replace(result, faces=self._tracker.update(result.table, job.wall))  # the table carries its tracks
            report = FrameReport(index=job.index, time=job.wall, result=result,
                                 latency_ms=max(0.0, (done - job.arrived) * 1000.0),
                                 inference_ms=max(0.0, (done - start) * 1000.0), dropped=self._slot.dropped)
            self._latest = report
        self.results.put(report)
        if self._on_report is not None:
            self._on_report(report)
        return report

    def drain(self) -> list[FrameReport]:
        """Reports published since the last call, oldest first (for the page)."""
        return self.results.drain()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="emotion-live-analysis", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        idle_since = self._clock()
        while not self._stop.is_set():
            try:
                report = self.step(timeout=0.25)
            except Exception as exc:  # the thread must survive a bad frame; the page shows the message
                log.exception("live analysis failed on a frame")
                self.last_error = f"{type(exc).__name__}: {exc}"
                report = None
            if report is not None:
                idle_since = self._clock()
                self.last_error = None
            elif self._clock() - idle_since > IDLE_EXIT_S:
                with self._lock:
                    # exit only if no frame slipped in; submit() restarts us otherwise
                    if len(self._slot) == 0:
                        self._thread = None
                        return

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the analysis thread (frames still waiting are discarded). Safe to call twice."""
        self._stop.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._slot.take(0)

    def reset(self) -> None:
        """Forget tracks and results (a new stream starts from a clean state)."""
        self.stop()
        self.results.drain()
        self._latest = None
        self._tracker.reset()
