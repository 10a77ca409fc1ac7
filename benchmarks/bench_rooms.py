"""Screening rooms: seats found, how well each is seen, and the speed, for 12, 36 and 100 seats at 1080p.

    python benchmarks/bench_rooms.py [--seconds 30] [--rooms 12:70,36:45,100:30] [--grey] [--out F.md]

Each room is built by tests/rooms.py from the shared face video (faces looped,
mirrored, about ``PX`` wide, dimmed to 55 %, sensor noise sigma 6; ``--grey``
makes them infrared-grey and dimmer) and read by
:func:`emotion.audience.analyze_reaction` as the product does (4 samples a
second, YuNet from ../shared/data, the bundled model, ``auto`` backend, detection
size fitted to the faces, viewers by seat), without cache. Prints a markdown
table: seats found against seats built, seats seen at least 90 % of the time,
the smallest face, the detection size chosen, wall time, x real time, and the
cost per sample and per face.
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
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rooms", default="12:70,36:45,100:30", help="SEATS:FACE_PX,... (1080p)")
    ap.add_argument("--grey", action="store_true")
    ap.add_argument("--fps", type=float, default=4.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    import numpy as np
    import rooms

    from emotion.audience import analyze_reaction
    from emotion.detector import get_detector
    from emotion.settings import AudienceSettings, Settings

    for need in (rooms.FACE_VIDEO, rooms.YUNET):
        if not need.exists():
            print(f"{need} is absent (shared data); skipped")
            return 0
    settings = Settings(detector="yunet", face_model=str(rooms.YUNET))
    detector = get_detector(settings)
    lines = [f"`python benchmarks/bench_rooms.py --seconds {args.seconds:g}{' --grey' if args.grey else ''}` "
             f"({os.cpu_count()} cores, {args.fps:g} samples/s, backend {detector.model.backend})", "",
             "| room | seats found | seen >= 90 % | seen, least | smallest face | detected at | wall | x real time "
             "| ms per sample | ms per face |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.rooms.split(","):
            seats, px = (int(x) for x in spec.split(":"))
            room = rooms.build_room(Path(tmp) / f"room{seats}.mp4", seats=seats, face_px=px, seconds=args.seconds,
                                    light=0.4 if args.grey else 0.55, grey=args.grey, seed=seats)
            start = time.perf_counter()
            r = analyze_reaction(room.path, 0.0, settings, AudienceSettings(fps=args.fps), detector=detector,
                                 cache=False)
            wall = time.perf_counter() - start
            seen = r.face.mean(axis=1) if r.viewers else np.zeros(1)
            samples, faces = len(r.recording_time), int(r.face.sum())
            lines.append(f"| {seats} seats, faces {px} px{', grey' if args.grey else ''} | {r.viewers} of {seats} "
                         f"({r.grouping}) | {int((seen >= 0.9).sum())} | {100 * seen.min():.0f} % | "
                         f"{r.smallest_face_px:.0f} px | {r.detect_side or 480} px | {wall:.1f} s | "
                         f"{r.recording_duration_s / wall:.2f}x | {1000 * wall / max(1, samples):.0f} | "
                         f"{1000 * wall / max(1, faces):.1f} |")
            print(lines[-1], flush=True)
    return print_table(lines, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
