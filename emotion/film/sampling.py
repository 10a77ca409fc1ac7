"""The one decoding pass behind :func:`emotion.film.analyze_video`.

Every frame feeds shot detection (a small BGR copy); frames on the sampling
grid (``fps`` cells per second, first frame in each cell) are converted to
RGB once and handed to a face worker thread through a bounded queue. The
worker finds faces, crops them, and scores the crops of several frames in one
model batch, while the main thread keeps decoding (FFmpeg, OpenCV and torch
all release the GIL). Only a few frames are in flight at any time, so memory
does not grow with the film's length.

Which crops share a model batch is fixed by the sample numbers alone: samples
are scored in chunks of :data:`CHUNK` (samples 0-15, 16-31, ...), each chunk's
crops in order, at most ``batch`` a call. Reduced-precision kernels (bf16) give
slightly different numbers for different batch shapes, so a batch made by
timing would make results depend on the machine's load; fixed chunks give the
same numbers threaded or not, uninterrupted or resumed (checkpoints hold whole
chunks, so a resumed pass starts on a chunk boundary).

The pass appends to a :class:`~emotion.film.state.PassState`, which is saved
as a checkpoint every few seconds and when the pass stops for any reason; a
later pass with the same state skips the part already done.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import AnalysisCancelled
from ..crops import crop_faces
from ..types import Emotions, Faces
from .cache import PassCache
from .state import PassState
from .keyframes import KeyFrames, frame_score, thumbnail
from .memory import limit_arenas, release_free_memory
from .shots import ShotDetector, scene_step
from .video import VideoReader

log = logging.getLogger(__name__)

_STOP = object()
#: Samples scored together; part of the results' identity (see the module docstring).
CHUNK = 16


@dataclass(frozen=True)
class Progress:
    """Where a film analysis is: for a progress bar with elapsed time and ETA.

    ``fraction`` is None when the length is unknown; ``eta`` (seconds) is None
    until there is a rate to extrapolate. ``resumed_from`` is the time (s) an
    interrupted analysis picked up from, else None.
    """

    fraction: float | None
    position: float
    duration: float
    frames: int
    samples: int
    faces: int
    shots: int                     # shots found so far (0 for a reaction recording: it is not cut)
    elapsed: float
    eta: float | None
    resumed_from: float | None = None
    stage: str = "analysing"
    fps: float = 0.0               # the film's frame rate, for timecodes


@dataclass
class SampleJob:
    time: float
    frame: int
    index: int              # the sample's number from the film's start (fixes its chunk)
    rgb: np.ndarray | None
    scale: float


@dataclass
class _Detected:
    """A sampled frame whose faces are found and cropped, waiting for the model's batch."""

    job: SampleJob
    faces: Faces            # in the video's pixels, not scored yet
    crops: list[np.ndarray]
    score: float            # key-frame score of the frame (0 without thumbnails)
    thumb: np.ndarray | None


@dataclass
class SampleResult:
    """One scored sampled frame: its face table (video pixels, landmarks where the detector gives them)."""

    time: float
    frame: int
    faces: Faces
    score: float
    thumb: np.ndarray | None


def scaled_face_detector(face, scale: float):
    """The face detector to run on frames shrunk by ``scale``: same kind, minimum face size scaled too.

    Films are sampled at a reduced size (:attr:`FilmSettings.detect_side`), so
    the user's minimum face size, given in the video's pixels, is converted to
    the smaller frame through the detector's ``with_min_face`` (the loaded network
    is shared, not loaded again). Detectors without it (test fakes, plug-ins) are
    used as they are.
    """
    rescale = getattr(face, "with_min_face", None)
    if scale >= 1.0 or rescale is None:
        return face
    return rescale(max(1, round(face.min_face * scale)))


def film_face_detector(face, film):
    """The face detector a film pass uses: YuNet looks twice (brightened, and shrunk) with ``film.thorough``
    (:class:`~emotion.face_search.ThoroughDetector`); Haar, whose scores say nothing, and plug-ins as they are."""
    if film.thorough and getattr(face, "name", "") == "yunet":
        from ..face_search import ThoroughDetector

        return ThoroughDetector(face)
    return face


