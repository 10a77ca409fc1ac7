"""The bounded pool that runs the service's film and audience jobs: ``workers`` analyses at once, the rest queued.

Workers are threads of the service process: they share one loaded model per
settings (:func:`emotion.detector.get_detector` is thread-safe), and decoding,
OpenCV and torch release the GIL. Cancelling sets the job's event; the film
pass stops at its next sampled frame and saves its checkpoint, so the job can
be resumed later (``POST /v1/jobs/ID/resume``, or the same film again). When
the service shuts down, running jobs are stopped the same way but recorded as
queued, so the next start picks them up where they stopped.

>>> pool = JobPool(JobStore("/tmp/svc", ttl_s=3600), Settings(detector="haar"), workers=1)  # doctest: +SKIP
>>> pool.start(); pool.submit(Job.new("a.mp4", "/media/a.mp4"))                            # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from pathlib import Path

from ..errors import AnalysisCancelled, EmotionError
from ..settings import Settings
from .config import client_settings
from .jobs import FINISHED, Job, JobStore
from ..film.output import headline, result_files
from .outputs import write_results

log = logging.getLogger(__name__)
#: An upload folder without a job is removed once nothing was written to it for this long (s).
ORPHAN_AGE_S = 3600.0

_STOP = None


class JobPool:
    """Runs queued :class:`Job` s on ``workers`` threads; see the module docstring."""

    def __init__(self, store: JobStore, settings: Settings, workers: int = 1,
                 cache_dir: str | os.PathLike | None = None, sweep_every: float = 60.0):
        self.store = store
        self.settings = settings
        self.workers = int(workers)
        self.cache_dir = cache_dir
        self.sweep_every = float(sweep_every)
        self._queue: queue.Queue = queue.Queue()
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Expire old jobs, queue the unfinished ones found on disk, and start the workers."""
        self.store.expire()
        for job in self.store.load():
            log.info("job %s (%s) was unfinished at the last stop: queued again", job.id, job.name)
            self._queue.put(job.id)
        self.store.remove_orphans()        # nothing is arriving yet: whatever no job owns was left by a crash
        for i in range(self.workers):
            t = threading.Thread(target=self._work, name=f"emotion-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        sweeper = threading.Thread(target=self._sweep, name="emotion-job-expiry", daemon=True)
        sweeper.start()
        self._threads.append(sweeper)

    def submit(self, job: Job) -> Job:
        self.store.add(job)
        self._queue.put(job.id)
        return job

    def queued(self) -> int:
        return sum(1 for j in self.store.all() if j.state == "queued")

    def cancel(self, job_id: str) -> Job | None:
        """Stop a queued or running job (its checkpoint is kept); a finished job is returned unchanged."""
        job = self.store.transition(job_id, ("queued",), state="cancelled", finished=time.time(), eta_s=None)
        if job is not None:
            return job
        with self._lock:
            event = self._running.get(job_id)
        if event is not None:
            event.set()
            # the worker records "cancelled" once the pass has saved its checkpoint; answer at once
        return self.store.get(job_id)

    def resume(self, job_id: str) -> Job | None:
        """Queue a cancelled or failed job again; the film cache resumes it from its checkpoint."""
        job = self.store.transition(job_id, ("cancelled", "failed"), state="queued", error=None, finished=None,
                                    eta_s=None)
        if job is not None:
            self._queue.put(job_id)
        return job

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop the workers; running analyses save their checkpoint and stay queued for the next start."""
        self._stopping.set()
        with self._lock:
            events = list(self._running.values())
        for event in events:
            event.set()
        for _ in range(self.workers):
            self._queue.put(_STOP)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def _sweep(self) -> None:
        while not self._stopping.wait(self.sweep_every):
            try:
                self.store.expire()
                self.store.remove_orphans(min_age_s=ORPHAN_AGE_S)
            except OSError as exc:  # a full or read-only disk must not stop the service
                log.warning("could not delete expired jobs: %s", exc)

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is _STOP or self._stopping.is_set():
                return
            job = self.store.transition(job_id, ("queued",), state="running", started=time.time(), eta_s=None)
            if job is None:  # cancelled while queued, or expired
                continue
            event = threading.Event()
            with self._lock:
                self._running[job_id] = event
            try:
                self._run(job, event)
            finally:
                with self._lock:
                    self._running.pop(job_id, None)

    def _run(self, job: Job, cancel: threading.Event) -> None:
        from ..film import analyze_video

        def progress(p) -> None:
            # a checkpoint saved before the first sampled frame says -1: the job resumed from the start
            resumed = None if p.resumed_from is None else max(0.0, p.resumed_from)
            self.store.update(job.id, force=False, progress=min(1.0, max(0.0, p.fraction or 0.0)), eta_s=p.eta,
                              resumed_from=resumed)

        def audience_progress(fraction: float, eta: float | None) -> None:
            self.store.update(job.id, force=False, progress=fraction, eta_s=eta)

        try:
            if job.kind == "audience":
                from ..audience.output import headline as audience_headline
                from .audience import run_audience

                report, files = run_audience(job, self.settings, cancel=cancel, progress=audience_progress,
                                             cache_dir=self.cache_dir)
                summary, resumed = audience_headline(report), None
            else:
                settings, film = client_settings(self.settings, job.options)
                report = analyze_video(job.source, settings, film, progress=progress, cancel=cancel,
                                       cache=self.cache_dir or True)
                files = result_files(report)
                summary = headline(report)
                resumed = None if report.resumed_from is None else max(0.0, report.resumed_from)
            write_results(self.store.results_dir(job.id), files, private=True)
        except AnalysisCancelled:
            if self._stopping.is_set():
                self.store.update(job.id, state="queued", eta_s=None)
                log.info("job %s stopped by the shutdown at its checkpoint; it resumes at the next start", job.id)
            else:
                self.store.update(job.id, state="cancelled", finished=time.time(), eta_s=None)
            return
        except EmotionError as exc:
            self.store.update(job.id, state="failed", error=str(exc), finished=time.time(), eta_s=None)
            return
        except Exception as exc:  # a bug: the job fails, the service goes on
            log.exception("job %s failed", job.id)
            self.store.update(job.id, state="failed", error=f"internal error ({type(exc).__name__}); see the "
                              "service log", finished=time.time(), eta_s=None)
            return
        current = self.store.get(job.id)
        if current is not None and current.state not in FINISHED:
            self.store.update(job.id, state="done", progress=1.0, eta_s=0.0, finished=time.time(),
                              summary=summary, resumed_from=resumed)


def results_ready(store: JobStore, job_id: str) -> Path | None:
    """The folder of a done job's result files, or None."""
    job = store.get(job_id)
    if job is None or job.state != "done":
        return None
    folder = store.results_dir(job_id)
    return folder if folder.is_dir() else None
