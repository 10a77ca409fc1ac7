"""``batch`` on several short films: the local process pool against a local Ray with 1 and 2 workers.

    python benchmarks/bench_batch.py [--films 6] [--seconds 6] [--fps 4] [--detector haar]

Makes ``--films`` synthetic clips (320x240, 25 fps, hard cuts, a face photo
pasted in when ../shared/data has one), then runs the same batch three ways,
each into a fresh results folder with the film cache off: the local pool with
2 workers, Ray started for the run with 1 CPU, and with 2 CPUs. Reports
wall time, throughput (films a minute, seconds of video per second), the
mean time a film's analysis takes in its worker, the model load per worker,
and the overhead per film: wall time x workers / films minus that mean
(start-up, model loads, scheduling and moving results back). Checks the three
runs give the same per-scene CSVs. Writes the table to
benchmarks/results/batch.md.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, SHARED, YUNET

sys.path.insert(0, str(ROOT / "tests"))


def make_films(folder: Path, n: int, seconds: int) -> None:
    import numpy as np
    from PIL import Image

    from synth_video import CUT_COLOURS, colour_frames, write_video

    photo = SHARED / "media" / "photos" / "faceapi_happy.jpg"
    face = np.asarray(Image.open(photo).convert("RGB").resize((120, 120))) if photo.is_file() else None
    per_shot = 25 * seconds // 3
    for i in range(n):
        frames = []
        for f in colour_frames([(CUT_COLOURS[(i + k) % len(CUT_COLOURS)], per_shot) for k in range(3)], (320, 240),
                               noise=6):
            f = f.copy()
            if face is not None:
                f[60:180, 100:220] = face
            frames.append(f)
        write_video(folder / f"film{i:02d}.mp4", frames)


def run(label: str, films: Path, out: Path, spec, workers: int, ray: str | None) -> dict:
    from emotion.service.batch import run_batch

    t = time.monotonic()
    result = run_batch(films, out, spec, workers=workers, ray=ray, progress=None)
    wall = time.monotonic() - t
    assert result.failed == 0, result.rows
    rows = list(csv.DictReader(open(out / "index.csv")))
    work = [float(r["elapsed_s"]) - float(r["load_s"] or 0) for r in rows]
    loads = [float(r["load_s"]) for r in rows if r["model_loaded"] == "True"]
    video = sum(float(r["duration_s"]) for r in rows)
    return {"label": label, "workers": workers, "wall": wall, "films_min": 60 * len(rows) / wall,
            "video_x": video / wall, "work": statistics.mean(work), "load": statistics.mean(loads),
            "loads": len(loads), "overhead": wall * workers / len(rows) - statistics.mean(work)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--films", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--fps", type=float, default=4)
    ap.add_argument("--detector", default="yunet" if YUNET.is_file() else "haar")
    args = ap.parse_args()
    from emotion.service.items import BatchSpec
    from emotion.settings import FilmSettings, Settings

    settings = Settings(detector=args.detector, face_model=str(YUNET) if args.detector == "yunet" else None,
                        backend="eager")
    spec = BatchSpec(settings, FilmSettings(fps=args.fps), cache=False)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        films = tmp / "films"
        films.mkdir()
        make_films(films, args.films, args.seconds)
        for label, workers, ray in [("local pool", 2, None), ("Ray local", 1, "local"), ("Ray local", 2, "local")]:
            results.append(run(label, films, tmp / f"out-{label}-{workers}", spec, workers, ray))
            print(f"{label} x{workers}: {results[-1]['wall']:.1f} s", file=sys.stderr, flush=True)
        first = sorted((tmp / "out-local pool-2").glob("*/scenes.csv"))
        for other in ("out-Ray local-1", "out-Ray local-2"):
            assert all(p.read_bytes() == (tmp / other / p.parent.name / "scenes.csv").read_bytes() for p in first)
    lines = ["| runner | workers | wall s | films/min | video s per s | analysis s/film | model load s/worker "
             "(loads) | overhead s/film |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['label']} | {r['workers']} | {r['wall']:.1f} | {r['films_min']:.1f} | {r['video_x']:.2f} | "
                     f"{r['work']:.2f} | {r['load']:.1f} ({r['loads']}) | {r['overhead']:.2f} |")
    text = "\n".join(lines)
    print(text)
    (ROOT / "benchmarks" / "results" / "batch.md").write_text(
        f"# batch: local pool vs local Ray\n\n`python benchmarks/bench_batch.py --films {args.films} --seconds "
        f"{args.seconds} --fps {args.fps:g} --detector {args.detector}` on this 2-core machine "
        f"({time.strftime('%Y-%m-%d')}, shared with other work); bundled model, eager backend, film cache off; "
        "per-scene CSVs identical across the three runs.\n\n" + text + "\n")


if __name__ == "__main__":
    main()