class FaceWorker:
    """Finds and scores faces of sampled frames, batching crops of a chunk of samples per model call.

    ``threaded=False`` runs each job in the caller's thread (the same batches,
    so the same results, only without overlap with decoding). Results come out
    a whole chunk at a time, as one list of :class:`SampleResult` on :attr:`results`.
    ``thumb_width=0`` makes no key-frame thumbnails (reaction recordings need none);
    ``face_detector`` replaces the detector's own (the film pass's thorough one).
    Used by the film pass and by the scan of reaction recordings (:mod:`emotion.audience.scan`).
    """

    def __init__(self, detector, width: int, height: int, batch: int = 32, thumb_width: int = 320,
                 threaded: bool = True, queue_size: int = 4, scale: float = 1.0, face_detector=None):
        self.detector = detector
        self.face_detector = scaled_face_detector(face_detector or detector.face_detector, scale)
        self.width, self.height = width, height
        self.batch = max(1, int(batch))
        self.thumb_width = thumb_width
        self.results: queue.Queue[list[SampleResult]] = queue.Queue()
        self.error: BaseException | None = None
        self._pending: list[_Detected] = []
        self._jobs: queue.Queue | None = queue.Queue(maxsize=queue_size) if threaded else None
        self._abort = threading.Event()
        self._thread = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="emotion-film-faces", daemon=True)
            self._thread.start()

    def submit(self, job: SampleJob) -> None:
        """Queue a sampled frame; blocks while the queue is full (that is what bounds memory)."""
        if self._jobs is None:
            self._process(job)
            if (job.index + 1) % CHUNK == 0:
                self._flush()
            return
        while True:
            self.raise_error()
            try:
                self._jobs.put(job, timeout=0.2)
                return
            except queue.Full:
                continue

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def close(self, abort: bool = False) -> None:
        """Finish queued work (or drop it, and an unfinished chunk, with ``abort``) and stop the thread."""
        if self._jobs is None:
            if abort:
                self._pending = []
            else:
                self._flush()
            return
        if abort:
            self._abort.set()
            while True:
                try:
                    self._jobs.get_nowait()
                except queue.Empty:
                    break
        while self._thread.is_alive():
            try:
                self._jobs.put(_STOP, timeout=0.2)
                break
            except queue.Full:
                continue
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._abort.is_set():
                job = self._jobs.get()
                if job is _STOP:
                    break
                self._process(job)
                if self._abort.is_set():
                    break
                if (job.index + 1) % CHUNK == 0:
                    self._flush()
            if not self._abort.is_set():
                self._flush()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which re-raises it
            self.error = exc

    def _process(self, job: SampleJob) -> None:
        rgb = job.rgb
        faces = self.face_detector.detect(rgb)
        crops = crop_faces(rgb, faces, self.detector.margin) if len(faces) else []
        faces = _in_video_pixels(faces, job.scale)
        thumb, score = None, 0.0
        if self.thumb_width:
            thumb = thumbnail(rgb, self.thumb_width)
            score = frame_score(thumb, faces.boxes, faces.scores, self.width, self.height)
        job.rgb = None  # the full frame is no longer needed
        self._pending.append(_Detected(job, faces.with_samples(job.index), crops, score, thumb))

    def _flush(self) -> None:
        if not self._pending:
            return
        crops = [c for p in self._pending for c in p.crops]
        model = self.detector.model
        parts = [model.predict(crops[i:i + self.batch]).probs for i in range(0, len(crops), self.batch)]
        probs = np.concatenate(parts) if parts else np.zeros((0, len(model.labels)), np.float32)
        start, chunk = 0, []
        for p in self._pending:
            n = len(p.crops)
            scored = p.faces.with_emotions(Emotions(tuple(model.labels), probs[start:start + n]))
            chunk.append(SampleResult(p.job.time, p.job.frame, scored, p.score, p.thumb))
            start += n
        self._pending = []
        self.results.put(chunk)

    def drain(self, take: Callable[[SampleResult], None]) -> None:
        """Hand every finished sample, in order, to ``take``; then re-raise the worker's error, if any."""
        while True:
            try:
                chunk = self.results.get_nowait()
            except queue.Empty:
                break
            for result in chunk:
                take(result)
        self.raise_error()


def _in_video_pixels(faces: Faces, scale: float) -> Faces:
    """Boxes and landmarks found on a frame shrunk by ``scale``, in the video's pixels (divided as before:
    the same float32 arithmetic, so the same numbers)."""
    k = np.float32(scale)
    marks = None if faces.landmarks is None else faces.landmarks / k
    return Faces(faces.boxes / k, faces.scores, faces.labels, faces.probs, faces.track_ids, marks)


