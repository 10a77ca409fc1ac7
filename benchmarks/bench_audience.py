"""Audience screenings: sync time for a 2-hour film, reaction analysis speed, aggregation of a big panel.

    python benchmarks/bench_audience.py [--hours 2] [--reaction-seconds 60] [--model M] [--out F.md]

1. **Sync.** The script writes a ``--hours`` long film sound track (AAC, 44.1 kHz stereo: the
   trailer's sound looped, its loudness changed at random every 0.1 s so no stretch repeats) and
   a reaction recording of the same length (the film heard in a room: from 37.25 s of the
   recording, quieter, low-passed, echo, noise at 0 dB SNR; AAC 16 kHz mono). It times
   :func:`emotion.audience.sync_offset` with an empty cache (the film's sound decoded too) and
   again with the film's envelope cached (what every further reaction to the film costs), and
   reports the offset error.
2. **Reaction analysis.** A 640x480, 30 fps H.264 recording of the real face video (looped),
   ``--reaction-seconds`` long, analysed at 4 samples a second (YuNet, the model, no cache):
   seconds of recording per second of work.
3. **Aggregation.** 100 synthetic viewers (10 recordings of 10) over a 2-hour film at 4 samples
   a second, 1,500 scenes: :func:`emotion.audience.analyze_audience` time.

Generated files are kept in ``$TMPDIR/emotion-bench-audience`` for reruns. Prints a markdown
table and writes it to ``--out`` (default benchmarks/results/audience.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from _common import ROOT, YUNET, choose_model

sys.path.insert(0, str(ROOT / "tests"))
import audience_media as media  # noqa: E402

OFFSET = 37.25


def _encode_sound(path: Path, chunks, rate: int, layout: str) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        stream.layout = layout
        pts = 0
        for chunk in chunks:
            chunk = np.ascontiguousarray(chunk, np.float32)
            # packed "flt": one row, channels interleaved ((n, 2) row-major is exactly that)
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
            pts += frame.samples
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _film_block(trailer: np.ndarray, block: int, block_s: int, rate: int) -> np.ndarray:
    """Block ``block`` of the long film sound: the trailer looped, its loudness changed at random every 0.1 s.

    The gains depend only on the block number, never on the sample rate, so the film (44.1 kHz) and
    the recording made from it (16 kHz) carry the same sound, and no stretch repeats another.
    """
    n = block_s * rate
    idx = (np.arange(block * n, block * n + n)) % len(trailer)
    gains = np.random.default_rng(block).uniform(0.15, 1.0, block_s * 10) ** 2
    return (trailer[idx] * np.repeat(gains, rate // 10)[:n]).astype(np.float32)


def make_sync_pair(folder: Path, hours: float) -> tuple[Path, Path]:
    film_path, rec_path = folder / f"film_{hours:g}h.m4a", folder / f"reaction_{hours:g}h.m4a"
    if film_path.is_file() and rec_path.is_file():
        return film_path, rec_path
    total = int(hours * 3600)
    film_rate, rec_rate = 44100, 16000
    trailer_hi = media.decode_sound(media.TRAILER, film_rate)
    trailer_lo = media.decode_sound(media.TRAILER, rec_rate)
    block_s = 60

    def film_chunks():
        for k in range(total // block_s):
            mono = _film_block(trailer_hi, k, block_s, film_rate)
            yield np.stack([mono, mono * 0.9], axis=1)

    def rec_chunks():
        film_lo = np.concatenate([_film_block(trailer_lo, k, block_s, rec_rate) for k in range(total // block_s)])
        noise_rng = np.random.default_rng(2)
        step = block_s * rec_rate
        for a in range(0, len(film_lo), step):
            t0 = a / rec_rate
            part = media.room_sound(film_lo[max(0, int((t0 - OFFSET - 1) * rec_rate)):
                                            int((t0 - OFFSET + block_s + 1) * rec_rate)],
                                    OFFSET + max(0.0, t0 - OFFSET - 1) - t0, block_s, 0.0, rec_rate,
                                    seed=int(noise_rng.integers(1 << 30)))
            yield part

    _encode_sound(film_path, film_chunks(), film_rate, "stereo")
    _encode_sound(rec_path, rec_chunks(), rec_rate, "mono")
    return film_path, rec_path


def bench_sync(folder: Path, hours: float) -> list[tuple[str, str]]:
    from emotion.audience import sync_offset

    started = time.perf_counter()
    film, rec = make_sync_pair(folder, hours)
    made = time.perf_counter() - started
    os.environ["EMOTION_CACHE_DIR"] = tempfile.mkdtemp(prefix="emotion-bench-cache-")
    t = time.perf_counter()
    cold = sync_offset(film, rec)
    cold_s = time.perf_counter() - t
    t = time.perf_counter()
    warm = sync_offset(film, rec)
    warm_s = time.perf_counter() - t
    return [(f"sync, {hours:g} h film + {hours:g} h recording, film sound not cached", f"{cold_s:.1f} s"),
            ("sync, same, film envelope cached (each further reaction)", f"{warm_s:.1f} s"),
            ("offset found (true 37.250 s)", f"{cold.offset_s:.3f} s, error {abs(cold.offset_s - OFFSET) * 1000:.1f} ms,"
                                             f" confidence {cold.confidence:.2f}, {len(cold.pieces)} piece(s)"),
            ("(making the test files, not timed above)", f"{made:.0f} s")]


def make_reaction_video(folder: Path, seconds: int) -> Path:
    import av
    import cv2

    path = folder / f"reaction_640x480_{seconds}s.mp4"
    if path.is_file():
        return path
    faces = media.face_frames(360, 30, seconds * 30)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "veryfast", "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for face in faces:
            canvas = np.full((480, 640, 3), 40, np.uint8)
            canvas[60:420, 140:500] = face
            canvas = cv2.GaussianBlur(canvas, (3, 3), 0)
            for packet in stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def bench_reaction(folder: Path, seconds: int, model: str | None) -> list[tuple[str, str]]:
    from emotion.audience import analyze_reaction
    from emotion.detector import build_detector
    from emotion.settings import Settings

    path = make_reaction_video(folder, seconds)
    name, what = choose_model(model, folder)
    detector = build_detector(Settings(model=name, detector="yunet", face_model=str(YUNET)))
    analyze_reaction(path, 0.0, detector=detector, cache=False)   # warm-up: model runner, YuNet
    t = time.perf_counter()
    reaction = analyze_reaction(path, 0.0, detector=detector, cache=False)
    spent = time.perf_counter() - t
    return [(f"reaction analysis, 640x480 30 fps, {seconds} s, 4 samples/s ({what}, "
             f"{detector.model.backend})", f"{spent:.1f} s = {seconds / spent:.1f}x real time "
                                           f"({reaction.viewers} viewer, face in {reaction.face.mean():.0%})")]


def bench_panel() -> list[tuple[str, str]]:
    from emotion.audience import Reaction, analyze_audience, output
    from emotion.film.shots import Scene

    labels = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt")
    duration = 7200.0
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.uniform(0, duration, 1499))
    edges = np.r_[0.0, cuts, duration]
    scenes = tuple(Scene(i + 1, float(a), float(b), int(a * 24), int(b * 24)) for i, (a, b) in
                   enumerate(zip(edges[:-1], edges[1:])))
    rows = tuple(SimpleNamespace(scene=s.number, valence=float(rng.uniform(-1, 1))) for s in scenes)
    import pandas as pd

    times = np.arange(0, duration, 0.25)
    series = pd.DataFrame({"time_s": times, **{lab: np.full(len(times), 1 / len(labels)) for lab in labels}})
    film = SimpleNamespace(scenes=scenes, rows=rows, labels=labels, source="two_hours.mp4",
                           info=SimpleNamespace(duration=duration),
                           timeline=SimpleNamespace(series=lambda: series))
    reactions = []
    for r in range(10):
        t = np.arange(0, duration + 60, 0.25)
        probs = rng.dirichlet(np.ones(len(labels)), size=(10, len(t))).astype(np.float32)
        face = rng.uniform(size=(10, len(t))) < 0.9
        probs[~face] = np.nan
        reactions.append(Reaction(f"rec{r}.mp4", labels, t, face, face & (rng.uniform(size=face.shape) < 0.8),
                                  probs, offset_s=float(rng.uniform(0, 30))))
    t0 = time.perf_counter()
    report = analyze_audience(film, reactions)
    spent = time.perf_counter() - t0
    t0 = time.perf_counter()
    output.scenes_csv(report), output.seconds_csv(report), output.report_json(report)
    exports = time.perf_counter() - t0
    return [(f"aggregation, {report.viewers} viewers x 2 h at 4 samples/s, {len(scenes)} scenes",
             f"{spent:.1f} s (+ {exports:.1f} s for the CSVs and JSON)")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--reaction-seconds", type=int, default=60)
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "audience.md"))
    args = parser.parse_args(argv)
    if media.missing():
        print(f"skipped: {media.missing()}")
        return 1
    folder = Path(tempfile.gettempdir()) / "emotion-bench-audience"
    folder.mkdir(exist_ok=True)
    results = bench_panel() + bench_sync(folder, args.hours) + bench_reaction(folder, args.reaction_seconds,
                                                                              args.model)
    head = (f"# Audience benchmark\n\n`python benchmarks/bench_audience.py --hours {args.hours:g} "
            f"--reaction-seconds {args.reaction_seconds}` on {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs ({time.strftime('%Y-%m-%d')}).\n\n| what | result |\n|---|---|\n")
    table = head + "".join(f"| {a} | {b} |\n" for a, b in results)
    print(table)
    Path(args.out).write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
