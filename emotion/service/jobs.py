"""Film and audience jobs of the REST service: one record per job, kept on disk so jobs outlive a restart.

A :class:`Job` is a frozen value; :class:`JobStore` holds the current one for
each id, writes it as ``<state>/jobs/<id>.json`` (atomically) whenever its
state changes, and throttled while its progress moves. On start the store
reads them back: a job that was queued or running when the service stopped
is queued again, and the film cache resumes it from its checkpoint. A
finished job (done, failed or cancelled) is deleted with its upload and
results ``ttl`` seconds after it finished.

>>> job = Job.new("trailer.mp4", "/srv/media/trailer.mp4")
>>> job.state, job.to_public()["progress"]
('queued', 0.0)
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..errors import SettingsError
from ..io import private_dir
from .outputs import write_atomic

log = logging.getLogger(__name__)

STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")
KINDS = ("film", "audience")


@dataclass(frozen=True)
class Job:
    """One film (or audience) analysis asked of the service.

    ``source`` is the film on the server (an upload kept under the job, or a media-folder file);
    ``uploaded`` says the service owns it (and deletes it when the job expires). ``options`` are the
    client's settings as sent (validated when the job was made). ``progress`` runs 0-1; ``eta_s`` is
    None until there is a rate to extrapolate. ``resumed_from`` (seconds into the film) is set when
    the analysis picked up from a checkpoint. ``kind`` is ``"film"`` or ``"audience"`` (records written
    before audience jobs have none: they are film jobs); an audience job's ``source`` is the film and
    ``reactions`` its recordings, each ``{"name", "path", "offset_s"}`` (``offset_s`` None: found from the sound).
    """

    id: str
    name: str
    source: str
    uploaded: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    kind: str = "film"
    state: str = "queued"
    progress: float = 0.0
    eta_s: float | None = None
    error: str | None = None
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    resumed_from: float | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    reactions: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Job: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.state not in STATES:
            raise ValueError(f"Job: state must be one of {', '.join(STATES)}, got {self.state!r}")
        if not 0.0 <= float(self.progress) <= 1.0:
            raise ValueError(f"Job: progress must be 0-1, got {self.progress!r}")

    @classmethod
    def new(cls, name: str, source: str, uploaded: bool = False, options: dict | None = None,
            job_id: str | None = None, kind: str = "film", reactions: list[dict] | None = None) -> Job:
        return cls(job_id or new_id(), name, str(source), uploaded, dict(options or {}), kind=kind,
                   created=time.time(), reactions=[dict(r) for r in reactions or ()])

    def replace(self, **changes) -> Job:
        return replace(self, **changes)

    def to_public(self) -> dict[str, Any]:
        """What ``GET /v1/jobs/ID`` answers: no server paths."""
        out = {"job": self.id, "kind": self.kind, "name": self.name, "state": self.state,
               "progress": round(float(self.progress), 4),
               "eta_s": None if self.eta_s is None else round(float(self.eta_s), 1), "error": self.error,
               "created": self.created, "started": self.started, "finished": self.finished,
               "resumed_from": self.resumed_from, "options": self.options}
        if self.kind == "audience":
            out["reactions"] = [{"name": r["name"], "offset_s": r.get("offset_s")} for r in self.reactions]
        if self.state == "done":
            out["summary"] = self.summary
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def new_id() -> str:
    """A job id: 16 hex digits, unguessable (ids are not secrets, but need not be enumerable)."""
    return secrets.token_hex(8)


class JobStore:
    """The jobs of one service, in memory and under ``root`` (``jobs/``, ``uploads/``, ``results/``).

    Thread-safe: the request handlers and the pool's workers share it.
    """

    def __init__(self, root: str | Path, ttl_s: float, save_every: float = 2.0):
        self.root = Path(root)
        self.ttl_s = float(ttl_s)
        self.save_every = float(save_every)
        self._jobs: dict[str, Job] = {}
        self._saved: dict[str, float] = {}
        self._lock = threading.Lock()
        try:
            private_dir(self.root)
            for sub in ("jobs", "uploads", "results"):
                private_dir(self.root / sub)
                probe = self.root / sub / f".write-test-{os.getpid()}"
                probe.write_bytes(b"")
                probe.unlink()
        except OSError as exc:
            raise SettingsError(f"the service cannot write its state folder {self.root} ({exc.strerror or exc}); "
                                "pass --state-dir with a folder you can write, or fix its permissions") from None

    def upload_dir(self, job_id: str) -> Path:
        return self.root / "uploads" / job_id

    def new_upload_dir(self, job_id: str) -> Path:
        """The job's upload folder, made private (0700)."""
        return private_dir(self.upload_dir(job_id))

    def remove_orphans(self, min_age_s: float = 0.0, now: float | None = None) -> list[str]:
        """Delete what lies in ``uploads/`` and ``results/`` without a job (a crash mid-upload leaves such).

        ``min_age_s`` spares what was written in the last seconds: an upload still arriving has no job yet.
        """
        now = time.time() if now is None else now
        with self._lock:
            known = set(self._jobs)
        gone = []
        for sub in ("uploads", "results"):
            for path in (self.root / sub).iterdir():
                if path.name in known or path.name.startswith(".write-test"):
                    continue
                try:
                    newest = max([path.stat().st_mtime] + [p.stat().st_mtime for p in path.rglob("*")])
                except OSError:
                    continue
                if now - newest < min_age_s:
                    continue
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                gone.append(f"{sub}/{path.name}")
        for name in gone:
            log.info("removed %s: no job owns it (left by a crash or a cut-off upload)", name)
        return gone

    def results_dir(self, job_id: str) -> Path:
        return self.root / "results" / job_id

    def _record(self, job_id: str) -> Path:
        return self.root / "jobs" / f"{job_id}.json"

    def _write(self, job: Job) -> None:
        write_atomic(self._record(job.id), json.dumps(asdict(job), indent=1).encode(), private=True)
        self._saved[job.id] = time.monotonic()

    def add(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job
            self._write(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created)

    def update(self, job_id: str, *, force: bool = True, **changes) -> Job | None:
        """Change a job; written to disk at once when ``force`` (state changes), else every few seconds."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            job = job.replace(**changes)
            self._jobs[job_id] = job
            if force or time.monotonic() - self._saved.get(job_id, 0.0) >= self.save_every:
                self._write(job)
            return job

    def transition(self, job_id: str, allowed: tuple[str, ...], **changes) -> Job | None:
        """Change a job only if its state is one of ``allowed`` (checked and changed under one lock)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state not in allowed:
                return None
            job = job.replace(**changes)
            self._jobs[job_id] = job
            self._write(job)
            return job

    def load(self) -> list[Job]:
        """Read the records on disk; returns the jobs that were queued or running (to queue again)."""
        pending = []
        for path in sorted((self.root / "jobs").glob("*.json")):
            try:
                job = Job.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("skipping the unreadable job record %s: %s", path.name, exc)
                continue
            if job.state in ("queued", "running"):
                job = job.replace(state="queued", eta_s=None)
                pending.append(job)
            with self._lock:
                self._jobs[job.id] = job
                self._write(job)
        return sorted(pending, key=lambda j: j.created)

    def expire(self, now: float | None = None) -> list[str]:
        """Delete finished jobs older than the time to keep them, with their uploads and results."""
        now = time.time() if now is None else now
        gone = []
        with self._lock:
            for job in list(self._jobs.values()):
                if job.state in FINISHED and job.finished is not None and now - job.finished > self.ttl_s:
                    del self._jobs[job.id]
                    self._saved.pop(job.id, None)
                    gone.append(job.id)
        for job_id in gone:
            self._record(job_id).unlink(missing_ok=True)
            shutil.rmtree(self.upload_dir(job_id), ignore_errors=True)
            shutil.rmtree(self.results_dir(job_id), ignore_errors=True)
            log.info("job %s expired: record, upload and results deleted", job_id)
        return gone
