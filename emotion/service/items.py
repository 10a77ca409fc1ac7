"""One film of a batch: what it is, what it is analysed with, and the work a worker does for it.

Shared by the local process pool (:mod:`.batch`) and Ray (:mod:`.ray_batch`):
:func:`analyze_item` runs on the worker and returns the film's index row and
result files; :func:`store_item` writes them (the ``status.json`` last).

>>> BatchItem("trailer", "/media/trailer.mp4").kind
'film'
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EmotionError, SettingsError
from ..settings import FilmSettings, Settings
from ..film.output import RESULT_FILES, headline, result_files
from .outputs import write_atomic, write_results

log = logging.getLogger(__name__)

KINDS = ("film", "reaction")


@dataclass(frozen=True)
class BatchItem:
    """One film of a batch: its results folder name, its path, and what it is."""

    name: str
    source: str
    kind: str = "film"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SettingsError(f"{self.name}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")


@dataclass(frozen=True)
class BatchSpec:
    """What every film of a batch is analysed with (the same on every worker)."""

    settings: Settings = field(default_factory=Settings)
    film: FilmSettings = field(default_factory=FilmSettings)
    cache: bool | str = True    # as analyze_video's: the default folder, a folder, or none

    def fingerprint(self, item: BatchItem) -> str:
        """Changes when the film file or a setting that changes results does."""
        try:
            stat = os.stat(item.source)
            ident = [stat.st_size, stat.st_mtime_ns]
        except OSError:
            ident = None
        cut = [self.film.segments, *([self.film.scene_list] if self.film.scene_list else [])]
        blob = json.dumps([item.source, item.kind, ident, asdict(self.settings), self.film.result_fields(), *cut],
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


_loaded: set = set()


def _detector(settings: Settings):
    """The worker's detector for ``settings`` (loaded once per worker process) and whether this call loaded it."""
    from ..detector import get_detector

    fresh = settings not in _loaded
    detector = get_detector(settings)
    _loaded.add(settings)
    return detector, fresh


def analyze_item(item: BatchItem, spec: BatchSpec) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Analyse one film: ``(index row, {file name: bytes})``; never raises for a bad film (the row says why).

    Runs in a worker (a pool process or a Ray task); the caller writes the files.
    """
    from ..film import analyze_video

    started = time.monotonic()
    row: dict[str, Any] = {"film": item.name, "source": item.source, "worker": f"{socket.gethostname()}:{os.getpid()}",
                           "model_loaded": False}
    files: dict[str, bytes] = {}
    try:
        if item.kind != "film":
            raise EmotionError(f"{item.name}: audience reactions are not analysed in this build yet; "
                               "list films only (kind=film)")
        if not Path(item.source).is_file():
            raise EmotionError(f"{item.source}: no such film on worker {socket.gethostname()}; workers need the "
                               "same media paths as the machine that started the batch")
        loading = time.monotonic()
        detector, row["model_loaded"] = _detector(spec.settings)
        row["load_s"] = round(time.monotonic() - loading, 3)
        report = analyze_video(item.source, spec.settings, spec.film, detector=detector, cache=spec.cache)
        files = result_files(report)
        numbers = headline(report)
        row.update(status="done", error="", **numbers)
    except EmotionError as exc:
        row.update(status="failed", error=str(exc))
    except Exception as exc:  # a bug or a broken worker: recorded, the batch goes on
        log.exception("%s failed", item.name)
        row.update(status="failed", error=f"internal error ({type(exc).__name__}: {exc})")
    elapsed = time.monotonic() - started
    row["elapsed_s"] = round(elapsed, 3)
    duration = row.get("duration_s")
    row["realtime_x"] = round(duration / elapsed, 2) if duration and elapsed > 0 else ""
    row["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return row, files


def store_item(out: str | os.PathLike, item: BatchItem, spec: BatchSpec, row: dict[str, Any],
               files: dict[str, bytes]) -> None:
    """Write a film's result files, then its ``status.json`` (last, so a crash never leaves a false 'done')."""
    folder = Path(out) / item.name
    write_results(folder, files)
    status = {**row, "fingerprint": spec.fingerprint(item)}
    write_atomic(folder / "status.json", json.dumps(status, indent=1).encode())


def run_local_item(item: BatchItem, spec: BatchSpec, out: str) -> dict[str, Any]:
    """A process-pool task: analyse one film and write its folder; returns its index row."""
    row, files = analyze_item(item, spec)
    store_item(out, item, spec, row, files)
    return row


def saved_row(out: str | os.PathLike, item: BatchItem, spec: BatchSpec) -> dict[str, Any] | None:
    """The row of a film already done with the same file and settings (all its files there), else None."""
    folder = Path(out) / item.name
    try:
        status = json.loads((folder / "status.json").read_text())
    except (OSError, ValueError):
        return None
    if status.get("status") != "done" or status.get("fingerprint") != spec.fingerprint(item):
        return None
    if not all((folder / name).is_file() for name in RESULT_FILES):
        return None
    return {k: v for k, v in status.items() if k != "fingerprint"}
