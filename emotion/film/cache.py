"""Checkpoints and finished results of passes over videos (films and reaction recordings), on disk.

A film analysis takes minutes (a reaction scan as long). Its state (sampled frames, scored faces, cuts,
thumbnails, how far it got) is saved soon after it starts, every few seconds
and when it stops, in one ``.ckpt`` file per key under the cache directory; the
key hashes the file's content, the model checkpoint, the face detector and
every setting. Starting the same analysis again resumes from the checkpoint,
and a finished one is loaded instead of recomputed. Entries are written
atomically, carry their format version and a checksum, and are read with
``allow_pickle=False``; a damaged one is discarded, never trusted. The folder
(``$EMOTION_CACHE_DIR``) and its size limit (``$EMOTION_CACHE_MAX_MB``) are
settings; a folder that cannot be written only turns caching off.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..face_log import FaceLog
from ..io import atomic_write, file_digest
from ..settings import check_number
from .keyframes import Candidate
from .shots import Cut
from .state import PassState

log = logging.getLogger(__name__)

#: Bump when the saved layout or the meaning of a saved value changes.
FORMAT = 2


def file_hash(path: str | os.PathLike) -> str:
    """sha256 of a file's content (hex)."""
    return file_digest(path)


def cache_key(content_hash: str, parts: dict[str, Any]) -> str:
    """A short stable key for (content, model, detector, settings)."""
    blob = json.dumps({"format": FORMAT, "content": content_hash, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class PassCache:
    """A directory of ``<key>.ckpt`` entries, the most recently written kept (``keep`` of them, ``max_mb`` in all).

    Each entry is one file: a header line, the format version, the sha256 of
    the body, then the body (an ``.npz`` archive, read with
    ``allow_pickle=False``). A write goes to a hidden ``.<key>.ckpt.<pid>.<random>.partial``
    file, is flushed to disk and renamed over the entry, so a reader sees the
    old entry or the new one, never half of one. Reads and writes of a key hold
    that key's lock, shared by every :class:`PassCache` of the process (threads)
    and, through a lock file, by other processes. An entry that is damaged,
    truncated or from another version is discarded with one warning. A folder
    that cannot be written turns caching off for this instance with one
    warning (see :attr:`notes`); the analysis goes on without it.

    >>> store = PassCache("/tmp/emotion-doctest-cache", max_mb=64)       # doctest: +SKIP
    >>> store.save("abc", PassState(("happy", "sad"), 640, 360))           # doctest: +SKIP
    >>> store.load("abc").width                                            # doctest: +SKIP
    640
    """

    def __init__(self, root: str | os.PathLike, keep: int = 64, max_mb: float | None = None):
        self.root = Path(root)
        self.keep = int(keep)
        self.max_bytes = int((cache_max_mb() if max_mb is None else check_number("max_mb", max_mb, "cache_max_mb"))
                             * 1_000_000)
        #: Plain-language messages for the user about this cache (a folder that cannot be written,
        #: a damaged entry that was discarded); the film report lists them as warnings.
        self.notes: list[str] = []
        self.writable = True

    def path(self, key: str) -> Path:
        return self.root / f"{key}{SUFFIX}"

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
            log.warning("%s", text)

    def _unwritable(self, exc: OSError) -> None:
        self.writable = False
        self._note(f"The cache folder cannot be written ({_reason(exc)}), so this analysis is not saved: it "
                   "cannot resume after a stop and will be computed again next time. Set EMOTION_CACHE_DIR "
                   "to a writable folder with free space.")

    def save(self, key: str, state: PassState) -> Path | None:
        """Write ``state`` atomically; None (and a note) when the cache folder cannot be written.

        Never raises for a problem of the cache folder: a full or read-only disk
        only turns caching off.
        """
        if not self.writable:
            return None
        body = _encode(state)
        target = self.path(key)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with _key_lock(self.root, key):
                _write_atomically(target, _HEADER + f"{FORMAT}\n".encode() + _digest(body) + b"\n", body)
        except TimeoutError:
            log.warning("the cache entry of this analysis is busy in another process; skipped one checkpoint")
            return None
        except OSError as exc:
            self._unwritable(exc)
            return None
        self._prune(keep_key=key)
        return target

    def load(self, key: str) -> PassState | None:
        """The saved state for ``key``, or None (missing, unreadable, from another version or damaged: discarded)."""
        target = self.path(key)
        try:
            with _key_lock(self.root, key, create=False):
                data = target.read_bytes()
        except (FileNotFoundError, NotADirectoryError):   # nothing saved (or no folder: save says why)
            return None
        except (OSError, TimeoutError) as exc:
            self._note(f"A saved analysis could not be read from the cache ({_reason(exc)}); the film is "
                       "analysed again.")
            return None
        try:
            return _decode(data)
        except Exception as exc:  # noqa: BLE001 - an entry is untrusted input: any failure means discard it
            self._note(f"A saved analysis in the cache was unusable ({_first_line(exc)}) and was discarded; "
                       "the film is analysed again.")
            self.discard(key)
            return None

    def discard(self, key: str) -> None:
        try:
            with _key_lock(self.root, key, create=False):
                self.path(key).unlink(missing_ok=True)
        except (OSError, TimeoutError) as exc:
            log.warning("could not remove a cache entry: %s", _reason(exc))

    def _prune(self, keep_key: str | None = None) -> None:
        """Drop the oldest entries beyond ``keep`` or ``max_mb``; files may vanish under it (other writers)."""
        entries = []
        for path in self.root.glob(f"*{SUFFIX}"):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, path))
        entries.sort(key=lambda e: e[0], reverse=True)
        total, kept = 0, 0
        for _mtime, size, path in entries:
            mine = path.stem == keep_key
            if mine or (kept < self.keep and total + size <= self.max_bytes):
                total, kept = total + size, kept + 1
                continue
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.debug("could not prune a cache entry: %s", exc)
        now = time.time()
        for pattern, age in ((".*.partial", 3600.0), (".*.lock", 86400.0)):
            for path in self.root.glob(pattern):
                try:
                    stale = now - path.stat().st_mtime > age
                    if stale and not (pattern == ".*.lock" and self.path(path.name[1:-5]).exists()):
                        path.unlink(missing_ok=True)
                except OSError:
                    continue


