"""``python -m emotion batch INPUT --out DIR``: many films, one results folder each and an index.

INPUT is a folder of films or a manifest CSV (a ``path`` column; optional
``name`` and ``kind``). Each film gets ``DIR/<name>/`` with ``scenes.csv``,
``shots.csv``, ``frames.csv``, ``report.json`` and ``report.html``;
``DIR/index.csv`` lists status, timings and headline numbers. Run it again
to resume: finished films are skipped, failed ones retried. Films run on a
local process pool, or with ``--ray`` as Ray tasks (``--ray`` alone or
``--ray local`` starts Ray for the run; ``--ray ADDRESS`` joins a cluster).
"""

from __future__ import annotations

import argparse
import sys

from .options import add_model_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT", help="a folder of films, or a manifest CSV with a 'path' column")
    parser.add_argument("--out", required=True, metavar="DIR", help="results folder (one folder per film + index.csv)")
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS|local",
                        help="run each film as a Ray task: 'local' (default) starts Ray on this machine, or a "
                             "cluster address (ray://HEAD:10001, auto); needs pip install -r requirements-ray.txt")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="films at once on this machine (default: one per core; with a cluster, Ray decides)")
    parser.add_argument("--fps", type=float, default=4.0, metavar="N", help="frames sampled per second (default 4)")
    parser.add_argument("--segments", default="scenes", metavar="KIND",
                        help="'scenes' (default), 'shots' or 'every:N' (windows of N seconds)")
    add_model_options(parser)
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the film cache")


def run(args: argparse.Namespace) -> int:
    from ..service.batch import run_batch
    from ..service.items import BatchSpec
    from ..settings import FilmSettings, Settings

    spec = BatchSpec(Settings.from_args(args), FilmSettings(fps=args.fps, segments=args.segments),
                     cache=not args.no_cache)
    try:
        result = run_batch(args.input, args.out, spec, workers=args.workers, ray=args.ray,
                           progress=None if args.quiet else sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted; finished films are saved: run the same command again to resume", file=sys.stderr)
        return 130
    print(f"{result.done} done, {result.failed} failed, {result.skipped} already done; "
          f"{result.elapsed:.1f} s; index: {args.out}/index.csv")
    return 1 if result.failed else 0
