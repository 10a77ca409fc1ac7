"""Reading a reaction recording once: the faces seen a few times a second, on the recording's own clock.

:func:`scan_recording` decodes the recording (:mod:`emotion.film.video`),
samples ``fps`` frames a second, finds faces with their five landmarks and
scores them in batches, in a second thread while decoding goes on (the film
pass's :class:`~emotion.film.sampling.FaceWorker`). What it gathers (a
:class:`~emotion.film.state.PassState` made with ``PassState.for_reactions``)
does not depend on the film or the offset, so it is cached by (file content,
model, face detector, settings) in the film pass's
:class:`~emotion.film.cache.PassCache`, and a corrected offset costs nothing.
The state is saved every few seconds and when the scan stops, so an
interrupted scan resumes.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import AnalysisCancelled
from ..film.cache import cache_key
from ..film.memory import limit_arenas
from ..film.sampling import FaceWorker, Progress, SampleJob
from ..film.state import PassState
from ..film.video import VideoReader

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Span:
    """A part of a recording (:mod:`emotion.audience.chunks`): sampled moments from ``start_s`` (a sample's
    cell start) up to ``end_s`` (exclusive), the first numbered ``first_index``."""

    start_s: float
    end_s: float
    first_index: int
    first_frame: int = 0      # the number of the first frame at or after ``start_s`` in the whole file


#: Frames are detected at a size where the smallest face seen in the first seconds is at least this wide
#: (YuNet misses most faces under about 10 px, and dim grey ones under about 20: in a grey room of 36 px
#: faces, 16 px left one seat seen 90 % of the time, 20 px every seat 100 %; 45 px faces in 1080p are 11 px at
#: the default 480).
SMALLEST_DETECTED = 20
#: Seconds at the start of a recording looked at (one frame a second) to choose the detection size.
PROBE_S = 6.0


def fit_detect_side(source, detector, settings, audience) -> tuple[int, float]:
    """(long side to detect at, smallest face width in the recording's pixels, 0 if none was seen).

    One frame a second of the first :data:`PROBE_S` seconds is searched at full
    size (up to ``settings.max_side``); the 10th percentile of the face widths
    sets the size at which the whole recording is then read: at least
    ``audience.detect_side``, at most ``settings.max_side`` and the frame's own.
    """
    from ..film.sampling import scaled_face_detector
    from ..film.video import open_video

    base = min(audience.detect_side, settings.max_side)
    widths: list[np.ndarray] = []
    with open_video(source) as video:
        info = video.info
        longest = max(info.width, info.height)
        probe_side = min(settings.max_side, longest)
        scale = probe_side / longest
        face = scaled_face_detector(detector.face_detector, scale)
        last = -1
        for frame in video.frames():
            if frame.time > PROBE_S:
                break
            if math.floor(frame.time) <= last:
                continue
            last = math.floor(frame.time)
            found = face.detect(frame.rgb(max_side=probe_side))
            if len(found):
                widths.append((found.boxes[:, 2] - found.boxes[:, 0]) / scale)
    if not widths:
        return base, 0.0
    all_widths = np.concatenate(widths)
    small = float(np.percentile(all_widths, 10))
    need = math.ceil(longest * SMALLEST_DETECTED / max(small, 1.0))
    return int(min(max(base, need), settings.max_side, longest)), float(all_widths.min())


def scan_key(content_hash: str, detector, settings, audience) -> str:
    """The cache key of a scan: file content, model, face detector and the settings that change what is read."""
    model = detector.model
    return cache_key(content_hash, {
        "kind": "reaction-scan", "model": getattr(model, "checkpoint", None) or model.name,
        "labels": list(model.labels), "backend": getattr(model, "backend", ""),
        "mirror": getattr(model, "mirror", False), "face_detector": detector.face_detector.name,
        "margin": detector.margin, "settings": asdict(settings), "scan": audience.scan_fields()})


def scan_recording(video: VideoReader, detector, settings, audience, state: PassState, *,
                   progress: Callable[[Progress], None] | None = None, cancelled: Callable[[], bool] | None = None,
                   save: Callable[[PassState], None] | None = None, span: Span | None = None) -> PassState:
    """Sample ``video`` ``audience.fps`` times a second into ``state``, skipping what it already holds.

    The main thread decodes and converts the sampled frames; the film pass's
    :class:`~emotion.film.sampling.FaceWorker` finds and scores their faces in
    a second thread (``audience.threaded``), in batches fixed by the sample
    numbers alone, so the numbers are the same threaded or not, uninterrupted
    or resumed. ``save(state)`` is called every ``audience.checkpoint_every``
    seconds (whole chunks of samples only) and when the scan stops for any
    reason, so a later call with the saved state resumes.

    ``span`` reads only part of the recording (see :mod:`emotion.audience.chunks`):
    from its first sampled moment, numbered from its first sample, to its end;
    ``state`` must be a fresh one and gets that part's samples alone.
    """
    info = video.info
    cancelled = cancelled or (lambda: False)
    side = state.detect_side or min(audience.detect_side, settings.max_side)
    scale = min(1.0, side / max(info.width, info.height))
    fps = audience.fps
    resume = state.last_sample
    resumed_from = resume if resume >= 0 else None
    last_cell = math.floor(resume * fps + 1e-9) if resume >= 0 else -1
    start_s, end_s = (span.start_s, span.end_s) if span is not None else (0.0, math.inf)
    if span is not None:
        last_cell = math.floor(start_s * fps + 1e-9) - 1
    limit_arenas()   # before the worker's thread starts, as the film pass does
    worker = FaceWorker(detector, info.width, info.height, batch=audience.batch, thumb_width=0,
                        threaded=audience.threaded, scale=scale)
    index = len(state.sample_time) + (span.first_index if span is not None else 0)  # the next sample's number
                                                                                       # (fixes its batch)
    saved = len(state.sample_time)
    started = time.monotonic()
    next_report = next_save = started + 0.25

    def drain() -> None:
        worker.drain(lambda r: state.add_sample(r.time, r.frame, r.faces))

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
        for frame in video.frames(start_s=start_s, first_frame=span.first_frame if span is not None else 0):
            t = frame.time
            if t >= end_s:
                break
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
        if end is None:                  # a span that stops before the end of the file
            state.done = True
        else:
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
