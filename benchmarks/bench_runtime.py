"""Inference backends (eager, bf16, IPEX, ONNX int8) on the bundled model and a ViT-base.

    python benchmarks/bench_runtime.py [--quick] [--json] [--backend B] [--models bundled,vit-base]
                                       [--threads 2] [--markdown FILE]

The same measurement as ``python -m emotion bench`` (see emotion/benchmark.py),
runnable from a checkout without installing the package, including from the
separate IPEX virtualenv described in the README (onnxruntime need not be
installed there; the ONNX rows are then left out with a note). Writes the
markdown table to benchmarks/results/runtime-<torch version>.md unless
--markdown says otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    threads = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--threads"), "2")
    os.environ.setdefault("OMP_NUM_THREADS", threads)  # before torch is imported
    if "--markdown" not in argv:
        import torch

        version = torch.__version__.split("+")[0]
        argv += ["--markdown", str(ROOT / "benchmarks" / "results" / f"runtime-torch{version}.md")]
    from emotion.cli import main as cli_main

    return cli_main(["bench", *argv])


if __name__ == "__main__":
    sys.exit(main())
