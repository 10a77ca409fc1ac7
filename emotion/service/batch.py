"""Many films in one run: one results folder per film and an index across them.

``INPUT`` is a folder of films (searched recursively) or a manifest CSV with a
``path`` column (relative to the manifest's folder) and optional ``name`` and
``kind`` columns. Each film gets ``OUT/<name>/`` with the same files
``python -m emotion film`` writes (``scenes.csv``, ``shots.csv``,
``frames.csv``, ``report.json``, ``report.html``) and a ``status.json``
written last; ``OUT/index.csv`` lists every film with its status, timings
and headline numbers. A run is resumable: a film whose ``status.json`` says
done with the same file and settings is skipped; a failed one is recorded
with its error and the others go on.

Films run on a local process pool (one per core by default; each worker loads
the model once) or, with :mod:`.ray_batch`, as Ray tasks on a cluster.

>>> spec = BatchSpec(Settings(detector="haar"), FilmSettings(fps=2))
>>> result = run_batch("trailers/", "out/", spec, workers=2)        # doctest: +SKIP
>>> result.done, result.failed                                      # doctest: +SKIP
(12, 0)
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EmotionError
from ..settings import FilmSettings, Settings, check_number  # noqa: F401 - re-exported for callers
from .items import KINDS, BatchItem, BatchSpec, run_local_item, saved_row
from .outputs import write_atomic

log = logging.getLogger(__name__)

VIDEO_TYPES = ("mp4", "mov", "m4v", "mkv", "avi", "webm", "mpg", "mpeg", "wmv", "flv", "ts", "mxf")
INDEX_COLUMNS = ("film", "source", "status", "error", "elapsed_s", "duration_s", "realtime_x", "scenes", "shots",
                 "sampled_frames", "faces", "face_share", "dominant_emotion", "dominant_share", "valence",
                 "complete", "worker", "model_loaded", "load_s", "finished")


@dataclass(frozen=True)
class BatchResult:
    """How a run went: counts, and the index rows of every film."""

    done: int
    failed: int
    skipped: int
    elapsed: float
    rows: tuple[dict[str, Any], ...]


def _folder_name(text: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", text).strip("._") or "film"


def _unique(items: list[BatchItem]) -> list[BatchItem]:
    seen: dict[str, int] = {}
    out = []
    for item in items:
        base = _folder_name(item.name)
        n = seen.get(base.lower(), 0) + 1
        seen[base.lower()] = n
        out.append(BatchItem(base if n == 1 else f"{base}-{n}", item.source, item.kind))
    return out


def read_manifest(path: str | os.PathLike) -> list[BatchItem]:
    """Items of a manifest CSV: ``path`` (or ``film``) per row, optional ``name`` and ``kind``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EmotionError(f"{path.name}: cannot read the manifest ({exc}); save it as a UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    key = "path" if "path" in columns else "film" if "film" in columns else None
    if key is None:
        raise EmotionError(f"{path.name}: the manifest needs a 'path' column (films, relative to the manifest's "
                           f"folder); its columns are {', '.join(columns) or 'none'}")
    items = []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get(key):
            continue
        source = Path(row[key]).expanduser()
        source = source if source.is_absolute() else path.parent / source
        kind = row.get("kind") or "film"
        if kind not in KINDS:
            raise EmotionError(f"{path.name} line {line}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        items.append(BatchItem(row.get("name") or source.stem, str(source), kind))
    if not items:
        raise EmotionError(f"{path.name}: the manifest lists no films; add rows with a 'path'")
    return _unique(items)


def discover(source: str | os.PathLike) -> list[BatchItem]:
    """The films of a batch: a manifest CSV's rows, or the video files in a folder (by relative path)."""
    source = Path(source)
    if source.is_file() and source.suffix.lower() == ".csv":
        return read_manifest(source)
    if not source.is_dir():
        raise EmotionError(f"{source}: not a folder of films or a manifest .csv; check the path")
    files = sorted((p for p in source.rglob("*") if p.is_file() and p.suffix.lower().lstrip(".") in VIDEO_TYPES),
                   key=lambda p: str(p.relative_to(source)).lower())
    if not files:
        raise EmotionError(f"{source}: no video files ({', '.join(VIDEO_TYPES)}) in this folder or below it")
    return _unique([BatchItem(str(p.relative_to(source).with_suffix("")), str(p)) for p in files])


def write_index(out: str | os.PathLike, items: list[BatchItem], rows: dict[str, dict[str, Any]]) -> Path:
    """``OUT/index.csv``: one row per film in input order (films not reached yet say 'pending')."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=INDEX_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(rows.get(item.name) or {"film": item.name, "source": item.source, "status": "pending"})
    path = Path(out) / "index.csv"
    write_atomic(path, buf.getvalue().encode("utf-8"))
    return path


class BatchProgress:
    """``[done/total] film: status in N s · ETA mm:ss`` lines on stderr, one per finished film."""

    def __init__(self, total: int, skipped: int = 0, stream=None):
        self.total, self.count, self.stream = total, skipped, stream
        self.started = time.monotonic()
        self.finished_here = 0

    @staticmethod
    def clock(seconds: float) -> str:
        from ..io import clock

        return clock(seconds)

    def __call__(self, row: dict[str, Any]) -> None:
        self.count += 1
        self.finished_here += 1
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.finished_here * (self.total - self.count)
        what = f"done in {row.get('elapsed_s', 0):.1f} s" if row.get("status") == "done" else \
            f"FAILED: {row.get('error')}"
        if self.stream is not None:
            print(f"[{self.count}/{self.total}] {row.get('film')}: {what} · ETA {self.clock(eta)}",
                  file=self.stream, flush=True)


def _run_pool(todo: list[BatchItem], spec: BatchSpec, out: str, workers: int,
              on_row: Callable[[BatchItem, dict], None]) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, (os.cpu_count() or 1) // workers)
    # spawn: a fresh interpreter per worker (no forked torch state); each loads the model once
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker, initargs=(threads,)) as pool:
        futures = {pool.submit(run_local_item, item, spec, out): item for item in todo}
        try:
            for future in as_completed(futures):
                item = futures[future]
                try:
                    row = future.result()
                except Exception as exc:  # the worker process died (out of memory, a crash in a library)
                    row = {"film": item.name, "source": item.source, "status": "failed",
                           "error": f"the worker stopped ({type(exc).__name__}: {exc})"}
                on_row(item, row)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _init_worker(threads: int) -> None:
    """Share the cores between the pool's workers (as Ray does for its tasks), before torch is imported."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))


def run_batch(source: str | os.PathLike, out: str | os.PathLike, spec: BatchSpec | None = None, *,
              workers: int | None = None, ray: str | None = None, progress=sys.stderr) -> BatchResult:
    """Analyse every film of ``source`` into ``out``; see the module docstring.

    ``workers``: films at once (default one per core); ``ray``: ``None`` for the local pool,
    ``"local"`` for a Ray started for this run, or a cluster address (``"ray://head:10001"``,
    ``"auto"``). ``progress``: a stream for one line per finished film, or None.
    """
    spec = spec or BatchSpec()
    workers = check_number("workers", workers if workers is not None else max(1, os.cpu_count() or 1))
    items = discover(source)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmotionError(f"{out}: cannot create the results folder ({exc.strerror or exc})") from None
    started = time.monotonic()
    rows: dict[str, dict[str, Any]] = {}
    todo = []
    for item in items:
        saved = saved_row(out, item, spec)
        if saved is not None:
            rows[item.name] = saved
        else:
            todo.append(item)
    skipped = len(items) - len(todo)
    if progress is not None and skipped:
        print(f"{skipped} of {len(items)} film(s) already done in {out}: skipped", file=progress, flush=True)
    write_index(out, items, rows)
    report = BatchProgress(len(items), skipped, progress)

    def on_row(item: BatchItem, row: dict[str, Any]) -> None:
        rows[item.name] = row
        write_index(out, items, rows)
        report(row)

    if todo and ray is not None:
        from .ray_batch import run_on_ray

        run_on_ray(todo, spec, str(out), ray, workers, on_row)
    elif todo:
        _run_pool(todo, spec, str(out), min(workers, len(todo)), on_row)
    done = sum(1 for item in todo if rows.get(item.name, {}).get("status") == "done")
    return BatchResult(done, len(todo) - done, skipped, time.monotonic() - started,
                       tuple(rows.get(i.name, {}) for i in items))
