"""A sound track as numbers for alignment: decoded to mono at 8 kHz, then an onset envelope (100 values/s).

Used by :mod:`emotion.audience.sync`; see there for why an onset envelope.

>>> env = onset_envelope(np.zeros(RATE, np.float32))
>>> env.shape
(97,)
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
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

    Channels are averaged before resampling (half the resampler's work on
    stereo, a sixth on 5.1). Decoding a long track in parallel stretches was
    tried and dropped: each frame costs Python calls that hold the GIL, so
    threads gained nothing (a 2-hour film's sound: 18 s in four threads against
    11 s in one, on a busy 2-core machine).
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
        x, first, errors = _decode(container, stream, rate)
    if errors:
        log.warning("%s: %d undecodable sound packets were skipped", name, errors)
    shift = round(((first or 0.0) - origin) * rate)
    if shift > 0:
        x = np.concatenate([np.zeros(shift, np.float32), x])
    elif shift < 0:
        x = x[-shift:]
    if len(x) < WIN * 4 or float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) < 1e-4:
        raise SyncError(f"{name}: its sound track is silent or too short, so it cannot be aligned to the film "
                        "by its sound; give its offset by hand (the recording time at which the film starts)")
    return x


class _Mono:
    """Frames in, mono float32 at ``rate`` out: an FFmpeg filter graph (channels averaged, then resampled).

    The graph is built for the first frame's format and built again if the format changes mid-stream.
    """

    def __init__(self, rate: int):
        self.rate = rate
        self._graph = None
        self._shape: tuple | None = None
        self.chunks: list[np.ndarray] = []

    def _build(self, frame) -> None:
        import av

        graph = av.filter.Graph()
        channels = len(frame.layout.channels)
        src = graph.add_abuffer(format=frame.format.name, sample_rate=frame.sample_rate, layout=frame.layout.name,
                                time_base=frame.time_base or Fraction(1, frame.sample_rate))
        nodes = [src]
        if channels > 1:
            mix = "+".join(f"{1 / channels:.6f}*c{i}" for i in range(channels))
            nodes.append(graph.add("pan", f"mono|c0={mix}"))
        nodes.append(graph.add("aresample", str(self.rate)))
        nodes.append(graph.add("aformat", "sample_fmts=flt:channel_layouts=mono"))
        nodes.append(graph.add("abuffersink"))
        for a, b in zip(nodes, nodes[1:]):
            a.link_to(b)
        graph.configure()
        self._graph = graph

    def push(self, frame) -> None:
        shape = (frame.format.name, frame.sample_rate, frame.layout.name)
        if shape != self._shape:
            self.flush()
            self._build(frame)
            self._shape = shape
        self._graph.push(frame)
        self._pull()

    def flush(self) -> None:
        if self._graph is not None:
            self._graph.push(None)
            self._pull()
            self._graph = None

    def _pull(self) -> None:
        import av

        while True:
            try:
                out = self._graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            self.chunks.append(out.to_ndarray().reshape(-1))

    def samples(self) -> np.ndarray:
        return np.concatenate(self.chunks).astype(np.float32, copy=False) if self.chunks else np.zeros(0, np.float32)


def _decode(container, stream, rate: int) -> tuple[np.ndarray, float | None, int]:
    """``stream`` as mono at ``rate``, the time (s) of its first frame, and the undecodable packets skipped."""
    import av

    mono = _Mono(rate)
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
            mono.push(frame)
    mono.flush()
    return mono.samples(), first, errors


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
