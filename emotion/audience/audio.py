"""A sound track as numbers for alignment: decoded to mono at 8 kHz, then an onset envelope (100 values/s).

Used by :mod:`emotion.audience.sync`; see there for why an onset envelope.

>>> env = onset_envelope(np.zeros(RATE, np.float32))
>>> env.shape
(97,)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..errors import SyncError, UnreadableMedia

log = logging.getLogger(__name__)

RATE = 8000                  # Hz the sound is decoded at
HOP = 80                     # samples between envelope frames: 100 a second
WIN = 256                    # samples per spectrum
FRAMES_PER_S = RATE / HOP
N_BANDS = 24


def load_audio(path: str | os.PathLike, rate: int = RATE, name: str | None = None) -> np.ndarray:
    """The file's first sound track as mono float32 at ``rate`` Hz, on the video's clock.

    Sample 0 is the video's start: sound that starts later is padded with
    silence, sound that starts earlier is trimmed. Raises
    :class:`~emotion.errors.SyncError` when there is no sound track or it is
    silent, saying that an offset must then be given by hand. ``name`` is
    what messages call the file (default its file name).
    """
    import av

    path = Path(path)
    name = name or path.name
    if not path.is_file():
        raise UnreadableMedia(f"{path}: no such file; check the path")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise UnreadableMedia(f"{name}: not a media file FFmpeg can read; choose a video file such as MP4, "
                              "MOV, MKV or WebM") from exc
    with container:
        if not container.streams.audio:
            raise SyncError(f"{name} has no sound track, so it cannot be aligned to the film by its sound; "
                            "give its offset by hand (the recording time at which the film starts)")
        stream = container.streams.audio[0]
        origin = 0.0
        videos = container.streams.video
        if videos and videos[0].start_time is not None and videos[0].time_base:
            origin = float(videos[0].start_time * videos[0].time_base)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        first: float | None = None
        errors = 0
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                errors += 1
                continue
            for frame in frames:
                if first is None and frame.pts is not None and frame.time_base:
                    first = float(frame.pts * frame.time_base)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    if errors:
        log.warning("%s: %d undecodable sound packets were skipped", name, errors)
    x = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    shift = round(((first or 0.0) - origin) * rate)
    if shift > 0:
        x = np.concatenate([np.zeros(shift, np.float32), x])
    elif shift < 0:
        x = x[-shift:]
    if len(x) < WIN * 4 or float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) < 1e-4:
        raise SyncError(f"{name}: its sound track is silent or too short, so it cannot be aligned to the film "
                        "by its sound; give its offset by hand (the recording time at which the film starts)")
    return x


def _band_edges() -> np.ndarray:
    """Spectrum bins where each of the log-spaced bands (60 Hz - 3.8 kHz) starts."""
    hz = np.geomspace(60.0, 3800.0, N_BANDS + 1)
    bins = np.unique(np.round(hz / (RATE / WIN)).astype(int))
    return bins[bins < WIN // 2]


_EDGES = _band_edges()


def onset_envelope(x: np.ndarray) -> np.ndarray:
    """100 values a second: how much log band energy rose since the previous frame, summed over bands.

    Loudness changes slower than a second are removed, so a fading or
    quieter copy of the same sound gives the same shape.

    >>> env = onset_envelope(np.random.default_rng(0).normal(size=RATE * 2).astype(np.float32))
    >>> env.shape
    (197,)
    """
    x = np.asarray(x, np.float32)
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) or 1.0
    x = x / np.float32(rms)
    n = 1 + (len(x) - WIN) // HOP
    if n < 2:
        return np.zeros(max(n, 0), np.float32)
    window = np.hanning(WIN).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, WIN)[::HOP][:n]
    logs = np.empty((n, len(_EDGES)), np.float32)
    step = 1 << 15
    for a in range(0, n, step):
        spec = np.fft.rfft(frames[a:a + step] * window, axis=1)
        power = spec.real ** 2 + spec.imag ** 2
        bands = np.add.reduceat(power[:, _EDGES[0]:], _EDGES - _EDGES[0], axis=1)
        logs[a:a + step] = np.log10(bands + 1e-2)
    flux = np.diff(logs, axis=0, prepend=logs[:1])
    env = np.clip(flux, 0, None).sum(axis=1)
    width = min(int(FRAMES_PER_S), len(env))   # "same" must not make a short envelope longer
    kernel = np.ones(width, np.float32) / width
    env = env - np.convolve(env, kernel, mode="same")
    return env.astype(np.float32)