class FilmPass:
    """Runs the decoding pass over ``video`` into ``state``; see the module docstring."""

    def __init__(self, video: VideoReader, detector, settings, film, state: PassState,
                 progress: Callable[[Progress], None] | None = None, cancelled: Callable[[], bool] | None = None,
                 store: PassCache | None = None, key: str | None = None):
        self.video, self.detector, self.settings, self.film = video, detector, settings, film
        self.state = state
        self.progress = progress
        self.cancelled = cancelled or (lambda: False)
        self.store, self.key = store, key
        self.keyframes = KeyFrames(horizon=self._lag() + 1.0)
        self.resumed_from: float | None = max(state.last_sample, 0.0) if state.sample_time else None

    def _lag(self) -> float:
        """Seconds by which a shot detector may report a cut late (generous)."""
        return float(self.film.min_scene_len) + 1.0

    def checkpoint(self) -> None:
        if self.store is not None and self.key is not None and (self.state.sample_time or self.state.done):
            self.state.candidates = self.keyframes.snapshot()
            self.store.save(self.key, self.state)
        release_free_memory()

    def run(self) -> None:
        """Decode to the end; on any exception save a checkpoint of the finished part and re-raise."""
        state, film, info = self.state, self.film, self.video.info
        limit_arenas()   # before the face worker's thread starts: memory stays flat on long films
        resume_sample = state.last_sample
        settle = state.scan_time - self._lag() if self.resumed_from is not None else -1.0
        state.cuts = [c for c in state.cuts if c.time <= settle]
        self.keyframes.restore([c for c in state.candidates if c.time <= resume_sample],
                               [c.time for c in state.cuts])
        feed_from = settle - 1.0 if self.resumed_from is not None else -math.inf
        shots = ShotDetector(film.scene_detector, film.scene_threshold, film.min_scene_len, fps=info.fps,
                             ignore_before=settle)
        side = min(film.detect_side, self.settings.max_side)
        scale = min(1.0, side / max(info.width, info.height))
        worker = FaceWorker(self.detector, info.width, info.height, batch=film.batch,
                            thumb_width=film.thumb_width, threaded=film.threaded, scale=scale,
                            face_detector=film_face_detector(self.detector.face_detector, film))
        coded_width = info.width if info.rotation in (0, 180) else info.height
        step = scene_step(coded_width)
        last_cell = math.floor(resume_sample * film.fps + 1e-9) if resume_sample >= 0 else -1
        small_shape = None
        started = time.monotonic()
        work_started: tuple[float, float] | None = None
        next_report = next_save = started
        index = len(state.sample_time)   # the next sample's number
        saved = index                    # samples in the last checkpoint
        ok = False
        try:
            for frame in self.video.frames():
                t = frame.time
                state.frames, state.last_time = frame.index + 1, t
                if t >= feed_from:
                    if work_started is None:
                        work_started = (time.monotonic(), t)
                    small = frame.small_bgr(step)
                    if small_shape is None:
                        small_shape = small.shape
                    elif small.shape != small_shape:  # resolution changed mid-stream
                        import cv2

                        small = cv2.resize(small, (small_shape[1], small_shape[0]), interpolation=cv2.INTER_AREA)
                    for cut in shots.push(frame.index, t, small):
                        self._cut(cut)
                    state.scan_time = t
                cell = math.floor(t * film.fps + 1e-9)
                if cell > last_cell and t > resume_sample:
                    last_cell = cell
                    if self.cancelled():
                        raise AnalysisCancelled(f"analysis cancelled at {t:.1f} s")
                    rgb = frame.rgb(max_side=side)
                    worker.submit(SampleJob(t, frame.index, index, rgb, rgb.shape[1] / info.width))
                    index += 1
                self._drain(worker)
                now = time.monotonic()
                if now >= next_report:
                    next_report = now + 0.25
                    if self.cancelled():
                        raise AnalysisCancelled(f"analysis cancelled at {t:.1f} s")
                    self._report(started, work_started, t)
                # The first chunk's results are saved at once, then every checkpoint_every seconds.
                if len(state.sample_time) > saved and now >= next_save:
                    self.checkpoint()
                    saved, next_save = len(state.sample_time), now + film.checkpoint_every
            for cut in shots.finish():
                self._cut(cut)
            worker.close()
            self._drain(worker)
            worker.raise_error()
            end = self.video.end
            state.done, state.complete = True, end.complete
            state.stopped_at, state.reason, state.errors = end.stopped_at, end.reason, end.errors
            ok = True
        finally:
            if not ok:
                worker.close(abort=True)
                self._drain(worker)
            self.checkpoint()
        self._report(started, work_started, state.last_time, stage="finishing", final=True)

    def _cut(self, cut) -> None:
        self.state.cuts.append(cut)
        self.keyframes.cut(cut.time)

    def _drain(self, worker: FaceWorker) -> None:
        worker.drain(self._take)

    def _take(self, r: SampleResult) -> None:
        self.state.add_sample(r.time, r.frame, r.faces)
        self.keyframes.add(r.time, r.score, r.thumb)

    def _report(self, started: float, work_started, position: float, stage: str = "analysing",
                final: bool = False) -> None:
        if self.progress is None:
            return
        info, state = self.video.info, self.state
        now = time.monotonic()
        duration = info.duration
        fraction = min(1.0, position / duration) if duration > 0 else None
        eta = None
        if final:
            fraction, eta = 1.0, 0.0
        elif work_started is not None and duration > 0:
            spent, covered = now - work_started[0], position - work_started[1]
            if spent > 0.5 and covered > 0:
                eta = max(0.0, (duration - position) * spent / covered)
        self.progress(Progress(fraction=fraction, position=position, duration=duration, frames=state.frames,
                               samples=len(state.sample_time), faces=state.face_count,
                               shots=len(state.cuts) + 1, elapsed=now - started, eta=eta,
                               resumed_from=self.resumed_from, stage=stage, fps=info.fps))
