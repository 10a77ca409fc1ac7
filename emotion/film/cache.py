"""Checkpoints and finished results of film analyses, on disk, keyed by what determines them.

A film analysis takes minutes. Its state (sampled frames, scored faces, cuts,
thumbnails, how far it got) is saved every few seconds and when it stops, in
one ``.npz`` file per key under the cache directory; the key hashes the file's
content, the model checkpoint, the face detector and every setting. Starting
the same analysis again resumes from the checkpoint, and a finished one is
loaded instead of recomputed. Files are written atomically and read with
``allow_pickle=False``; a damaged file is discarded, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .keyframes import Candidate
from .shots import Cut

log = logging.getLogger(__name__)

#: Bump when the saved layout or the meaning of a saved value changes.
FORMAT = 1


def file_hash(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """sha256 of a file's content (hex), read in 4 MB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def cache_key(content_hash: str, parts: dict[str, Any]) -> str:
    """A short stable key for (content, model, detector, settings)."""
    blob = json.dumps({"format": FORMAT, "content": content_hash, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass
class PassState:
    """Everything a film pass has gathered so far; plain values, appended in time order."""

    labels: tuple[str, ...]
    width: int
    height: int
    sample_time: list[float] = field(default_factory=list)
    sample_frame: list[int] = field(default_factory=list)
    face_sample: list[np.ndarray] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    scores: list[np.ndarray] = field(default_factory=list)
    probs: list[np.ndarray] = field(default_factory=list)
    cuts: list[Cut] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    scan_time: float = -1.0       # last frame fed to shot detection
    frames: int = 0               # frames decoded (when done: in the whole file)
    last_time: float = 0.0        # time of the last decoded frame
    done: bool = False
    complete: bool = True
    stopped_at: float | None = None
    reason: str = ""
    errors: int = 0

    @property
    def last_sample(self) -> float:
        return self.sample_time[-1] if self.sample_time else -1.0

    def add_sample(self, time: float, frame: int, boxes: np.ndarray, scores: np.ndarray, probs: np.ndarray) -> None:
        index = len(self.sample_time)
        self.sample_time.append(float(time))
        self.sample_frame.append(int(frame))
        if len(boxes):
            self.face_sample.append(np.full(len(boxes), index, np.int64))
            self.boxes.append(np.asarray(boxes, np.float32).reshape(-1, 4))
            self.scores.append(np.asarray(scores, np.float32).reshape(-1))
            self.probs.append(np.asarray(probs, np.float32).reshape(len(boxes), len(self.labels)))

    def arrays(self) -> dict[str, np.ndarray]:
        """Face columns joined into arrays."""
        n_labels = len(self.labels)
        def cat(parts, shape, dtype):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype)
        return {"face_sample": cat(self.face_sample, (0,), np.int64),
                "boxes": cat(self.boxes, (0, 4), np.float32),
                "scores": cat(self.scores, (0,), np.float32),
                "probs": cat(self.probs, (0, n_labels), np.float32)}

    def faces(self) -> int:
        return sum(len(s) for s in self.face_sample)


class FilmCache:
    """A directory of ``<key>.npz`` states, the ``keep`` most recently written kept.

    Safe to use from several threads of one process.
    """

    def __init__(self, root: str | os.PathLike, keep: int = 64):
        self.root = Path(root)
        self.keep = int(keep)
        self._lock = threading.Lock()

    def _prune(self) -> None:
        states = sorted(self.root.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in states[self.keep:]:
            old.unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def save(self, key: str, state: PassState) -> Path:
        """Write ``state`` atomically (a reader sees the old file or the new one, never half)."""
        arrays = state.arrays()
        meta = {"format": FORMAT, "labels": list(state.labels), "width": state.width, "height": state.height,
                "scan_time": state.scan_time, "frames": state.frames, "last_time": state.last_time,
                "done": state.done, "complete": state.complete, "stopped_at": state.stopped_at,
                "reason": state.reason, "errors": state.errors}
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
        target = self.path(key)
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f"{target.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
            try:
                np.savez(tmp, **payload)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            self._prune()
        return target

    def load(self, key: str) -> PassState | None:
        """The saved state for ``key``, or None (missing, from another format, or damaged: then removed)."""
        target = self.path(key)
        if not target.is_file():
            return None
        try:
            with np.load(target, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != FORMAT:
                    raise ValueError(f"format {meta.get('format')} is not {FORMAT}")
                state = PassState(tuple(meta["labels"]), int(meta["width"]), int(meta["height"]))
                state.sample_time = data["sample_time"].tolist()
                state.sample_frame = data["sample_frame"].tolist()
                if len(data["face_sample"]):
                    state.face_sample = [data["face_sample"]]
                    state.boxes, state.scores, state.probs = [data["boxes"]], [data["scores"]], [data["probs"]]
                state.cuts = [Cut(float(t), int(f)) for t, f in zip(data["cut_time"], data["cut_frame"])]
                state.candidates = [Candidate(float(t), float(s), jpeg=data[f"jpeg_{i}"].tobytes())
                                    for i, (t, s) in enumerate(zip(data["cand_time"], data["cand_score"]))]
                for name in ("scan_time", "last_time"):
                    setattr(state, name, float(meta[name]))
                state.frames, state.errors = int(meta["frames"]), int(meta["errors"])
                state.done, state.complete = bool(meta["done"]), bool(meta["complete"])
                state.stopped_at = None if meta["stopped_at"] is None else float(meta["stopped_at"])
                state.reason = str(meta["reason"])
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            log.warning("discarding the damaged film checkpoint %s: %s", target, exc)
            target.unlink(missing_ok=True)
            return None
        return state

    def discard(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
