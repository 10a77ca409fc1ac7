"""A long reaction recording read in parts, one per Ray worker, joined into the scan one machine would make.

A 2-hour screening filmed at 4 samples a second is 28,800 sampled frames; one
machine reads them one after another. :func:`scan_on_ray` cuts the recording
into time *spans*, reads each on a Ray worker
(:func:`~emotion.audience.scan.scan_recording` with its ``span``), and joins
the parts in order. The result is the same scan, number for number:

* which frames are sampled depends only on their timestamps, which the
  packets give without decoding (:meth:`~emotion.film.video.VideoReader.frame_times`),
  so :func:`plan_spans` knows every sample's number before anything is read;
* spans start at sample numbers that are multiples of the face worker's
  chunk (:data:`~emotion.film.sampling.CHUNK`), so the model sees the same
  batches as in one pass;
* seats and viewers are found afterwards, on the joined faces of the whole
  recording, so they are joined across span edges by construction.

>>> spans = plan_spans([i / 25 for i in range(250)], fps=4, parts=2)   # 10 s at 25 fps, 40 samples
>>> [(s.start_s, s.end_s, s.first_index, s.first_frame) for s in spans]
[(0.0, 8.0, 0, 0), (8.0, inf, 32, 200)]
"""

from __future__ import annotations

import logging
import math
import numpy as np

from .scan import Span, scan_recording

log = logging.getLogger(__name__)


def plan_spans(frame_times, fps: float, parts: int, chunk: int | None = None) -> list[Span]:
    """At most ``parts`` spans of whole ``chunk``-sample batches covering every sampled moment."""
    if chunk is None:
        from ..film.sampling import CHUNK as chunk
    cells: list[int] = []
    frame_of: list[int] = []
    last = -1
    for i, t in enumerate(frame_times):
        cell = math.floor(t * fps + 1e-9)
        if cell > last:
            cells.append(cell)
            frame_of.append(i)
            last = cell
    n = len(cells)
    if n == 0 or parts <= 1:
        return [Span(0.0, math.inf, 0)]
    per = max(chunk, math.ceil(n / parts / chunk) * chunk)
    spans = []
    for first in range(0, n, per):
        end = cells[first + per] / fps if first + per < n else math.inf
        spans.append(Span(0.0 if first == 0 else cells[first] / fps, end, first, frame_of[first]))
    return spans


def join_parts(parts, state) -> None:
    """Append the parts' samples and faces (:class:`~emotion.film.state.PassState` each, in order) to ``state``."""
    from ..face_log import FaceLog

    columns = [state.faces.arrays()]
    offset = len(state.sample_time)
    for part in parts:
        a = dict(part.faces.arrays())
        a["face_sample"] = a["face_sample"] + offset
        columns.append(a)
        state.sample_time.extend(part.sample_time)
        state.sample_frame.extend(part.sample_frame)
        offset += len(part.sample_time)
        state.complete = state.complete and part.complete
        state.reason = part.reason or state.reason
        state.duration = max(state.duration, part.duration)
    joined = {k: np.concatenate([c[k] for c in columns]) for k in columns[0]}
    state.faces = FaceLog.from_arrays(state.labels, joined, landmarks=state.faces.keeps_landmarks)


def _scan_part(source: str, span: Span, settings, audience, labels, size, detect_side: int):
    """One span of ``source``, read on a worker (the model is loaded once per worker process)."""
    from ..detector import get_detector
    from ..film.state import PassState
    from ..film.video import open_video

    detector = get_detector(settings)
    state = PassState.for_reactions(tuple(labels), size[0], size[1])
    state.detect_side = detect_side
    with open_video(source) as video:
        scan_recording(video, detector, settings, audience, state, span=span)
        state.duration = video.info.duration
    return state


def scan_on_ray(source, state, settings, audience, address: str, workers: int = 2, progress=None) -> None:
    """Fill the fresh ``state`` with the scan of ``source`` made by Ray workers, a span each (see the module)."""
    from ..film.video import open_video
    from ..service.ray_batch import _connect, import_ray

    ray = import_ray()
    with open_video(source) as video:
        times = video.frame_times()
    if times is None:
        raise ValueError("the recording has frames without timestamps: it cannot be split; run it without --ray")
    started = _connect(ray, address, workers)
    try:
        parts = workers if address == "local" else max(1, int(ray.cluster_resources().get("CPU", workers)))
        spans = plan_spans(times, audience.fps, parts)
        log.info("%s: %d spans on Ray", source, len(spans))
        task = ray.remote(num_cpus=1, max_retries=1)(_scan_part)
        refs = [task.remote(str(source), span, settings, audience, state.labels, (state.width, state.height),
                            state.detect_side) for span in spans]
        done = []
        for i, ref in enumerate(refs, 1):
            done.append(ray.get(ref))
            if progress is not None:
                progress(i / len(refs))
        join_parts(done, state)
        state.done = True
    finally:
        if started:
            ray.shutdown()
