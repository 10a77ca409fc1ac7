"""Loaders for FER2013 (Kaggle csv) and the FER+ vote file, and the training set built from them.

FER2013 rows are ``emotion,pixels,Usage``; FER+ (``fer2013new.csv``) has the same
row order with votes of ten annotators over ``neutral, happiness, surprise,
sadness, anger, disgust, fear, contempt, unknown, NF``.

Targets are the eight FER+ emotions in :data:`emotion.labels.CANONICAL` order.
Rows whose most-voted class is ``unknown`` or ``NF`` (not a face) are left out,
and so are rows the data notes flag as lossy (``pixels_from=jpg``).

>>> ds = load_faceset("fer2013.csv.gz", "fer2013new.csv")      # doctest: +SKIP
>>> ds.split("Training").images.shape                           # doctest: +SKIP
(24938, 48, 48)
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..labels import CANONICAL

log = logging.getLogger(__name__)

#: FER2013 class index -> canonical label (Kaggle: 0 Angry 1 Disgust 2 Fear 3 Happy 4 Sad 5 Surprise 6 Neutral).
FER2013_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: FER+ vote columns, in file order.
FERPLUS_COLUMNS: tuple[str, ...] = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust",
                                    "fear", "contempt", "unknown", "NF")
_FERPLUS_TO_CANONICAL = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise",
                         "sadness": "sad", "anger": "angry", "disgust": "disgust", "fear": "fear",
                         "contempt": "contempt"}
SPLITS = ("Training", "PublicTest", "PrivateTest")
IMAGE_SIDE = 48


def _open_text(path: str | Path):
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist; pass the FER2013/FER+ csv files (see docs/training.md)")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


@dataclass(frozen=True)
class Fer2013:
    """The Kaggle FER2013 csv: ``images`` (N,48,48) uint8, ``labels`` (N,) int in FER2013 order, ``usage`` (N,)."""

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray

    def __post_init__(self):
        n = len(self.labels)
        if self.images.shape != (n, IMAGE_SIDE, IMAGE_SIDE) or self.images.dtype != np.uint8:
            raise DataError(f"images must be uint8 of shape ({n}, 48, 48), got {self.images.dtype} {self.images.shape}")
        if self.usage.shape != (n,):
            raise DataError(f"usage must have shape ({n},), got {self.usage.shape}")


def load_fer2013(path: str | Path) -> Fer2013:
    """Read the Kaggle FER2013 csv (plain or ``.gz``).

    Raises :class:`DataError` with the line number for a malformed row.
    """
    images, labels, usage = [], [], []
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != ["emotion", "pixels", "Usage"]:
            raise DataError(f"{path}: expected the header 'emotion,pixels,Usage', got {header!r}")
        for lineno, row in enumerate(reader, start=2):
            if len(row) < 3:
                raise DataError(f"{path}:{lineno}: expected 3 columns, got {len(row)}")
            try:
                label = int(row[0])
                pix = np.array(row[1].split(), dtype=np.uint8) if row[1] else np.empty(0, np.uint8)
            except ValueError as exc:
                raise DataError(f"{path}:{lineno}: not a number ({exc})") from None
            if pix.size != IMAGE_SIDE * IMAGE_SIDE:
                raise DataError(f"{path}:{lineno}: expected {IMAGE_SIDE * IMAGE_SIDE} pixels, got {pix.size}")
            if not 0 <= label < len(FER2013_LABELS):
                raise DataError(f"{path}:{lineno}: emotion {label} outside 0..6")
            if row[2] not in SPLITS:
                raise DataError(f"{path}:{lineno}: Usage {row[2]!r} is not one of {SPLITS}")
            images.append(pix.reshape(IMAGE_SIDE, IMAGE_SIDE))
            labels.append(label)
            usage.append(row[2])
    if not images:
        raise DataError(f"{path}: no rows")
    return Fer2013(np.stack(images), np.asarray(labels, np.int64), np.asarray(usage))


@dataclass(frozen=True)
class FerPlus:
    """FER+ votes: ``votes`` (N,10) in :data:`FERPLUS_COLUMNS` order, ``usage`` (N,)."""

    votes: np.ndarray
    usage: np.ndarray


def load_ferplus(path: str | Path) -> FerPlus:
    """Read ``fer2013new.csv`` (Usage, Image name, ten vote columns)."""
    votes, usage = [], []
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header[2:12]) != FERPLUS_COLUMNS:
            raise DataError(f"{path}: expected the FER+ header 'Usage,Image name,{','.join(FERPLUS_COLUMNS)}', "
                            f"got {header!r}")
        for lineno, row in enumerate(reader, start=2):
            if len(row) < 12:
                raise DataError(f"{path}:{lineno}: expected 12 columns, got {len(row)}")
            try:
                votes.append([int(v) for v in row[2:12]])
            except ValueError:
                raise DataError(f"{path}:{lineno}: votes must be integers, got {row[2:12]}") from None
            usage.append(row[0])
    return FerPlus(np.asarray(votes, np.float32), np.asarray(usage))


def load_lossy_rows(path: str | Path | None, n: int) -> np.ndarray:
    """Boolean mask of rows flagged ``pixels_from=jpg`` in ``fer2013_rebuild_rows.csv.gz`` (all False if absent)."""
    mask = np.zeros(n, bool)
    if path is None or not Path(path).exists():
        return mask
    with _open_text(path) as fh:
        for row in csv.DictReader(fh):
            if row.get("pixels_from") == "jpg":
                i = int(row["row"])
                if i < n:
                    mask[i] = True
    return mask


@dataclass(frozen=True)
class FaceSet:
    """Faces ready for training or evaluation.

    ``images`` (N,48,48) uint8; ``soft`` (N,8) FER+ vote distribution over
    :data:`CANONICAL`; ``majority`` (N,) index into CANONICAL (FER+ majority);
    ``fer2013`` (N,) index into CANONICAL of the original FER2013 label;
    ``usage`` (N,); ``rows`` (N,) row numbers in the source csv.
    """

    images: np.ndarray
    soft: np.ndarray
    majority: np.ndarray
    fer2013: np.ndarray
    usage: np.ndarray
    rows: np.ndarray
    labels: tuple[str, ...] = CANONICAL

    def __post_init__(self):
        n = len(self.rows)
        for name, arr, shape in (("images", self.images, (n, IMAGE_SIDE, IMAGE_SIDE)),
                                 ("soft", self.soft, (n, len(self.labels))), ("majority", self.majority, (n,)),
                                 ("fer2013", self.fer2013, (n,)), ("usage", self.usage, (n,))):
            if arr.shape != shape:
                raise DataError(f"FaceSet.{name}: expected shape {shape}, got {arr.shape}")

    def __len__(self) -> int:
        return len(self.rows)

    def split(self, usage: str) -> "FaceSet":
        if usage not in SPLITS:
            raise DataError(f"unknown split {usage!r}; choose one of {', '.join(SPLITS)}")
        m = self.usage == usage
        return FaceSet(self.images[m], self.soft[m], self.majority[m], self.fer2013[m], self.usage[m], self.rows[m])


def build_faceset(fer: Fer2013, plus: FerPlus | None, lossy: np.ndarray | None = None) -> FaceSet:
    """Combine FER2013 pixels with FER+ votes (or FER2013 labels alone when ``plus`` is None).

    FER+ mode keeps rows whose most-voted class is an emotion (not ``unknown``/``NF``) and
    drops ``lossy`` rows. Ties in the vote go to the first column in FER+ order.
    """
    n = len(fer.labels)
    canon = {c: i for i, c in enumerate(CANONICAL)}
    fer_idx = np.array([canon[FER2013_LABELS[k]] for k in fer.labels], np.int64)
    keep = np.ones(n, bool) if lossy is None else ~lossy
    if plus is None:
        soft = np.zeros((n, len(CANONICAL)), np.float32)
        soft[np.arange(n), fer_idx] = 1.0
        majority = fer_idx
    else:
        if len(plus.votes) != n:
            raise DataError(f"FER+ has {len(plus.votes)} rows but FER2013 has {n}; they must be the same file order")
        if not np.array_equal(plus.usage, fer.usage):
            raise DataError("FER+ and FER2013 disagree on the Usage column; the files are not in the same row order")
        top = plus.votes.argmax(1)
        keep &= top < 8  # 8 = unknown, 9 = NF
        emo_votes = np.zeros((n, len(CANONICAL)), np.float32)
        for j, col in enumerate(FERPLUS_COLUMNS[:8]):
            emo_votes[:, canon[_FERPLUS_TO_CANONICAL[col]]] = plus.votes[:, j]
        total = emo_votes.sum(1, keepdims=True)
        keep &= total[:, 0] > 0
        soft = emo_votes / np.maximum(total, 1)
        majority = np.array([canon[_FERPLUS_TO_CANONICAL[FERPLUS_COLUMNS[t]]] if t < 8 else -1 for t in top], np.int64)
    rows = np.flatnonzero(keep)
    return FaceSet(fer.images[keep], soft[keep].astype(np.float32), majority[keep], fer_idx[keep], fer.usage[keep], rows)


def training_cache_dir() -> Path:
    """Where parsed FER arrays are cached: ``training/`` in the tool's cache (``$EMOTION_CACHE_DIR`` or the user cache)."""
    from ..paths import cache_dir

    return cache_dir("training")


