"""A screening on Ray: one room recording read in spans by 1, 2, ... workers, and what a 2-hour screening costs.

    python benchmarks/bench_ray_rooms.py [--seats 100] [--face-px 30] [--seconds 60] [--workers 1,2]
                                         [--cameras 4] [--hours 2] [--out F.md]

A ``--seats`` room (1080p, faces ``--face-px`` wide, tests/rooms.py) of
``--seconds`` is read by :func:`emotion.audience.analyze_reaction` in one
process, then on a local Ray with each worker count of ``--workers`` (spans of
whole batches, :mod:`emotion.audience.chunks`); every run must give the same
numbers as the one-process run (checked). The table gives wall time, samples
a second and the speed-up over one process.

A 2-hour screening filmed by 4 cameras is ``4 x 2 h x 4`` = 115,200 sampled
frames; building and reading it here would take a day, so its cost is
*projected* from what was measured: the rate of one worker, times the number of
workers, times the parallel efficiency measured with the most workers tried
(a cluster's own efficiency must be measured there). The projection is labelled
as such in the table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, print_table

sys.path.insert(0, str(ROOT / "tests"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seats", type=int, default=100)
    ap.add_argument("--face-px", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    import numpy as np
    import rooms

    from emotion.audience import analyze_reaction
    from emotion.settings import AudienceSettings, Settings

    try:
        import ray  # noqa: F401
    except ImportError:
        print("Ray is not installed (pip install -r requirements-ray.txt); skipped")
        return 0
    for need in (rooms.FACE_VIDEO, rooms.YUNET):
        if not need.exists():
            print(f"{need} is absent (shared data); skipped")
            return 0
    settings = Settings(detector="yunet", face_model=str(rooms.YUNET))
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        room = rooms.build_room(Path(tmp) / "room.mp4", seats=args.seats, face_px=args.face_px,
                                seconds=args.seconds, seed=args.seats)
        start = time.perf_counter()
        base = analyze_reaction(room.path, 0.0, settings, AudienceSettings(), cache=False)
        one = time.perf_counter() - start
        samples = len(base.recording_time)
        rows.append(("one process (no Ray)", one, samples / one, 1.0, "-"))
        for n in counts:
            start = time.perf_counter()
            r = analyze_reaction(room.path, 0.0, settings, AudienceSettings(), cache=False, ray="local", workers=n)
            wall = time.perf_counter() - start
            same = (np.array_equal(r.face, base.face) and np.array_equal(r.probs, base.probs, equal_nan=True)
                    and r.viewers == base.viewers)
            rows.append((f"Ray, {n} worker(s)", wall, samples / wall, one / wall, "yes" if same else "NO"))
            print(rows[-1], flush=True)
    per_worker = max(r[2] for r in rows[1:2]) if len(rows) > 1 else rows[0][2]
    most = max(counts) if counts else 1
    efficiency = (rows[-1][2] / (most * per_worker)) if counts else 1.0
    total = args.cameras * args.hours * 3600 * AudienceSettings().fps
    lines = [f"`python benchmarks/bench_ray_rooms.py --seats {args.seats} --face-px {args.face_px} --seconds "
             f"{args.seconds:g} --workers {args.workers}` on {os.cpu_count()} cores: {base.viewers} of {args.seats} "
             f"seats found, {samples} samples", "",
             "| run | wall | samples/s | speed-up | same numbers as one process |", "|---|---:|---:|---:|---|"]
    lines += [f"| {name} | {wall:.1f} s | {rate:.2f} | {speed:.2f}x | {same} |" for name, wall, rate, speed, same
              in rows]
    lines += ["", f"Projected (not measured): {args.hours:g} h x {args.cameras} cameras = {total:,.0f} samples, at "
              f"{per_worker:.2f} samples/s a worker and {100 * efficiency:.0f} % parallel efficiency (measured "
              f"with {most} worker(s) here):", "",
              "| workers | projected wall | x real time |", "|---:|---:|---:|"]
    for n in (1, 2, 8, 16, 32, 64, 128):
        rate = per_worker * (1 if n == 1 else n * efficiency)
        wall = total / rate
        lines.append(f"| {n} | {wall / 3600:.1f} h | {args.hours * 3600 / wall:.2f}x |")
    return print_table(lines, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
