"""Result files written to disk, the same for the service's jobs and batch runs.

What the files are is the film's and the panel's output modules' business
(:mod:`emotion.film.output`, :mod:`emotion.audience.output`); this writes a
``{name: bytes}`` bundle into a folder, atomically and, for the service, private.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..io import atomic_write, private_dir


def write_atomic(path: str | os.PathLike, data: bytes, private: bool = False) -> None:
    """Write ``data`` so that a reader sees the old file or the new one, never half of it; ``private``: 0600
    (the service's results describe people's faces)."""
    atomic_write(path, data, mode=0o600 if private else None)


def write_results(folder: str | os.PathLike, files: dict[str, bytes], private: bool = False) -> Path:
    """Write a ``{name: bytes}`` bundle (:func:`emotion.film.output.result_files`, a panel's) into ``folder``
    (created if missing); returns the folder.

    ``private``: the folder 0700 and the files 0600 (the service's state folder may be shared by local users).
    """
    folder = private_dir(folder) if private else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomic(folder / name, data, private)
    return folder