def _file_key(*paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p is None:
            h.update(b"-")
            continue
        st = Path(p).stat()
        h.update(f"{Path(p).resolve()}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def load_faceset(fer2013_csv, ferplus_csv=None, rebuild_rows=None, cache_dir: str | Path | None = None,
                 drop_lossy: bool = True) -> FaceSet:
    """Load and combine the csv files, caching the parsed arrays (parsing 300 MB of text takes ~10-30 s).

    ``rebuild_rows`` defaults to ``fer2013_rebuild_rows.csv.gz`` beside the FER2013 file when it exists;
    its lossy rows are left out unless ``drop_lossy`` is False (FER2013-label evaluation keeps every row).
    """
    if not drop_lossy:
        rebuild_rows = None
    elif rebuild_rows is None:
        cand = Path(fer2013_csv).with_name("fer2013_rebuild_rows.csv.gz")
        rebuild_rows = cand if cand.exists() else None
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"faceset-{_file_key(fer2013_csv, ferplus_csv, rebuild_rows)}.npz"
        if cache.exists():
            z = np.load(cache, allow_pickle=False)
            return FaceSet(z["images"], z["soft"], z["majority"], z["fer2013"], z["usage"], z["rows"])
    fer = load_fer2013(fer2013_csv)
    plus = load_ferplus(ferplus_csv) if ferplus_csv else None
    lossy = load_lossy_rows(rebuild_rows, len(fer.labels)) if drop_lossy else None
    if lossy is not None and lossy.any():
        log.info("leaving out %d rows flagged pixels_from=jpg", int(lossy.sum()))
    ds = build_faceset(fer, plus, lossy)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, images=ds.images, soft=ds.soft, majority=ds.majority, fer2013=ds.fer2013,
                 usage=ds.usage.astype("U11"), rows=ds.rows)
        tmp.replace(cache)
    return ds
