"""Scene-by-scene emotions of a film: :func:`analyze_video` -> :class:`VideoReport`.

One decoding pass (see :mod:`emotion.film.sampling`) finds the shots and samples
about ``fps`` frames a second for faces; faces are scored in batches, linked
into tracks within each shot, smoothed over time, and summed per scene
(:mod:`emotion.film.timeline`). Results and checkpoints are cached on disk by
(file content, model, detector, settings): the same request is answered from
the cache, and an interrupted one resumes where it stopped.

>>> from emotion.film import analyze_video, FilmSettings, output
>>> report = analyze_video("trailer.mp4", film=FilmSettings(fps=4))      # doctest: +SKIP
>>> report.scene_table()[["scene", "start_timecode", "dominant_emotion"]].head(2)  # doctest: +SKIP
   scene start_timecode dominant_emotion
0      1    00:00:00:00          neutral
1      2    00:00:02:00              sad
>>> open("scenes.csv", "w").write(output.scenes_csv(report))           # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import AnalysisCancelled, EmotionError
from .cache import PassCache, cache_key, file_hash
from .state import PassState
from .sampling import FilmPass, Progress
from .shots import scenes_from_cuts
from .report import VideoReport
from .segments import segment_report
from .observations import Observations
from .timeline import build_timeline, timecode
from ..paths import cache_dir
from ..settings import FilmSettings, Settings, check_cancel
from .video import VideoInfo, open_video

log = logging.getLogger(__name__)

__all__ = ["analyze_video", "default_cache_dir", "job_key", "saved_progress"]


def default_cache_dir() -> Path:
    """Where film checkpoints live: ``<emotion cache>/film`` (``$EMOTION_CACHE_DIR`` moves it)."""
    return cache_dir("film")


@dataclass(frozen=True)
class _Producer:
    """Who produces an analysis: what names it in the report and keys it in the cache."""

    model: str
    checkpoint: str
    labels: tuple[str, ...]
    backend: str
    mirror: bool
    face_detector: str
    margin: float
    fallback_reason: str | None = None

    @classmethod
    def of(cls, detector) -> _Producer:
        model = detector.model
        return cls(model.name, getattr(model, "checkpoint", None) or model.name, tuple(model.labels),
                   getattr(model, "backend", ""), getattr(model, "mirror", False), detector.face_detector.name,
                   detector.margin, getattr(detector.face_detector, "fallback_reason", None))

    @classmethod
    def predicted(cls, settings: Settings) -> _Producer | None:
        """The producer :func:`~emotion.detector.get_detector` would build, without loading it; None if unsure."""
        from ..faces import ensure_yunet
        from ..model import identify

        model = identify(settings.model, settings.backend, settings.mirror)
        if model is None:
            return None
        face = "haar" if settings.detector == "haar" else "yunet"
        if face == "yunet":
            try:
                ensure_yunet(settings.face_model, download=False)
            except EmotionError:
                return None  # auto may fall back to Haar, or a download may be tried: only loading tells
        return cls(model.name, model.checkpoint, model.labels, model.backend, model.mirror, face, settings.margin)

    def identity(self, settings: Settings, film: FilmSettings) -> dict[str, Any]:
        return {"model": self.checkpoint, "model_name": self.model, "labels": list(self.labels),
                "backend": self.backend, "mirror": self.mirror, "face_detector": self.face_detector,
                "margin": self.margin, "settings": asdict(settings), "film": film.result_fields(),
                **({"face_search": SEARCH_VERSION} if film.thorough else {})}


#: Which thorough face search made an analysis: a cached one made by another is not reused (2: two looks).
SEARCH_VERSION = 2


def job_key(content_hash: str, detector, settings: Settings, film: FilmSettings) -> str:
    """The cache key of an analysis: file content, model, face detector and every setting that matters."""
    return cache_key(content_hash, _Producer.of(detector).identity(settings, film))


def saved_progress(key: str, cache_dir: str | os.PathLike | None = None) -> tuple[str, float] | None:
    """``("done", end)`` or ``("partial", seconds reached)`` for a cached analysis, else None."""
    state = PassCache(cache_dir or default_cache_dir()).load(key)
    if state is None:
        return None
    return ("done", state.last_time) if state.done else ("partial", max(state.last_sample, 0.0))


def _warnings(state: PassState, producer: _Producer, cancelled: bool, fps: float = 0.0) -> list[str]:
    out = []
    if cancelled:
        out.append(f"The analysis was stopped at {timecode(state.last_sample, fps)}; this report covers the part "
                   "before it. Run it again to resume.")
    if state.done and not state.complete:
        out.append(f"Decoding stopped at {timecode(state.stopped_at, fps)}: {state.reason}. "
                   "The report covers what could be read.")
    if state.errors:
        out.append(f"{state.errors} damaged packets were skipped; nearby frames may be missing.")
    if state.sample_time and not state.face_count:
        out.append("No face was found in any sampled frame: scenes are listed with zero face coverage. "
                   "Try the YuNet detector, a lower threshold or a smaller minimum face size.")
    if producer.fallback_reason:
        out.append(producer.fallback_reason)
    return out


def _report(source: str, info: VideoInfo, state: PassState, producer: _Producer, settings: Settings, film: FilmSettings,
            keyframes, elapsed: float, *, from_cache=False, resumed_from=None, key=None,
            cancelled=False, notes=()) -> VideoReport:
    step = 1.0 / info.fps if info.fps > 0 else 0.0
    if state.done:
        end_time, end_frame = state.last_time + step, state.frames
    else:  # partial: up to the last sampled frame that has results
        end_time = max(state.last_sample, 0.0) + (1.0 / film.fps)
        end_frame = (state.sample_frame[-1] + 1) if state.sample_frame else 1
    scenes = scenes_from_cuts(state.cuts, end_time, max(end_frame, 1), min_len=film.min_scene_len)
    obs = Observations(state.labels, info.width, info.height, state.sample_time, state.sample_frame,
                       state.faces.table(), fps=info.fps)
    if keyframes is None:
        from .keyframes import KeyFrames

        keyframes = KeyFrames(horizon=0.0)
        keyframes.restore(state.candidates, [c.time for c in state.cuts])
    best = keyframes.best([s.start for s in scenes])
    timeline = build_timeline(obs, scenes, {n: c.time for n, c in best.items()}, smoothing=film.smoothing,
                              iou=film.track_iou)
    thumbs = tuple(best[s.number].jpeg if s.number in best else b"" for s in scenes)
    complete = state.done and state.complete
    stopped = state.stopped_at if state.done else max(state.last_sample, 0.0)
    shots = VideoReport(source=source, info=info, timeline=timeline, thumbnails=thumbs, model=producer.model,
                        detector=producer.face_detector, backend=producer.backend,
                        settings=settings, film=film, complete=complete, stopped_at=None if complete else stopped,
                        warnings=(*_warnings(state, producer, cancelled, info.fps), *notes), elapsed=elapsed,
                        from_cache=from_cache, resumed_from=resumed_from, key=key)
    return segment_report(shots, film.segments, film.scene_list)


def analyze_video(source, settings: Settings | None = None, film: FilmSettings | None = None, *,
                  progress: Callable[[Progress], None] | None = None, cancel=None, detector=None,
                  cache: bool | str | os.PathLike = True, content_hash: str | None = None) -> VideoReport:
    """Per-scene emotions of the faces in a video file.

    ``settings`` picks model and face detector (default :class:`Settings`);
    ``film`` the sampling rate, the shot and scene options and how the
    report's rows are cut (``segments``, a crew's ``scene_list``; see
    :class:`FilmSettings`, and :meth:`VideoReport.resegment` to change them
    later). ``progress(Progress)`` is called a few times a second; ``cancel`` (a
    callable or ``threading.Event``) stops the analysis at the next sampled
    frame with :class:`~emotion.errors.AnalysisCancelled`, whose ``partial``
    is a :class:`VideoReport` of the part done. ``detector`` reuses an
    :class:`~emotion.detector.EmotionDetector` (else one is built and kept
    for ``settings``). ``cache`` (paths only): checkpoints and results go to
    :func:`default_cache_dir` (``True``), to the folder given, or nowhere
    (``False``); ``content_hash`` skips re-hashing a file whose sha256 the
    caller already knows.

    Raises :class:`~emotion.errors.UnreadableMedia` for a file with no
    readable video; a file that breaks part-way gives a report with
    ``complete=False`` and ``stopped_at``.

    >>> report = analyze_video("trailer.mp4", film=FilmSettings(fps=2))    # doctest: +SKIP
    >>> len(report.scenes), report.rows[0].dominant_emotion          # doctest: +SKIP
    (25, 'neutral')
    """
    settings = settings or Settings()
    film = film or FilmSettings()
    cancelled = check_cancel(cancel)
    started = time.monotonic()
    with open_video(source) as video:  # a file that is no video fails here, before any model is loaded
        info = video.info
        name = video.name
        store = key = content = None
        if cache and isinstance(source, (str, os.PathLike)):
            content = content_hash or file_hash(source)
            store = PassCache(default_cache_dir() if cache is True else cache)
        if store is not None and detector is None:
            # A finished analysis answers without loading the model (seconds) when the cache key can be
            # known without it: the checkpoint on disk, and the backend this machine chose before.
            producer = _Producer.predicted(settings)
            if producer is not None:
                early = cache_key(content, producer.identity(settings, film))
                state = store.load(early)
                if state is not None and state.done and state.labels == producer.labels:
                    log.info("%s: loaded the finished analysis from %s", name, store.path(early))
                    return _report(name, info, state, producer, settings, film, None, 0.0, from_cache=True,
                                   key=early, notes=store.notes)
        if detector is None:
            from ..detector import get_detector

            detector = get_detector(settings)
        producer = _Producer.of(detector)
        if store is not None:
            key = cache_key(content, producer.identity(settings, film))
        state = store.load(key) if store else None
        if state is not None and state.labels != producer.labels:
            state = None
        if state is not None and state.done:
            log.info("%s: loaded the finished analysis from %s", name, store.path(key))
            return _report(name, info, state, producer, settings, film, None, 0.0, from_cache=True, key=key,
                           notes=store.notes)
        if state is None:
            state = PassState(tuple(detector.model.labels), info.width, info.height)
        decode_pass = FilmPass(video, detector, settings, film, state, progress=progress, cancelled=cancelled,
                       store=store, key=key)
        try:
            decode_pass.run()
        except AnalysisCancelled as exc:
            exc.partial = _report(name, info, state, producer, settings, film, decode_pass.keyframes,
                                  time.monotonic() - started, resumed_from=decode_pass.resumed_from, key=key,
                                  cancelled=True, notes=store.notes if store else ())
            raise
        return _report(name, info, state, producer, settings, film, decode_pass.keyframes, time.monotonic() - started,
                       resumed_from=decode_pass.resumed_from, key=key,
                       notes=store.notes if store else ())
