"""The default ``film`` command against the ``fer`` package's ``Video.analyze`` on the same file, interleaved.

    python benchmarks/bench_vs_fer.py [--fer-python PY] [--film F ...] [--clip-1080p SECONDS]
                                      [--fps 4] [--runs 3] [--out F.md]

Both sides run as a user would, as whole commands (start-up and model loading
included), one after the other, ``--runs`` times interleaved, and the median
wall time of each is kept:

- ours: ``python -m emotion film FILE --no-cache --face-model YUNET`` (every other
  setting its default: 4 samples a second, the thorough face search, ``auto`` backend);
  ``--face-model`` only points at the shared copy of the YuNet file the product downloads;
- fer: ``Video(FILE).analyze(FER(), frequency=K, save_frames=False, save_video=False,
  annotate_frames=False, zip_images=False)``, with ``K`` the film's frame rate / ``--fps``
  (every K-th frame, the same samples per second), OpenCV's Haar face detector (fer's default).

The peer lives in its own environment, named by ``--fer-python`` (or ``$FER_PYTHON``)::

    python -m venv /opt/fer && /opt/fer/bin/pip install --no-deps fer && \\
        /opt/fer/bin/pip install tensorflow-cpu "opencv-contrib-python<5" "moviepy<2" pandas matplotlib \\
        requests pillow tqdm

Without it the script says so and stops (exit 0). ``--clip-1080p S`` also makes an
S-second 1080p clip of face photos (``bench_film.synthetic_1080p``) and times it.
Prints a markdown table with the CPU and its flags, and writes it to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, SHARED, YUNET, print_table

TRAILER = SHARED / "media" / "videos" / "pjo_teaser_trailer.mp4"
FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16", "amx_int8")

FER_SCRIPT = """
import sys, tempfile
try:
    from fer import FER, Video
except ImportError:                 # fer 25.x: the classes are no longer exported by the package
    from fer.classes import Video
    from fer.fer import FER
path, every = sys.argv[1], int(sys.argv[2])
with tempfile.TemporaryDirectory() as out:
    video = Video(path, outdir=out)
    rows = video.analyze(FER(), display=False, frequency=every, save_frames=False, save_video=False,
                         annotate_frames=False, zip_images=False, output="csv")
print("fer rows", len(rows))
"""


def fer_ready(python: str) -> str | None:
    """None when ``python`` can import fer, else why not (one line)."""
    try:
        done = subprocess.run([python, "-c", "import tensorflow, fer.fer, fer.classes"], capture_output=True,
                              text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python}: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["import failed"])[-1]
        return f"{python} cannot import fer: {last}"
    return None


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    # a throwaway working folder: fer writes its data.csv there (it once landed in the repository)
    with tempfile.TemporaryDirectory(prefix="bench-vs-fer-") as work:
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work)
        took = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{tail}")
    return took


def film_info(path: Path) -> tuple[float, float, int, int]:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or 25)
        duration = float(c.duration / 1e6) if c.duration else float(s.frames / fps)
        return fps, duration, s.codec_context.width, s.codec_context.height


def compare(path: Path, fer_python: str, fps: float, runs: int) -> dict:
    rate, duration, w, h = film_info(path)
    every = max(1, round(rate / fps))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ours_cmd = [sys.executable, "-m", "emotion", "film", str(path), "--no-cache", "-q"]
    if YUNET.exists():
        ours_cmd += ["--face-model", str(YUNET)]
    fer_cmd = [fer_python, "-c", FER_SCRIPT, str(path), str(every)]
    ours, theirs = [], []
    for i in range(runs):
        pair = [("ours", ours_cmd, ours), ("fer", fer_cmd, theirs)]
        for name, cmd, into in (pair if i % 2 == 0 else pair[::-1]):
            into.append(_timed(cmd, env))
            print(f"  {path.name} run {i + 1} {name}: {into[-1]:.1f} s", file=sys.stderr)
    o, t = statistics.median(ours), statistics.median(theirs)
    return {"file": path.name, "size": f"{w}x{h}", "duration": duration, "every": every, "ours": o, "fer": t,
            "ratio": t / o, "ours_all": ours, "fer_all": theirs}


def cpu_line() -> str:
    name = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from emotion.runtime import cpu_flags

    have = cpu_flags()
    return f"{name}, {os.cpu_count()} cores; flags: " + ", ".join(f for f in FLAGS if f in have)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fer-python", default=os.environ.get("FER_PYTHON", ""),
                    help="the python of an environment where fer is installed (default $FER_PYTHON)")
    ap.add_argument("--film", action="append", type=Path, help="a video (default: the shared trailer)")
    ap.add_argument("--clip-1080p", type=int, default=0, metavar="S", help="also time an S-second 1080p clip")
    ap.add_argument("--fps", type=float, default=4.0, help="samples per second, both tools (default 4)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="write the table here too")
    args = ap.parse_args(argv)
    if not args.fer_python:
        print("fer is not set up: give --fer-python (see this script's docstring for the install); skipped")
        return 0
    why = fer_ready(args.fer_python)
    if why:
        print(f"fer is not usable: {why}; skipped")
        return 0
    films = [f.resolve() for f in (args.film or ([TRAILER] if TRAILER.exists() else []))]
    with tempfile.TemporaryDirectory() as tmp:
        if args.clip_1080p:
            from bench_film import synthetic_1080p

            films.append(synthetic_1080p(Path(tmp) / "faces_1080p.mp4", args.clip_1080p))
        if not films:
            print("no film: give --film (the shared trailer is absent); skipped")
            return 0
        rows = [compare(f, args.fer_python, args.fps, args.runs) for f in films]
    lines = [f"CPU: {cpu_line()}", "",
             f"`python benchmarks/bench_vs_fer.py` — {args.runs} runs interleaved, median wall time of the whole "
             f"command, {args.fps:g} samples/s", "",
             "| file | size | length | ours (film command) | fer Video.analyze | fer / ours | ours x real time |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['file']} | {r['size']} | {r['duration']:.0f} s | {r['ours']:.1f} s | {r['fer']:.1f} s | "
                     f"**{r['ratio']:.2f}x** | {r['duration'] / r['ours']:.2f}x |")
    lines += ["", "Every run (s): " + "; ".join(
        f"{r['file']}: ours {', '.join(f'{v:.1f}' for v in r['ours_all'])} / fer "
        f"{', '.join(f'{v:.1f}' for v in r['fer_all'])}" for r in rows)]
    return print_table(lines, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
