"""``python -m emotion bench [--quick] [--json]``: benchmark the inference backends on this CPU.

Measures every backend that can run here (or ``--backend X`` against fp32
eager) on the bundled model (a random stand-in of the same architecture
while it is not trained yet) and on a ViT-base shaped like the seed project's
hub model, at batch 1 and at a large batch (64 bundled, 16 ViT). Prints a
markdown table, or with ``--json`` one object per (model, backend, batch):
``{"model", "backend", "batch", "throughput", "p50_ms", "p95_ms", "size_mb", "agreement"}``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .options import add_model_options

MODELS = ("bundled", "vit-base")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_options(parser, detector=False)
    parser.add_argument("--quick", action="store_true", help="fewer timed calls (about a minute in all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per (model, backend, batch)")
    parser.add_argument("--models", default=",".join(MODELS), metavar="LIST",
                        help="comma-separated: bundled (or the --model checkpoint), vit-base (default: both)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for PyTorch and onnxruntime (default 2)")
    parser.add_argument("--markdown", type=Path, default=None, metavar="FILE",
                        help="also write the markdown table to FILE")


def specs_for(args: argparse.Namespace) -> list:
    """The models named by ``--models`` (``bundled`` stands for ``--model``)."""
    from .runtime_bench import bundled_spec, vit_base_spec
    from ..errors import SettingsError

    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise SettingsError(f"--models takes a comma-separated list of {', '.join(MODELS)}; got {args.models!r}")
    return [bundled_spec(args.model, args.mirror) if n == "bundled" else vit_base_spec() for n in names]


def run(args: argparse.Namespace) -> int:
    from ..errors import SettingsError

    if args.threads < 1:
        raise SettingsError(f"--threads must be at least 1, got {args.threads}")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))  # before torch is imported, where it is not yet
    from transformers.utils import logging as hf_logging

    from .runtime_bench import json_lines, markdown, run_benchmark

    hf_logging.disable_progress_bar()
    backends = None if args.backend == "auto" else ["eager", args.backend]
    progress = None if args.json else (lambda message: print(f"... {message}", file=sys.stderr, flush=True))
    report = run_benchmark(specs_for(args), backends, quick=args.quick, threads=args.threads, progress=progress)
    table = markdown(report)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table + "\n", encoding="utf-8")
    if args.json:
        for line in json_lines(report):
            print(line, flush=True)
    else:
        print(table)
    return 0
