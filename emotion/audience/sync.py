"""Aligning a reaction recording to its film by sound: :func:`sync_offset` -> :class:`SyncResult`.

The camera's microphone hears the film's soundtrack, quieter, muffled, with the
room's echo and noise. Both sound tracks are decoded with PyAV to mono at
8 kHz and turned into an *onset envelope*: 100 values a second saying how much
the sound's loudness rose, summed over 24 log-spaced frequency bands (log
energies, so a quiet, low-passed copy rises in step with the original). The
recording's envelope is cross-correlated with the film's by FFT; the best lag
(refined between envelope frames by a parabola) is the offset.

Convention: ``offset_s`` is the recording time at which the film starts, so
film time = recording time - ``offset_s``. Negative means the recording began
after the film did.

``confidence`` is how far the best match stands above the best match more
than half a second away from it (1 - second / best, 0 when they tie).
The recording is also cut into sections, each aligned on its own; sections
that match confidently somewhere else (a screening paused and resumed) are
reported, and the recording is then aligned piecewise (:attr:`SyncResult.pieces`).

The film's envelope is cached under ``<cache>/audience/audio`` (keyed by the
file's path, size and modification time), so a panel of reactions decodes the
film's sound once.

>>> result = sync_offset("film.mp4", "viewer1.mp4")           # doctest: +SKIP
>>> round(result.offset_s, 2), round(result.confidence, 2)      # doctest: +SKIP
(12.48, 0.71)
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SyncError, UnreadableMedia
from ..io import atomic_write
from ..paths import cache_dir
from .audio import FRAMES_PER_S, HOP, RATE, load_audio, onset_envelope

log = logging.getLogger(__name__)

#: Below this confidence a match is called weak. Measured on 30 s clips: white noise with a changing
#: loudness scored 0.00-0.33 against the trailer; the trailer heard at 0 dB SNR 0.64-0.77, -5 dB 0.58-0.62,
#: -10 dB 0.36 (see tests/audience/test_sync.py).
WEAK = 0.35
#: A stretch that matches elsewhere counts as a separate piece only with this confidence, or two sections.
PIECE = 0.5
#: Sections whose offsets differ by more than this (seconds) disagree.
AGREE_S = 0.25
#: Matches closer than this to the best one (seconds) are the same peak, not a rival.
PEAK_WIDTH_S = 0.5
#: Seconds of correlation either side of the best offset kept for the plot.
CURVE_S = 20.0
_FORMAT = 1


@dataclass(frozen=True)
class Section:
    """One stretch of the recording aligned on its own: recording times (s), its offset and confidence.

    ``offset_s`` is NaN when the section had too little sound to say.
    """

    start_s: float
    end_s: float
    offset_s: float
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "offset_s": None if not math.isfinite(self.offset_s) else round(self.offset_s, 3),
                "confidence": round(self.confidence, 4)}


@dataclass(frozen=True, eq=False)
class SyncResult:
    """Where the film starts in a recording, how sure that is, and where the recording drifts.

    ``pieces`` are ``(recording start s, offset s)`` in order: from each start
    to the next, film time = recording time - offset (one piece when the
    whole recording agrees). ``lags_s``/``curve`` are the correlation around
    the best offset, for a small plot; ``warnings`` say what a user should check.
    """

    offset_s: float
    confidence: float
    sections: tuple[Section, ...]
    pieces: tuple[tuple[float, float], ...]
    lags_s: np.ndarray
    curve: np.ndarray
    warnings: tuple[str, ...] = ()
    film_duration_s: float = 0.0
    recording_duration_s: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.offset_s):
            raise ValueError(f"SyncResult.offset_s: expected a finite number of seconds, got {self.offset_s}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"SyncResult.confidence: expected 0..1, got {self.confidence}")
        pieces = tuple((float(a), float(b)) for a, b in self.pieces) or ((0.0, float(self.offset_s)),)
        if any(b[0] <= a[0] for a, b in zip(pieces, pieces[1:])):
            raise ValueError("SyncResult.pieces: expected increasing recording start times")
        lags = np.asarray(self.lags_s, np.float32).reshape(-1)
        curve = np.asarray(self.curve, np.float32).reshape(-1)
        if lags.shape != curve.shape:
            raise ValueError(f"SyncResult: {len(lags)} lags but {len(curve)} correlation values")
        lags.setflags(write=False)
        curve.setflags(write=False)
        for name, value in (("pieces", pieces), ("lags_s", lags), ("curve", curve),
                            ("sections", tuple(self.sections)), ("warnings", tuple(self.warnings))):
            object.__setattr__(self, name, value)

    @property
    def piecewise(self) -> bool:
        return len(self.pieces) > 1

    def to_dict(self) -> dict[str, Any]:
        return {"offset_s": round(self.offset_s, 4), "confidence": round(self.confidence, 4),
                "pieces": [{"from_s": round(a, 3), "offset_s": round(b, 4)} for a, b in self.pieces],
                "sections": [s.to_dict() for s in self.sections], "warnings": list(self.warnings)}


def film_times(recording_times, pieces) -> np.ndarray:
    """Film time of each recording time (s), under ``pieces`` ((recording start, offset), ...).

    >>> film_times([1.0, 12.0], [(0.0, 2.0), (10.0, 5.0)]).tolist()
    [-1.0, 7.0]
    """
    t = np.asarray(recording_times, np.float64)
    starts = np.array([p[0] for p in pieces], np.float64)
    offsets = np.array([p[1] for p in pieces], np.float64)
    which = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(pieces) - 1)
    return t - offsets[which]


def _film_envelope(film_path: Path, cache: bool) -> np.ndarray:
    stat = film_path.stat()
    key = hashlib.sha256(f"{_FORMAT}|{film_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{RATE}|{HOP}"
                         .encode()).hexdigest()[:32]
    target = cache_dir("audience") / "audio" / f"{key}.npy"
    if cache and target.is_file():
        try:
            return np.load(target, allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.warning("discarding the damaged sound envelope %s: %s", target, exc)
            target.unlink(missing_ok=True)
    env = onset_envelope(load_audio(film_path))
    if cache:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, writer=lambda tmp: _save_npy(tmp, env))
    return env


# ---------------------------------------------------------------- correlation


class _Correlator:
    """Cross-correlates pieces of a recording's envelope with one film envelope (its FFT kept per size)."""

    def __init__(self, film: np.ndarray):
        self.film = (film - film.mean()) / (film.std() or 1.0)
        self._spectra: dict[int, np.ndarray] = {}

    def scores(self, rec: np.ndarray, min_overlap: int) -> tuple[np.ndarray, np.ndarray]:
        """(lags in frames, normalised correlation per lag) over lags with at least ``min_overlap`` frames shared."""
        rec = (rec - rec.mean()) / (rec.std() or 1.0)
        nr, nf = len(rec), len(self.film)
        size = 1 << int(math.ceil(math.log2(nr + nf)))
        spectrum = self._spectra.get(size)
        if spectrum is None:
            spectrum = self._spectra[size] = np.conj(np.fft.rfft(self.film, size))
        c = np.fft.irfft(np.fft.rfft(rec, size) * spectrum, size)
        lags = np.arange(-(nf - 1), nr)
        values = np.concatenate([c[size - (nf - 1):], c[:nr]]) if nf > 1 else c[:nr]
        overlap = np.minimum(nr, lags + nf) - np.maximum(0, lags)
        keep = overlap >= min_overlap
        return lags[keep], (values[keep] / overlap[keep]).astype(np.float64)


