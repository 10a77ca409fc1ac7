"""Live screening: what serving the film costs the server, and how exact the stamps are.

    python benchmarks/bench_screening.py [--film F] [--seconds 20] [--out F.md]

1. **Picture.** :class:`emotion.audience.player.FilmPicture` gives the frame on show at each
   film time of ``--seconds`` of the film at its own rate (plus the ``av.VideoFrame`` the
   stream sends): milliseconds per frame, median and 95th percentile; and a jump (seek) back
   and forth.
2. **Sound.** :class:`~emotion.audience.player.FilmSound` gives 20 ms slices at 48 kHz stereo.
3. **Stamps.** A :class:`~emotion.audience.live.ScreeningClock` on the real monotonic clock plays
   from 0 for ``--seconds``/4 of real time with a pause and a jump; at random moments the film time it
   stamps is compared with the film time computed independently from the wall-clock moments of
   the pause and jump: the largest difference.

The film defaults to the shared trailer. Prints a markdown table and writes it to ``--out``
(default benchmarks/results/screening.md). The WebRTC delay (film frame to screen, camera to
server) is measured by benchmarks/bench_live_delay.py.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from pathlib import Path

import av
import numpy as np
from _common import ROOT

from emotion.audience.live import ScreeningClock
from emotion.audience.player import FilmPicture, FilmSound

TRAILER = ROOT.parent / "shared" / "data" / "media" / "videos" / "pjo_teaser_trailer.mp4"


def _ms(values):
    values = sorted(values)
    return statistics.median(values) * 1000, values[int(0.95 * (len(values) - 1))] * 1000


def picture(film: Path, seconds: float):
    p = FilmPicture(film)
    times = []
    for i in range(int(seconds * p.fps)):
        start = time.perf_counter()
        av.VideoFrame.from_ndarray(p.at(5.0 + i / p.fps), format="rgb24")
        times.append(time.perf_counter() - start)
    seeks = []
    for t in (40.0, 10.0, 30.0, 2.0):
        start = time.perf_counter()
        p.at(t)
        seeks.append(time.perf_counter() - start)
    return p, times, seeks


def sound(film: Path, seconds: float):
    s = FilmSound(film)
    times = []
    for i in range(int(seconds / 0.02)):
        start = time.perf_counter()
        s.samples(5.0 + 0.02 * i, 960)
        times.append(time.perf_counter() - start)
    return times


def stamps(seconds: float) -> float:
    """Largest |clock stamp - independently computed film time| over random moments (s)."""
    clock = ScreeningClock(1000.0)
    clock.start()
    t0 = time.monotonic()
    run = seconds / 4
    pause_at, jump_at = run * 0.3, run * 0.6
    paused = jumped = False
    pause_wall = resume_wall = jump_wall = None
    worst = 0.0
    rng = random.Random(0)
    while time.monotonic() - t0 < run:
        now = time.monotonic() - t0
        if not paused and now >= pause_at:
            clock.pause()
            pause_wall = time.monotonic() - t0
            paused = True
            time.sleep(0.2)
            clock.play()
            resume_wall = time.monotonic() - t0
        if not jumped and now >= jump_at:
            clock.seek(500.0)
            jump_wall = time.monotonic() - t0
            jumped = True
        s = clock.now()
        stamped = clock.film_at(s)
        if stamped is None:
            continue
        wall = s
        if jump_wall is not None and wall >= jump_wall:
            expected = 500.0 + (wall - jump_wall)
        elif resume_wall is not None and wall >= resume_wall:
            expected = pause_wall + (wall - resume_wall)
        else:
            expected = wall
        worst = max(worst, abs(stamped - expected))
        time.sleep(rng.uniform(0, 0.01))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--film", type=Path, default=TRAILER)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "screening.md")
    args = parser.parse_args()
    p, frames, seeks = picture(args.film, args.seconds)
    slices = sound(args.film, args.seconds)
    worst = stamps(args.seconds)
    f50, f95 = _ms(frames)
    s50, s95 = _ms(slices)
    rows = [
        ("film frame on show (decode + RGB + av.VideoFrame)", f"{f50:.2f} ms median, {f95:.2f} ms p95",
         f"{len(frames)} frames of {p.size[0]}x{p.size[1]} at {p.fps:.3f} fps: "
         f"{f50 * p.fps / 10:.1f}% of one core"),
        ("jump (seek + decode to the frame)", f"{max(seeks) * 1000:.1f} ms worst of {len(seeks)}", ""),
        ("20 ms of sound, 48 kHz stereo", f"{s50:.3f} ms median, {s95:.3f} ms p95", f"{len(slices)} slices"),
        ("stamp vs film time from the pause/jump moments", f"{worst * 1e6:.1f} µs worst", "real monotonic clock"),
    ]
    table = [f"# Live screening ({args.film.name}, {platform.processor() or platform.machine()})", "",
             "| what | measured | notes |", "|---|---|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    text = "\n".join(table) + "\n\n`python benchmarks/bench_screening.py`\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
