"""Reaction recordings for the audience tests, made from ../shared/data with PyAV in the test's temp dir.

A recording is the real face video ``liveportrait_d3_expressions.mp4`` (looped,
small) with the trailer's soundtrack as a room microphone would hear it: at a
known offset, quieter, low-passed, with an echo and white noise at a chosen
signal-to-noise ratio. ``viewers=2`` puts two copies of the face side by side.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FACE_VIDEO = SHARED / "media" / "videos" / "liveportrait_d3_expressions.mp4"
TRAILER = SHARED / "media" / "videos" / "pjo_teaser_trailer.mp4"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"
SOUND_RATE = 16000


def missing() -> str | None:
    """Why the shared media cannot be used here, or None."""
    for path in (FACE_VIDEO, TRAILER, YUNET):
        if not path.is_file():
            return f"needs {path} (../shared/data is not beside the repo)"
    return None


def decode_sound(path: Path, rate: int = SOUND_RATE) -> np.ndarray:
    """A file's sound as mono float32 at ``rate``."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32)


def face_frames(size: int, fps: float, count: int) -> list[np.ndarray]:
    """``count`` square RGB frames of the face video at ``fps``, looped."""
    import av
    import cv2

    frames = []
    with av.open(str(FACE_VIDEO)) as container:
        stream = container.streams.video[0]
        src_fps = float(stream.average_rate)
        for i, frame in enumerate(container.decode(stream)):
            if int(i * fps / src_fps) == len(frames):   # the first source frame of each output frame
                frames.append(cv2.resize(frame.to_ndarray(format="rgb24"), (size, size), interpolation=cv2.INTER_AREA))
    return [frames[i % len(frames)] for i in range(count)]


def room_sound(film: np.ndarray, offset_s: float, duration_s: float, snr_db: float, rate: int = SOUND_RATE,
               seed: int = 0, pause: tuple[float, float] | None = None) -> np.ndarray:
    """What a microphone in the room hears: the film from recording time ``offset_s``, degraded.

    Quieter (x0.2), low-passed (~1.5 kHz), an echo (40% at 90 ms, 25% at 230 ms) and white noise at
    ``snr_db``. ``pause=(at_film_s, length_s)`` stops the film at that film time for that long.
    """
    n = int(duration_s * rate)
    t_rec = np.arange(n) / rate
    t_film = t_rec - offset_s
    if pause is not None:
        at, length = pause
        t_film = np.where(t_film < at, t_film, np.where(t_film < at + length, -1.0, t_film - length))
    idx = np.round(t_film * rate).astype(np.int64)
    ok = (idx >= 0) & (idx < len(film)) & (t_film >= 0)
    clean = np.zeros(n, np.float32)
    clean[ok] = film[idx[ok]]
    taps = np.sinc(2 * 1500 / rate * (np.arange(63) - 31)) * np.hamming(63)
    x = np.convolve(clean, taps / taps.sum(), mode="same") * 0.2
    echo = x.copy()
    for delay_s, gain in ((0.09, 0.4), (0.23, 0.25)):
        d = int(delay_s * rate)
        echo[d:] += gain * x[:-d]
    power = float(np.mean(echo[ok] ** 2)) if ok.any() else 1e-4
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, np.sqrt(power / 10 ** (snr_db / 10)), n)
    return np.clip(echo + noise, -1, 1).astype(np.float32)


def write_recording(path: Path, sound: np.ndarray | None, duration_s: float, viewers: int = 1, size: int = 128,
                    fps: float = 8.0, rate: int = SOUND_RATE) -> Path:
    """An MP4 of the looped face (``viewers`` copies side by side) with ``sound`` as AAC (None: no sound)."""
    import av

    count = int(duration_s * fps)
    faces = face_frames(size, fps, count)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000),
                               options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = size * viewers, size, "yuv420p"
        audio = None
        if sound is not None:
            audio = out.add_stream("aac", rate=rate)
            audio.layout = "mono"
        for face in faces:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.hstack([face] * viewers)), format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            block = 1024
            for start in range(0, len(sound), block):
                chunk = sound[start:start + block]
                frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
                frame.sample_rate = rate
                frame.pts = start
                frame.time_base = Fraction(1, rate)
                for packet in audio.encode(frame):
                    out.mux(packet)
            for packet in audio.encode():
                out.mux(packet)
    return Path(path)


def write_film(path: Path, duration_s: float = 20.0, fps: int = 10, rate: int = SOUND_RATE) -> Path:
    """A small stand-in film: flat colour scenes with a hard cut every 5 s, and the trailer's first seconds of sound."""
    import av

    colours = [(220, 30, 30), (20, 40, 110), (235, 235, 235), (30, 200, 60)]
    sound = decode_sound(TRAILER, rate)[: int(duration_s * rate)]
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = 96, 64, "yuv420p"
        audio = out.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for i in range(int(duration_s * fps)):
            rgb = np.empty((64, 96, 3), np.uint8)
            rgb[:] = colours[int(i / fps // 5) % len(colours)]
            for packet in video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        for start in range(0, len(sound), 1024):
            frame = av.AudioFrame.from_ndarray(sound[start:start + 1024].reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)
    return Path(path)
