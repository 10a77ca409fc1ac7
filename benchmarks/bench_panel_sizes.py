"""What a panel of 2, 5 or 50 viewers can say: interval width, the response share against the truth, and time.

    python benchmarks/bench_panel_sizes.py [--sizes 2,5,50] [--trials 200] [--out F.md]

Synthetic screenings with a known answer: a 10-minute film of 20 scenes; every
viewer has their own resting face (happy 0.05-0.35, the rest neutral, with
noise), and in scene 7 a known share of the audience (40 %) smiles: their happy
rises by 0.3-0.6 over their own resting level. For each panel size, ``--trials``
screenings are drawn and summed by :func:`emotion.audience.analyze_audience`;
the table gives the mean width of the 95 % Wilson interval of the audience's
happy mean in scene 7, how often that interval holds the true audience mean,
the share who responded (``responded_happy``) against the true 40 % (mean and
the 5-95 % range over the trials), how often a scene with no response (scene 3)
is reported as one where a fifth or more responded, and the time per screening.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from _common import print_table  # (also puts the checkout on sys.path)

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt")
HAPPY = LABELS.index("happy")
NEUTRAL = LABELS.index("neutral")
DURATION, SCENES, RESPOND_SCENE, QUIET_SCENE, SHARE = 600.0, 20, 7, 3, 0.4


def _film():
    from emotion.film.shots import Scene

    edges = np.linspace(0, DURATION, SCENES + 1)
    scenes = tuple(Scene(i + 1, float(a), float(b), int(a * 24), int(b * 24))
                   for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])))
    import pandas as pd

    times = np.arange(0, DURATION, 0.25)
    series = pd.DataFrame({"time_s": times, **{lab: np.full(len(times), 1 / len(LABELS)) for lab in LABELS}})
    return SimpleNamespace(scenes=scenes, rows=tuple(SimpleNamespace(scene=s.number, valence=0.0) for s in scenes),
                           labels=LABELS, source="film.mp4", info=SimpleNamespace(duration=DURATION, fps=24.0),
                           timeline=SimpleNamespace(series=lambda: series))


def _screening(n: int, rng) -> tuple[list, float]:
    from emotion.audience import Reaction

    t = np.arange(0, DURATION, 0.25)
    scene = np.minimum((t / (DURATION / SCENES)).astype(int) + 1, SCENES)
    rest = rng.uniform(0.05, 0.35, n)
    responders = rng.uniform(size=n) < SHARE
    rise = rng.uniform(0.3, 0.6, n)
    probs = np.zeros((n, len(t), len(LABELS)), np.float32)
    happy = rest[:, None] + rng.normal(0, 0.05, (n, len(t)))
    happy[:, scene == RESPOND_SCENE] += (responders * rise)[:, None]
    happy = np.clip(happy, 0.0, 0.95)
    probs[:, :, HAPPY] = happy
    probs[:, :, NEUTRAL] = 1 - happy
    face = np.ones((n, len(t)), bool)
    truth = float(np.mean(happy[:, scene == RESPOND_SCENE].mean(axis=1)))
    return [Reaction("room.mp4", LABELS, t, face, face, probs)], truth


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2,5,50")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    from emotion.audience import analyze_audience
    from emotion.audience.panel import MIN_BAND_VIEWERS, RESPONSE_RISE

    film = _film()
    rng = np.random.default_rng(0)
    lines = [f"`python benchmarks/bench_panel_sizes.py --trials {args.trials}`: {args.trials} synthetic screenings "
             f"per size, {SHARE:.0%} of the audience smiling in scene {RESPOND_SCENE} (a rise of 0.3-0.6 over their "
             f"own resting face; a response is a rise of {RESPONSE_RISE:.2f} or more)", "",
             "| viewers | band drawn | 95 % interval width | interval holds the truth | responded (truth 40 %) "
             "| 5-95 % of trials | quiet scene read as >= 20 % responding | ms per screening |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for n in (int(x) for x in args.sizes.split(",")):
        widths, holds, shares, false_alarm, spent = [], [], [], 0, 0.0
        for _ in range(args.trials):
            reactions, truth = _screening(n, rng)
            start = time.perf_counter()
            report = analyze_audience(film, reactions)
            spent += time.perf_counter() - start
            row = report.rows[RESPOND_SCENE - 1]
            lo, hi = row.lo["happy"], row.hi["happy"]
            if np.isfinite(lo):
                widths.append(hi - lo)
                holds.append(lo <= truth <= hi)
            shares.append(row.responded["happy"])
            false_alarm += report.rows[QUIET_SCENE - 1].responded["happy"] >= 0.2
        drawn = "yes" if n >= MIN_BAND_VIEWERS else f"no (< {MIN_BAND_VIEWERS} viewers)"
        width = f"{100 * np.mean(widths):.0f} points" if widths else "-"
        hold = f"{100 * np.mean(holds):.0f} %" if holds else "-"
        lo5, hi95 = np.percentile(shares, [5, 95])
        lines.append(f"| {n} | {drawn} | {width} | {hold} | {100 * np.mean(shares):.0f} % | "
                     f"{100 * lo5:.0f}-{100 * hi95:.0f} % | {100 * false_alarm / args.trials:.0f} % | "
                     f"{1000 * spent / args.trials:.0f} |")
        print(lines[-1], flush=True)
    return print_table(lines, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