#: The suffix of finished entries; temporary files start with a dot and end in ``.partial``.
SUFFIX = ".ckpt"
_HEADER = b"EMOTION-FILM-CHECKPOINT\n"
_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
#: Seconds to wait for another process holding a key's lock before giving up on one read or write.
LOCK_TIMEOUT = 30.0


def cache_max_mb() -> float:
    """The cache size limit in MB: ``$EMOTION_CACHE_MAX_MB`` if set (checked against LIMITS), else 1024."""
    raw = os.environ.get("EMOTION_CACHE_MAX_MB", "").strip()
    if not raw:
        return 1024.0
    try:
        value: Any = float(raw)
    except ValueError:
        value = raw
    return check_number("EMOTION_CACHE_MAX_MB", value, "cache_max_mb")


@contextmanager
def _key_lock(root: Path, key: str, create: bool = True) -> Iterator[None]:
    """Hold ``key``'s lock: a thread lock shared in this process, then a lock file for other processes.

    ``create=False`` (readers) skips the lock file when the folder does not exist or cannot be written.
    """
    from filelock import FileLock, Timeout

    ident = (str(root.resolve()), key)
    with _LOCKS_GUARD:
        thread_lock = _LOCKS.setdefault(ident, threading.Lock())
    if not thread_lock.acquire(timeout=LOCK_TIMEOUT):
        raise TimeoutError("another thread holds the cache entry")
    try:
        lock_path = root / f".{key}.lock"
        if not create and not os.access(root, os.W_OK):
            yield
            return
        try:
            with FileLock(lock_path, timeout=LOCK_TIMEOUT, thread_local=False):
                yield
        except Timeout as exc:
            raise TimeoutError("another process holds the cache entry") from exc
    finally:
        thread_lock.release()


