"""Reading a reaction recording once: the faces seen a few times a second, on the recording's own clock.

:func:`scan_recording` decodes the recording (:mod:`emotion.film.video`),
samples ``fps`` frames a second, finds faces with their five landmarks and
scores them in batches, in a second thread while decoding goes on (the film
pass's :class:`~emotion.film.sampling.FaceWorker`). What it gathers (:class:`ScanState`) does not depend
on the film or the offset, so it is cached by (file content, model, face
detector, settings) and a corrected offset costs nothing. The state is saved
every few seconds and when the scan stops, so an interrupted scan resumes.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import AnalysisCancelled
from ..face_log import FaceLog
from ..io import atomic_write
from ..film.cache import cache_key
from ..film.memory import limit_arenas
from ..film.sampling import FaceWorker, Progress, SampleJob
from ..film.video import VideoReader

log = logging.getLogger(__name__)

#: Bump when the saved layout or the meaning of a saved value changes (2: batches fixed by sample numbers).
FORMAT = 2


@dataclass
class ScanState:
    """Everything a scan has gathered so far (recording time, faces, landmarks, probabilities)."""

    labels: tuple[str, ...]
    width: int
    height: int
    duration: float = 0.0
    sample_time: list[float] = field(default_factory=list)
    faces: FaceLog | None = None  # the faces of every sample, with landmarks (attention is read from them)
    done: bool = False
    complete: bool = True
    reason: str = ""

    def __post_init__(self) -> None:
        if self.faces is None:
            self.faces = FaceLog(self.labels, landmarks=True)

    @property
    def last_sample(self) -> float:
        return self.sample_time[-1] if self.sample_time else -1.0

    def add(self, time_s: float, boxes, scores, landmarks, probs) -> None:
        self.faces.add(len(self.sample_time), boxes, scores, probs, landmarks)
        self.sample_time.append(float(time_s))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"sample_time": np.asarray(self.sample_time, np.float64), **self.faces.arrays()}

    def copy(self) -> ScanState:
        """An independent copy (a live screening hands one to the panel while it goes on)."""
        return replace(self, sample_time=list(self.sample_time), faces=self.faces.copy())

    @property
    def face_count(self) -> int:
        return len(self.faces)


class ScanCache:
    """A directory of ``<key>.npz`` scans, the ``keep`` most recently written kept; thread-safe."""

    def __init__(self, root: str | os.PathLike, keep: int = 256):
        self.root = Path(root)
        self.keep = int(keep)
        self._lock = threading.Lock()

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def save(self, key: str, state: ScanState) -> None:
        meta = {"format": FORMAT, "labels": list(state.labels), "width": state.width, "height": state.height,
                "duration": state.duration, "done": state.done, "complete": state.complete,
                "reason": state.reason}
        target = self.path(key)
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            def write(tmp) -> None:
                with open(tmp, "wb") as f:   # a file object: np.savez would add .npz to a name
                    np.savez(f, meta=np.array(json.dumps(meta)), **state.arrays())

            atomic_write(target, writer=write)
            old = sorted(self.root.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)[self.keep:]
            for p in old:
                p.unlink(missing_ok=True)

    def load(self, key: str) -> ScanState | None:
        """The saved scan for ``key``, or None (missing, another format, or damaged: then removed)."""
        target = self.path(key)
        if not target.is_file():
            return None
        try:
            with np.load(target, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != FORMAT:
                    raise ValueError(f"format {meta.get('format')} is not {FORMAT}")
                state = ScanState(tuple(meta["labels"]), int(meta["width"]), int(meta["height"]),
                                  float(meta["duration"]))
                state.sample_time = data["sample_time"].tolist()
                state.faces = FaceLog.from_arrays(state.labels, data, landmarks=True)
                state.done, state.complete, state.reason = bool(meta["done"]), bool(meta["complete"]), meta["reason"]
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            log.warning("discarding the damaged reaction checkpoint %s: %s", target, exc)
            target.unlink(missing_ok=True)
            return None
        return state


def scan_key(content_hash: str, detector, settings, audience) -> str:
    """The cache key of a scan: file content, model, face detector and the settings that change what is read."""
    model = detector.model
    return cache_key(content_hash, {
        "kind": "reaction-scan", "model": getattr(model, "checkpoint", None) or model.name,
        "labels": list(model.labels), "backend": getattr(model, "backend", ""),
        "mirror": getattr(model, "mirror", False), "face_detector": detector.face_detector.name,
        "margin": detector.margin, "settings": asdict(settings), "scan": audience.scan_fields()})


def scan_recording(video: VideoReader, detector, settings, audience, state: ScanState, *,
                   progress: Callable[[Progress], None] | None = None, cancelled: Callable[[], bool] | None = None,
                   save: Callable[[ScanState], None] | None = None) -> ScanState:
    """Sample ``video`` ``audience.fps`` times a second into ``state``, skipping what it already holds.

    The main thread decodes and converts the sampled frames; the film pass's
    :class:`~emotion.film.sampling.FaceWorker` finds and scores their faces in
    a second thread (``audience.threaded``), in batches fixed by the sample
    numbers alone, so the numbers are the same threaded or not, uninterrupted
    or resumed. ``save(state)`` is called every ``audience.checkpoint_every``
    seconds (whole chunks of samples only) and when the scan stops for any
    reason, so a later call with the saved state resumes.
    """
    info = video.info
    cancelled = cancelled or (lambda: False)
    side = min(audience.detect_side, settings.max_side)
    scale = min(1.0, side / max(info.width, info.height))
    fps = audience.fps
    resume = state.last_sample
    resumed_from = resume if resume >= 0 else None
    last_cell = math.floor(resume * fps + 1e-9) if resume >= 0 else -1
    limit_arenas()   # before the worker's thread starts, as the film pass does
    worker = FaceWorker(detector, info.width, info.height, batch=audience.batch, thumb_width=0,
                        threaded=audience.threaded, scale=scale)
    index = len(state.sample_time)       # the next sample's number (fixes its batch)
    saved = index
    started = time.monotonic()
    next_report = next_save = started + 0.25

    def drain() -> None:
        while True:
            try:
                chunk = worker.results.get_nowait()
            except queue.Empty:
                break
            for r in chunk:
                state.add(r.time, r.boxes, r.scores, r.landmarks, r.probs)
        worker.raise_error()

    def report(position: float, stage: str = "analysing") -> None:
        if progress is None:
            return
        elapsed = time.monotonic() - started
        done = stage == "finishing"
        fraction = 1.0 if done else (min(1.0, position / info.duration) if info.duration > 0 else None)
        covered = position - (resumed_from or 0.0)
        eta = 0.0 if done else ((info.duration - position) * elapsed / covered
                                if info.duration > 0 and covered > 0 and elapsed > 0.5 else None)
        progress(Progress(fraction=fraction, position=position, duration=info.duration, frames=0,
                          samples=len(state.sample_time), faces=state.face_count, shots=0, elapsed=elapsed,
                          eta=eta, resumed_from=resumed_from, stage=stage, fps=info.fps))

    ok = False
    try:
        for frame in video.frames():
            t = frame.time
            cell = math.floor(t * fps + 1e-9)
            if cell <= last_cell or t <= resume:
                continue
            last_cell = cell
            if cancelled():
                raise AnalysisCancelled(f"reaction analysis cancelled at {t:.1f} s")
            rgb = frame.rgb(max_side=side)
            worker.submit(SampleJob(t, frame.index, index, rgb, rgb.shape[1] / info.width))
            index += 1
            drain()
            now = time.monotonic()
            if now >= next_report:
                next_report = now + 0.25
                report(t)
            if save is not None and len(state.sample_time) > saved and now >= next_save:
                save(state)
                saved, next_save = len(state.sample_time), now + audience.checkpoint_every
        worker.close()
        drain()
        end = video.end
        state.done, state.complete, state.reason = True, end.complete, end.reason
        state.duration = max(info.duration, end.last_time)
        ok = True
    finally:
        if not ok:
            worker.close(abort=True)   # an unfinished chunk is sampled again on resume
            try:
                drain()
            except BaseException:  # noqa: BLE001 - the first error is the one being raised
                pass
        if save is not None:
            save(state)
    report(state.duration, stage="finishing")
    return state
