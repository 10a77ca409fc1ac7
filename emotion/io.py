"""Small file and time helpers, written once and used everywhere.

* :func:`atomic_write`: a reader sees the old file or the new one, never half of it. The temporary
  name is unique per call (process, thread and a random part), so Streamlit's session threads and
  several processes can write the same target at once.
* :func:`file_digest` / :func:`update_digest`: sha256 of a file, streamed.
* :func:`clock`: a duration as ``m:ss`` or ``h:mm:ss`` (progress bars, ETAs, lengths).
* :func:`private_dir` / :func:`private_file`: folders and files only their owner can read (uploaded faces).

>>> clock(75), clock(3725), clock(None)
('1:15', '1:02:05', '–')
"""

from __future__ import annotations

import hashlib
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

_CHUNK = 1 << 22


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.partial")


def atomic_write(target: str | os.PathLike, data: bytes | str | None = None, *,
                 writer: Callable[[Path], None] | None = None, durable: bool = False,
                 mode: int | None = None) -> Path:
    """Write ``data`` (or let ``writer(temp_path)`` write it) to a unique temporary file, then rename it
    over ``target``. ``durable`` also fsyncs the file and its folder (checkpoints that must survive a power
    cut); ``mode`` sets the file's permissions before it appears (e.g. 0o600 for private results).

    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write(p, "hello").read_text()
    'hello'
    """
    target = Path(target)
    if (data is None) == (writer is None):
        raise ValueError("atomic_write: give data or a writer, not both")
    tmp = _temp_name(target)
    try:
        if writer is not None:
            writer(tmp)
        else:
            payload = data.encode("utf-8") if isinstance(data, str) else data
            with open(tmp, "wb") as f:
                f.write(payload)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
        if durable and writer is not None:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        try:
            fd = os.open(target.parent, os.O_RDONLY)
        except OSError:
            return target
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
    return target


def update_digest(digest, path: str | os.PathLike) -> None:
    """Feed a file's bytes into a hashlib object, streamed."""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of a file's content (``hashlib.file_digest`` where Python has it)."""
    with open(path, "rb") as f:
        if hasattr(hashlib, "file_digest"):
            return hashlib.file_digest(f, algorithm).hexdigest()
        h = hashlib.new(algorithm)
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
        return h.hexdigest()


def clock(seconds: float | None) -> str:
    """``m:ss`` below an hour, else ``h:mm:ss``; ``–`` for None."""
    if seconds is None:
        return "–"
    n = max(0, round(seconds))
    h, rest = divmod(n, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def private_dir(path: str | os.PathLike) -> Path:
    """``path`` made (with parents) and set to 0700: uploads of people's faces are not for other local users."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    try:
        if stat.S_IMODE(path.stat().st_mode) != 0o700:
            os.chmod(path, 0o700)
    except OSError:
        pass           # not ours to change (a shared, read-only folder): the files inside are still 0600
    return path


def private_file(path: str | os.PathLike) -> Path:
    """``path`` set to 0600 (owner read/write only)."""
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass
    return Path(path)