def _best(lags: np.ndarray, score: np.ndarray) -> tuple[float, float, int]:
    """(lag in frames refined by a parabola, confidence, index of the best lag)."""
    if len(score) == 0:
        return float("nan"), 0.0, -1
    i = int(np.argmax(score))
    peak = float(score[i])
    lag = float(lags[i])
    if 0 < i < len(score) - 1:
        a, b, c = score[i - 1], score[i], score[i + 1]
        denom = a - 2 * b + c
        if denom < 0:
            lag += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
    far = np.abs(lags - lags[i]) > PEAK_WIDTH_S * FRAMES_PER_S
    second = float(score[far].max()) if far.any() else 0.0
    confidence = 0.0 if peak <= 0 else float(np.clip(1.0 - max(second, 0.0) / peak, 0.0, 1.0))
    return lag, confidence, i


def _clock(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    m, s = divmod(abs(seconds), 60)
    h, m = divmod(int(m), 60)
    return f"{sign}{h:d}:{m:02d}:{s:04.1f}" if h else f"{sign}{m:d}:{s:04.1f}"


def _sections(corr: _Correlator, rec: np.ndarray, section_s: float | None) -> list[Section]:
    duration = len(rec) / FRAMES_PER_S
    length = section_s or min(300.0, max(10.0, duration / 6))
    count = int(duration // length)
    if count < 2:
        return []
    frames = int(length * FRAMES_PER_S)
    out = []
    for k in range(count):
        a = k * frames
        b = len(rec) if k == count - 1 else a + frames
        piece = rec[a:b]
        if float(np.abs(piece).max(initial=0.0)) == 0.0:
            out.append(Section(a / FRAMES_PER_S, b / FRAMES_PER_S, float("nan"), 0.0))
            continue
        lags, score = corr.scores(piece, min_overlap=int(0.8 * len(piece)))
        lag, conf, _ = _best(lags, score)
        out.append(Section(a / FRAMES_PER_S, b / FRAMES_PER_S, (lag + a) / FRAMES_PER_S, conf))
    return out


def _pieces(sections: list[Section]) -> list[tuple[float, float]]:
    """Runs of confident sections that agree, as (recording start, offset); weak ones join the run before."""
    runs: list[list[Section]] = []
    for s in sections:
        if s.confidence < WEAK or not math.isfinite(s.offset_s):
            continue
        if runs and abs(s.offset_s - runs[-1][0].offset_s) <= AGREE_S:
            runs[-1].append(s)
        else:
            runs.append([s])
    kept: list[list[Section]] = []
    for k, run in enumerate(runs):
        if k and len(run) == 1 and run[0].confidence < PIECE:
            continue  # one section alone, not sure enough to cut the recording there
        if kept and abs(run[0].offset_s - kept[-1][0].offset_s) <= AGREE_S:
            kept[-1].extend(run)
        else:
            kept.append(run)
    runs = kept
    pieces = [(run[0].start_s, float(np.median([s.offset_s for s in run]))) for run in runs]
    if pieces:
        pieces[0] = (0.0, pieces[0][1])
    return pieces


def sync_offset(film_path: str | os.PathLike, recording_path: str | os.PathLike, *,
                section_s: float | None = None, max_offset_s: float | None = None,
                cache: bool = True, name: str | None = None) -> SyncResult:
    """Find where the film starts in a reaction recording, from their sound.

    ``section_s`` is the length of the sections checked on their own (default:
    a sixth of the recording, 10 s to 5 min). ``max_offset_s`` limits the
    offsets searched to ``[-max_offset_s, max_offset_s]`` (default: any where
    most of the recording overlaps the film). With ``cache`` the film's sound
    envelope is kept on disk for the next reaction to the same film. ``name``
    is what messages call the recording (default its file name).

    Raises :class:`~emotion.errors.SyncError` when either file has no usable
    sound; a weak or inconsistent match is a result with ``warnings``.

    >>> sync_offset("film.mp4", "viewer1.mp4").offset_s            # doctest: +SKIP
    12.48
    """
    film_path, recording_path = Path(film_path), Path(recording_path)
    if not film_path.is_file():
        raise UnreadableMedia(f"{film_path}: no such file; check the path")
    name = name or recording_path.name
    rec = onset_envelope(load_audio(recording_path, name=name))
    try:
        film = _film_envelope(film_path, cache)
    except SyncError as exc:
        raise SyncError(f"the film {film_path.name} has no usable sound track, so reactions cannot be aligned "
                        "to it by sound; give each reaction's offset by hand") from exc
    corr = _Correlator(film)
    shorter = min(len(rec), len(film))
    lags, score = corr.scores(rec, min_overlap=max(1, min(int(10 * FRAMES_PER_S), shorter // 2)))
    if max_offset_s is not None:
        keep = np.abs(lags) <= max_offset_s * FRAMES_PER_S
        lags, score = lags[keep], score[keep]
    if len(score) == 0:
        raise SyncError(f"{name}: no offset within the range searched lets the recording overlap "
                        "the film; give its offset by hand")
    lag, confidence, i = _best(lags, score)
    offset = lag / FRAMES_PER_S
    near = np.abs(lags - lags[i]) <= CURVE_S * FRAMES_PER_S
    sections = _sections(corr, rec, section_s)
    pieces = _pieces(sections) or [(0.0, offset)]
    warnings = []
    if len(pieces) > 1:
        parts = "; ".join(f"from {_clock(a)} in the recording the film started at {_clock(b)}" for a, b in pieces)
        warnings.append(f"{name}: parts of the recording match the film at different offsets (a paused or "
                        f"skipped screening?): {parts}. It is aligned piece by piece.")
        offset = pieces[0][1]
        # Each piece matched on its own: the sections' confidence says how sure the pieces are.
        confidence = float(np.median([s.confidence for s in sections if s.confidence >= WEAK]))
    else:
        pieces = [(0.0, offset)]
    if confidence < WEAK:
        warnings.append(f"{name}: the sound matches the film only weakly (confidence {confidence:.2f}); check the "
                        f"offset ({offset:+.2f} s) on the correlation plot, or give it by hand")
    odd = [s for s in sections if s.confidence >= WEAK and min(abs(s.offset_s - p[1]) for p in pieces) > AGREE_S]
    if odd and len(pieces) == 1:
        spans = ", ".join(f"{_clock(s.start_s)}-{_clock(s.end_s)}" for s in odd)
        warnings.append(f"{name}: the recording's sound at {spans} matches another part of the film; "
                        "check that stretch")
    log.info("%s: film starts at %.3f s of the recording (confidence %.2f)", name, offset, confidence)
    return SyncResult(offset_s=float(offset), confidence=confidence, sections=tuple(sections),
                      pieces=tuple(pieces), lags_s=lags[near] / FRAMES_PER_S, curve=score[near],
                      warnings=tuple(warnings), film_duration_s=len(film) / FRAMES_PER_S,
                      recording_duration_s=len(rec) / FRAMES_PER_S)


def _save_npy(path, array) -> None:
    with open(path, "wb") as f:     # a file object: np.save would add .npy to a name
        np.save(f, array)
