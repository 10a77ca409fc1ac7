"""Films on the server: uploads stored once per content (``<sha256>/<its own name>``) and the media folder.

Shared by the Film and Audience pages. The hash keys the analysis cache; the name is what every result
and download is called. Only the newest few uploads are kept (films can be gigabytes).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from emotion.film import default_cache_dir

VIDEO_TYPES = ("mp4", "mov", "m4v", "mkv", "avi", "webm", "mpg", "mpeg", "wmv", "flv", "ts")
KEEP_UPLOADS = 3          # uploaded films kept on disk (they can be gigabytes)


@dataclass(frozen=True)
class StoredUpload:
    """A film on disk: an upload saved as ``<sha256>/<its own name>`` (the hash keys the cache, the name is
    what every result and download is called), or a file from the media folder."""

    name: str
    path: Path
    sha256: str
    size: int


def _safe_name(name: str) -> str:
    """The upload's own file name, without folders or characters a file system rejects."""
    base = Path(str(name).replace("\\", "/")).name.strip().lstrip(".")
    base = "".join(c if c.isprintable() and c not in '<>:"/\\|?*' else "_" for c in base)[:200]
    return base or "film.mp4"


def store_upload(uploaded, folder: Path | None = None) -> StoredUpload:
    """Stream an upload to ``folder/<sha256>/<its own name>`` (once per content); keep only the newest few."""
    import shutil

    folder = Path(folder or default_cache_dir() / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    name = _safe_name(uploaded.name)
    tmp = folder / f".upload.{os.getpid()}.{time.monotonic_ns()}.part"
    digest, size = hashlib.sha256(), 0
    uploaded.seek(0)
    try:
        with open(tmp, "wb") as out:
            for chunk in iter(lambda: uploaded.read(8 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
        target = folder / sha / name
        if target.exists():
            tmp.unlink()
        else:
            target.parent.mkdir(exist_ok=True)
            os.replace(tmp, target)
        target.parent.touch()
    finally:
        tmp.unlink(missing_ok=True)
    old = sorted((p for p in folder.iterdir() if not p.name.startswith(".")),
                 key=lambda p: p.stat().st_mtime, reverse=True)[KEEP_UPLOADS:]
    for p in old:
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    return StoredUpload(uploaded.name, target, sha, size)


def store_video(uploaded, folder: Path | None = None) -> tuple[StoredUpload | None, str | None]:
    """Store an upload and check at once that it is a video: (the stored file, None) or (None, why not);
    a file that is no video is removed again."""
    import shutil

    from emotion.errors import UnreadableMedia
    from emotion.film.video import probe

    stored = store_upload(uploaded, folder)
    try:
        probe(stored.path)
    except UnreadableMedia as exc:
        shutil.rmtree(stored.path.parent, ignore_errors=True)
        return None, str(exc)
    return stored, None


def media_files(folder: str | os.PathLike | None = None) -> list[Path]:
    """Video files in the server-side media folder ``$EMOTION_MEDIA_DIR`` (and its subfolders), by name."""
    root = folder or os.environ.get("EMOTION_MEDIA_DIR")
    if not root or not Path(root).is_dir():
        return []
    found = [p for p in Path(root).rglob("*") if p.is_file() and p.suffix.lower().lstrip(".") in VIDEO_TYPES]
    return sorted(found, key=lambda p: str(p.relative_to(root)).lower())[:2000]
