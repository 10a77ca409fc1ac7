"""A sound track as numbers for alignment: decoded to mono at 8 kHz, then an onset envelope (100 values/s).

Used by :mod:`emotion.audience.sync`; see there for why an onset envelope.

>>> env = onset_envelope(np.zeros(RATE, np.float32))
>>> env.shape
(97,)
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
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
    stereo, a sixth on 5.1), and a track of :data:`PARALLEL_FROM_S` or more is
    cut into :data:`PARTS` stretches decoded in threads, one per core (FFmpeg
    works without Python's lock). Each stretch is resampled on its own and
    placed to the nearest sample (62 µs at 8 kHz), far below the 10 ms steps
    of the onset envelope.
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
        length = _length_s(container, stream)
        spans = None
        if length >= PARALLEL_FROM_S:
            spans = _decode_in_parts(path, stream.index, length, rate)
        if spans is None:   # short, one core, or a file whose sound cannot be split by time
            spans = [_decode_span(container, stream, rate)]
    errors = sum(s.errors for s in spans)
    if errors:
        log.warning("%s: %d undecodable sound packets were skipped", name, errors)
    x = _join(spans, rate)
    first = spans[0].first
    shift = round(((first or 0.0) - origin) * rate)
    if shift > 0:
        x = np.concatenate([np.zeros(shift, np.float32), x])
    elif shift < 0:
        x = x[-shift:]
    if len(x) < WIN * 4 or float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) < 1e-4:
        raise SyncError(f"{name}: its sound track is silent or too short, so it cannot be aligned to the film "
                        "by its sound; give its offset by hand (the recording time at which the film starts)")
    return x


#: Sound tracks at least this long (seconds) are decoded in parts, in threads.
PARALLEL_FROM_S = 300.0
#: A long track is cut into this many stretches of time, whatever the number of cores (so the samples do
#: not depend on the machine); as many threads as cores, up to this, decode them.
PARTS = 4
#: Each part after the first starts decoding this much earlier than its share, so the decoder has
#: settled (AAC frames overlap their neighbours) when its share begins.
LEAD_IN_S = 1.0


@dataclass
class _Span:
    """One part of a sound track: mono samples from its first kept frame on, and what went wrong."""

    samples: np.ndarray
    first: float | None      # time (s) of its first kept frame
    errors: int = 0


class _Unsplittable(Exception):
    """A frame without a timestamp: the track cannot be cut by time; it is decoded in one go instead."""


def _length_s(container, stream) -> float:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    return container.duration / 1_000_000 if container.duration else 0.0


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


def _decode_span(container, stream, rate: int, start: float | None = None, end: float | None = None) -> _Span:
    """Decode ``stream`` (whole, or the frames starting in [start, end) s) to mono at ``rate``."""
    import av

    mono = _Mono(rate)
    first: float | None = None
    errors = 0
    split = start is not None
    if split and start > 0:
        container.seek(max(0, int((start - LEAD_IN_S) / stream.time_base)), stream=stream)
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            errors += 1
            continue
        for frame in frames:
            t = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else None
            if split:
                if t is None:
                    raise _Unsplittable
                if t < start:
                    continue
                if t >= end:
                    mono.flush()
                    return _Span(mono.samples(), first, errors)
            if first is None:
                first = t
            mono.push(frame)
    mono.flush()
    return _Span(mono.samples(), first, errors)


def _join(spans: list[_Span], rate: int) -> np.ndarray:
    """The parts' samples in one array, each placed at its first frame's time (sample-exact across parts)."""
    spans = [s for s in spans if len(s.samples)]
    if not spans:
        return np.zeros(0, np.float32)
    if len(spans) == 1:
        return spans[0].samples
    t0 = spans[0].first or 0.0
    starts = [0] + [round(((s.first or t0) - t0) * rate) for s in spans[1:]]
    x = np.zeros(max(a + len(s.samples) for a, s in zip(starts, spans)), np.float32)
    for a, s in zip(starts, spans):
        x[a:a + len(s.samples)] = s.samples   # a later part overwrites the few samples an earlier one ran over
    return x


def _decode_in_parts(path: Path, index: int, length: float, rate: int) -> list[_Span] | None:
    """The track cut into :data:`PARTS` equal stretches of time, decoded in threads; None if it cannot be cut."""
    import av
    from concurrent.futures import ThreadPoolExecutor

    edges = [length * i / PARTS for i in range(PARTS)] + [math.inf]
    edges[0] = -math.inf

    def work(i: int) -> _Span:
        with av.open(str(path), metadata_errors="ignore") as c:
            return _decode_span(c, c.streams[index], rate, edges[i], edges[i + 1])

    threads = max(1, min(PARTS, os.cpu_count() or 1))
    with ThreadPoolExecutor(threads, thread_name_prefix="emotion-audio") as pool:
        futures = [pool.submit(work, i) for i in range(PARTS)]
        try:
            return [f.result() for f in futures]
        except _Unsplittable:
            return None


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
