"""Synthetic screening rooms with a known layout, for tests and benchmarks.

:func:`build_room` films rows of seats as one fixed camera would: each seat
shows the shared face video (../shared/data/media/videos/liveportrait_d3_expressions.mp4),
looped from its own start, mirrored on every other seat, scaled so the face is
about ``face_px`` wide and swaying a little; the room is dimmed, given sensor
noise, and optionally turned grey (an infrared camera). A seat can be hidden
for a while (someone stands in front of it). With ``sound_offset_s`` the
recording carries the shared trailer's soundtrack starting at that recording
time, as a room microphone hears the film. What it made, and where each seat's
face is, comes back as a :class:`Room`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FACE_VIDEO = SHARED / "media" / "videos" / "liveportrait_d3_expressions.mp4"
TRAILER = SHARED / "media" / "videos" / "pjo_teaser_trailer.mp4"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"
#: Width of the face in the face video, as a share of the frame's width (YuNet box on frames 0-300: 0.55-0.57)
FACE_SHARE = 0.56


@dataclass(frozen=True)
class Room:
    path: Path
    seats: tuple[tuple[float, float], ...]   # each seat's face centre (x, y) in the recording's pixels
    face_px: int
    size: tuple[int, int]
    seconds: float
    sound_offset_s: float | None
    hidden: tuple[tuple[int, float, float], ...]   # (seat index, from s, to s)


def _face_frames(tile: int) -> list[np.ndarray]:
    import av
    import cv2

    frames = []
    with av.open(str(FACE_VIDEO)) as c:
        for f in c.decode(video=0):
            frames.append(cv2.resize(f.to_ndarray(format="rgb24"), (tile, tile), interpolation=cv2.INTER_AREA))
    return frames


def _layout(seats: int, size: tuple[int, int], tile: int, seed: int) -> list[tuple[int, int]]:
    """Top-left corners of the seats' tiles: rows across the frame, a little jitter, back rows higher."""
    w, h = size
    cols = max(1, math.ceil(math.sqrt(seats * w / h)))
    rows = math.ceil(seats / cols)
    rng = np.random.default_rng(seed)
    cw, ch = w / cols, h / rows
    corners = []
    for i in range(seats):
        r, c = divmod(i, cols)
        jx, jy = rng.uniform(-0.15, 0.15) * max(0.0, cw - tile), rng.uniform(-0.15, 0.15) * max(0.0, ch - tile)
        x = int(np.clip(c * cw + (cw - tile) / 2 + jx, 0, w - tile))
        y = int(np.clip(r * ch + (ch - tile) / 2 + jy, 0, h - tile))
        corners.append((x, y))
    return corners


def _sound(seconds: float, offset_s: float, rate: int = 48000) -> np.ndarray:
    """The trailer's soundtrack (mono) starting at recording time ``offset_s``, with a little room noise."""
    import av

    chunks = []
    with av.open(str(TRAILER)) as c:
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
        for frame in c.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray()[0])
    film = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    n = int(seconds * rate)
    track = np.random.default_rng(1).normal(0, 0.003, n).astype(np.float32)
    start = int(round(offset_s * rate))
    src = film[max(0, -start):]
    dst = max(0, start)
    m = max(0, min(len(src), n - dst))
    track[dst:dst + m] += 0.6 * src[:m]
    return track


def build_room(path: Path, seats: int = 12, face_px: int = 70, seconds: float = 20.0, fps: int = 25,
               size: tuple[int, int] = (1920, 1080), light: float = 0.55, noise: float = 6.0, grey: bool = False,
               hide: tuple[tuple[int, float, float], ...] = (), sound_offset_s: float | None = None,
               seed: int = 0, preset: str = "ultrafast") -> Room:
    """Film a room of ``seats`` faces about ``face_px`` wide into ``path`` (H.264, AAC with a sound offset)."""
    import av

    if not FACE_VIDEO.exists():
        raise FileNotFoundError(f"{FACE_VIDEO} is absent (the shared face video)")
    w, h = size
    tile = max(8, int(round(face_px / FACE_SHARE)))
    faces = _face_frames(tile)
    corners = _layout(seats, size, tile, seed)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(faces), seats)
    sway = rng.uniform(0, 2 * math.pi, seats)
    backdrop = np.full((h, w, 3), 38, np.uint8)
    backdrop[:, :, 2] = 46
    noises = [rng.normal(0, noise, (h, w, 1)).astype(np.float32) for _ in range(6)] if noise > 0 else []
    n_frames = int(round(seconds * fps))
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps, options={"preset": preset, "crf": "23"})
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        audio = None
        if sound_offset_s is not None:
            audio = out.add_stream("aac", rate=48000, layout="mono")
        for i in range(n_frames):
            t = i / fps
            frame = backdrop.copy()
            for s, (x, y) in enumerate(corners):
                if any(seat == s and a <= t < b for seat, a, b in hide):
                    continue
                face = faces[(starts[s] + int(t * 30)) % len(faces)]
                if s % 2:
                    face = face[:, ::-1]
                dx = int(round(3 * math.sin(2 * math.pi * t / 7.0 + sway[s])))
                xx = int(np.clip(x + dx, 0, w - tile))
                frame[y:y + tile, xx:xx + tile] = face
            img = frame.astype(np.float32) * light
            if grey:
                img = np.repeat(img @ np.float32([[0.299], [0.587], [0.114]]), 3, axis=2)
            if noises:
                img += noises[i % len(noises)]
            rgb = np.clip(img, 0, 255).astype(np.uint8)
            for packet in vs.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if audio is not None:
            track = _sound(seconds, float(sound_offset_s))
            step = 1024
            for k in range(0, len(track), step):
                piece = av.AudioFrame.from_ndarray(track[None, k:k + step], format="fltp", layout="mono")
                piece.sample_rate = 48000
                piece.pts = k
                for packet in audio.encode(piece):
                    out.mux(packet)
            for packet in audio.encode():
                out.mux(packet)
    centres = tuple((x + tile / 2, y + tile / 2) for x, y in corners)
    return Room(Path(path), centres, face_px, size, seconds, sound_offset_s, tuple(hide))
