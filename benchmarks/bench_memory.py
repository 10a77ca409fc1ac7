"""Peak memory of a film analysis against the film's length: it must stay flat.

    python benchmarks/bench_memory.py [--minutes 2 20 120] [--fps 2] [--size 320x180] [--model M]

For each length the script makes a low-resolution film (``--size``, 5 frames a
second, H.264, scenes of 10 s cycling through face photos from
../shared/data/media/photos, flat colours if those are absent; films are kept
under ``--work`` so a rerun does not encode them again), then runs
:func:`emotion.film.analyze_video` on it in a fresh Python process (YuNet, the
bundled model on the default backend, ``--fps`` samples a second, no cache).
The child reports its peak resident memory (``VmHWM`` from
``/proc/self/status``), its resident memory at the end and the wall time.
Prints a markdown table and writes it to ``benchmarks/results/memory.md``.

The target: a 2-hour film peaks within 150 MB of a 2-minute one at the same
resolution and sampling.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, SHARED, YUNET

PHOTOS = ("faceapi_happy.jpg", "facerec_obama.jpg", "faceapi_sad.jpg", "deepface_couple.jpg")
FILM_FPS = 5
SCENE_S = 10


def make_film(path: Path, minutes: float, size: tuple[int, int]) -> Path:
    """A ``minutes`` long H.264 film of ``size``, 5 fps: 10-second scenes of face photos, hard cuts."""
    import av
    import cv2
    import numpy as np

    w, h = size
    images = [cv2.imread(str(SHARED / "media" / "photos" / n)) for n in PHOTOS]
    images = [img[:, :, ::-1] for img in images if img is not None]
    if not images:
        images = [np.full((h, w, 3), c, np.uint8) for c in ((200, 40, 40), (30, 40, 120), (230, 230, 230))]
    frames = []
    for img in images:
        ph, pw = img.shape[:2]
        scale = min(w / pw, h / ph)
        small = cv2.resize(img, (max(1, round(pw * scale)), max(1, round(ph * scale))), interpolation=cv2.INTER_AREA)
        canvas = np.full((h, w, 3), 16, np.uint8)
        y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
        canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
        frames.append(canvas)
    total = round(minutes * 60 * FILM_FPS)
    tmp = path.with_name(path.name + ".partial.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=FILM_FPS, options={"preset": "ultrafast", "crf": "28"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(total):
            rgb = frames[(i // (SCENE_S * FILM_FPS)) % len(frames)]
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    os.replace(tmp, path)
    return path


def _status(field: str) -> float:
    """A memory line of /proc/self/status in MB (VmHWM: peak resident, VmRSS: now)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(path: str, fps: float, model: str, cache: bool) -> None:
    """Run one analysis in this (fresh) process and print a JSON line with its memory and time."""
    sys.path.insert(0, str(ROOT))
    from emotion.film import FilmSettings, analyze_video
    from emotion.settings import Settings

    settings = Settings(model=model, face_model=str(YUNET) if YUNET.exists() else None)
    from emotion.detector import get_detector

    detector = get_detector(settings)
    loaded = _status("VmRSS")
    started = time.monotonic()
    report = analyze_video(path, settings, FilmSettings(fps=fps), detector=detector, cache=cache)
    wall = time.monotonic() - started
    obs = report.timeline.observations
    print(json.dumps({"peak_mb": _status("VmHWM"), "end_mb": _status("VmRSS"), "loaded_mb": loaded,
                      "wall_s": wall, "samples": len(obs.sample_time), "faces": int(len(obs.probs)),
                      "scenes": len(report.scenes), "backend": report.backend}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[2, 20, 120])
    parser.add_argument("--fps", type=float, default=2.0, help="samples a second (default 2)")
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--work", type=Path, default=Path("/tmp/emotion-bench-memory"),
                        help="where the films are kept between runs")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "memory.md")
    parser.add_argument("--label", default="", help="a note for the table (e.g. 'before')")
    parser.add_argument("--cache", action="store_true",
                        help="checkpoint to a fresh cache folder as the CLI does (default: no cache)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.fps, args.model, args.cache)
        return 0
    w, h = (int(v) for v in args.size.lower().split("x"))
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for minutes in args.minutes:
        film = args.work / f"film-{minutes:g}min-{w}x{h}.mp4"
        if not film.exists():
            t = time.monotonic()
            make_film(film, minutes, (w, h))
            print(f"made {film.name} in {time.monotonic() - t:.0f} s", file=sys.stderr)
        cache = args.work / "cache"
        if cache.exists():   # every run starts from nothing, never from an earlier run's results
            import shutil

            shutil.rmtree(cache)
        env = {**os.environ, "EMOTION_CACHE_DIR": str(cache)}
        cmd = [sys.executable, __file__, "--child", str(film), "--fps", str(args.fps), "--model", args.model,
               *(["--cache"] if args.cache else [])]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append((minutes, result))
        print(f"{minutes:g} min: peak {result['peak_mb']:.0f} MB, {result['wall_s']:.0f} s", file=sys.stderr)
    base = rows[0][1]["peak_mb"]
    env_note = ", ".join(f"{k}={os.environ[k]}" for k in ("MALLOC_ARENA_MAX",) if k in os.environ) or "none"
    lines = [f"# Peak memory against film length{' (' + args.label + ')' if args.label else ''}", "",
             f"`python benchmarks/bench_memory.py --minutes {' '.join(f'{m:g}' for m in args.minutes)} "
             f"--fps {args.fps:g} --size {args.size}{' --cache' if args.cache else ''}`; {w}x{h}, {FILM_FPS} fps H.264, YuNet, model "
             f"{args.model} on backend {rows[0][1]['backend']}, "
             f"{'checkpoints to the cache' if args.cache else 'no cache'}; environment settings: {env_note}.", "",
             "| film | samples | faces | scenes | RSS after model load (MB) | peak RSS (MB) | peak - first (MB) "
             "| RSS at end (MB) | wall (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for minutes, r in rows:
        lines.append(f"| {minutes:g} min | {r['samples']} | {r['faces']} | {r['scenes']} | {r['loaded_mb']:.0f} "
                     f"| {r['peak_mb']:.0f} | {r['peak_mb'] - base:+.0f} | {r['end_mb']:.0f} | {r['wall_s']:.0f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
