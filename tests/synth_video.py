"""Tiny synthetic videos for the film tests, written with PyAV in the test's temp dir.

Scenes are flat colours with hard cuts between them; an optional marker
square lets tests check orientation. Nothing here touches ../shared.
"""

from __future__ import annotations

import fractions
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

RED, GREEN, BLUE, WHITE, GREY, BLACK = (220, 30, 30), (30, 200, 60), (40, 60, 220), (235, 235, 235), \
    (128, 128, 128), (10, 10, 10)
NAVY = (20, 40, 110)
#: Consecutive colours that differ in hue, saturation and brightness: every change is a clear cut.
CUT_COLOURS = (RED, NAVY, WHITE, GREEN, BLACK, BLUE, GREY)


def colour_frames(scenes: Sequence[tuple[tuple[int, int, int], int]], size=(96, 64),
                  marker: bool = False, noise: int = 0) -> Iterable[np.ndarray]:
    """RGB frames: ``scenes`` is a list of (colour, number of frames).

    With ``marker`` a white 8x8 square sits in the top-left corner of every
    frame, so a rotated read can be checked. ``noise`` adds that much
    random grain per frame (so every frame costs bytes in the file).
    """
    w, h = size
    rng = np.random.default_rng(0)
    for colour, count in scenes:
        frame = np.empty((h, w, 3), np.uint8)
        frame[:] = colour
        if marker:
            frame[:8, :8] = 255
        for _ in range(count):
            if noise:
                grain = rng.integers(-noise, noise + 1, frame.shape)
                yield np.clip(frame.astype(np.int16) + grain, 0, 255).astype(np.uint8)
            else:
                yield frame


def write_video(path: Path, frames: Iterable[np.ndarray], fps: int = 25, times_ms: Sequence[int] | None = None,
                codec: str = "libx264", pix_fmt: str = "yuv420p", rotation: int | None = None,
                options: dict | None = None, container_format: str | None = None) -> Path:
    """Encode RGB frames to ``path``; ``times_ms`` gives explicit timestamps (variable frame rate)."""
    import av

    path = Path(path)
    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", format=container_format, options=options or {}) as out:
        codec_options = {"preset": "ultrafast"} if codec == "libx264" else {}
        stream = out.add_stream(codec, rate=fps, options=codec_options)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if times_ms is not None:
            stream.codec_context.time_base = fractions.Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            if times_ms is not None:
                frame.pts = int(times_ms[i])
                frame.time_base = fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def scene_video(path: Path, scenes: Sequence[tuple[tuple[int, int, int], int]], fps: int = 25,
                size=(96, 64), noise: int = 0, **kwargs) -> Path:
    """A video of flat colour scenes with hard cuts (frames per scene given in ``scenes``)."""
    return write_video(path, colour_frames(scenes, size, noise=noise), fps=fps, **kwargs)


def truncate(src: Path, dest: Path, fraction: float) -> Path:
    """A copy of ``src`` cut to ``fraction`` of its bytes (an interrupted download)."""
    data = Path(src).read_bytes()
    Path(dest).write_bytes(data[: int(len(data) * fraction)])
    return Path(dest)