def _write_atomically(target: Path, *parts: bytes | memoryview) -> None:
    """Write ``parts`` to a unique temporary file, fsync it, rename it over ``target``, fsync the folder."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            for part in parts:
                f.write(part)

    atomic_write(target, writer=write, durable=True)


def _digest(body: bytes | memoryview) -> bytes:
    return hashlib.sha256(body).hexdigest().encode()


def _encode(state: PassState) -> memoryview:
    """The body of an entry: an uncompressed ``.npz`` of the state's arrays and a JSON ``meta`` (not copied)."""
    arrays = state.arrays()
    meta = {"labels": list(state.labels), "width": state.width, "height": state.height,
            "scan_time": state.scan_time, "frames": state.frames, "last_time": state.last_time,
            "done": state.done, "complete": state.complete, "stopped_at": state.stopped_at,
            "reason": state.reason, "errors": state.errors, "duration": state.duration,
            "detect_side": state.detect_side, "smallest_face": state.smallest_face}
    payload: dict[str, np.ndarray] = {
        "meta": np.array(json.dumps(meta)),
        "sample_time": np.asarray(state.sample_time, np.float64),
        "sample_frame": np.asarray(state.sample_frame, np.int64),
        "cut_time": np.asarray([c.time for c in state.cuts], np.float64),
        "cut_frame": np.asarray([c.frame for c in state.cuts], np.int64),
        "cand_time": np.asarray([c.time for c in state.candidates], np.float64),
        "cand_score": np.asarray([c.score for c in state.candidates], np.float64),
        **arrays,
    }
    for i, cand in enumerate(state.candidates):
        payload[f"jpeg_{i}"] = np.frombuffer(cand.jpeg, np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **payload)
    return buf.getbuffer()


def _decode(data: bytes) -> PassState:
    """The state in an entry's bytes; raises ValueError (or whatever the archive reader raises) when unusable."""
    if not data.startswith(_HEADER):
        raise ValueError("not a checkpoint of this tool")
    version, _, rest = data[len(_HEADER):].partition(b"\n")
    if version != str(FORMAT).encode():
        raise ValueError(f"written by another version of the tool (format {version[:8].decode(errors='replace')}, "
                         f"this one reads {FORMAT})")
    digest, _, body = rest.partition(b"\n")
    if digest != _digest(body):
        raise ValueError("checksum mismatch: the file is damaged or truncated")
    with np.load(io.BytesIO(body), allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        state = PassState(tuple(meta["labels"]), int(meta["width"]), int(meta["height"]))
        state.sample_time = data["sample_time"].tolist()
        state.sample_frame = data["sample_frame"].tolist()
        state.faces = FaceLog.from_arrays(state.labels, data, landmarks="landmarks" in data.files)
        state.cuts = [Cut(float(t), int(f)) for t, f in zip(data["cut_time"], data["cut_frame"])]
        state.candidates = [Candidate(float(t), float(s), jpeg=data[f"jpeg_{i}"].tobytes())
                            for i, (t, s) in enumerate(zip(data["cand_time"], data["cand_score"]))]
        for name in ("scan_time", "last_time"):
            setattr(state, name, float(meta[name]))
        state.frames, state.errors = int(meta["frames"]), int(meta["errors"])
        state.done, state.complete = bool(meta["done"]), bool(meta["complete"])
        state.stopped_at = None if meta["stopped_at"] is None else float(meta["stopped_at"])
        state.duration = float(meta.get("duration", 0.0))       # not in entries written before reactions used it
        state.detect_side = int(meta.get("detect_side", 0))
        state.smallest_face = float(meta.get("smallest_face", 0.0))
        state.reason = str(meta["reason"])
    return state


def _reason(exc: BaseException) -> str:
    """An OS error in words, without its number or path ("permission denied", "no space left on device")."""
    text = getattr(exc, "strerror", None) or _first_line(exc)
    return text[0].lower() + text[1:] if text else type(exc).__name__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
