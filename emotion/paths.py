"""Where the tool keeps files: one cache directory, with a folder per kind of entry.

Nothing else needs to load a face detector or a model to find a folder.
``$EMOTION_CACHE_DIR`` moves the whole cache (tests point it at a temp dir).

>>> import os
>>> os.environ["EMOTION_CACHE_DIR"] = "/tmp/emotion-doctest"
>>> str(cache_dir("film"))
'/tmp/emotion-doctest/film'
>>> del os.environ["EMOTION_CACHE_DIR"]
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str | None = None) -> Path:
    """The cache root (``$EMOTION_CACHE_DIR``, else the platform's user cache dir), or its ``kind`` folder.

    Kinds in use: ``film`` (analysis checkpoints), ``onnx`` (exported int8 models), ``training``
    (parsed data sets), ``runtime`` (the backend each machine chose); the YuNet download sits at the root.
    """
    env = os.environ.get("EMOTION_CACHE_DIR")
    if env:
        root = Path(env).expanduser()
    else:
        try:
            import platformdirs

            root = Path(platformdirs.user_cache_dir("emotion", appauthor=False))
        except ImportError:
            root = Path.home() / ".cache" / "emotion"
    return root / kind if kind else root
