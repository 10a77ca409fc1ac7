"""``python -m emotion average CKPT CKPT ... --out DIR``: average the weights of fine-tuned checkpoints.

For checkpoints trained from the same starting weights (``train --init``), see
:mod:`emotion.training.average`. With ``--fer2013`` and ``--ferplus`` the result is
scored on PublicTest, the selection split, with and without mirror averaging, and
its ``inference.json`` is written as ``train`` writes it.
"""

from __future__ import annotations

import sys


def add_arguments(p):
    p.add_argument("checkpoints", nargs="+", metavar="CKPT",
                   help="exported checkpoints (a run's checkpoint/ folder or emotion/models/<name>), two or more")
    p.add_argument("--out", required=True, metavar="DIR", help="where the averaged checkpoint is written")
    p.add_argument("--weights", default=None, metavar="W,W,...",
                   help="one non-negative weight per checkpoint (default: equal)")
    p.add_argument("--side", type=int, default=None, help="input side of the result (default: the first checkpoint's)")
    p.add_argument("--storage", choices=["float32", "float16"], default="float16",
                   help="dtype of the written weights (default float16; loads as float32)")
    p.add_argument("--fer2013", metavar="CSV", help="with --ferplus: score the result on FER+ PublicTest")
    p.add_argument("--ferplus", metavar="CSV", help="FER+ votes (fer2013new.csv)")


def run(args) -> int:
    from ..errors import SettingsError
    from ..training.average import average_checkpoints

    if bool(args.fer2013) != bool(args.ferplus):
        raise SettingsError("--fer2013 and --ferplus go together (PublicTest is scored with the FER+ labels)")
    weights = None
    if args.weights:
        try:
            weights = [float(v) for v in args.weights.split(",")]
        except ValueError:
            raise SettingsError(f"--weights takes comma-separated numbers, got {args.weights!r}") from None
    out = average_checkpoints(args.checkpoints, args.out, weights, side=args.side, storage=args.storage)
    print(f"averaged checkpoint written to {out}", file=sys.stderr)
    if args.fer2013:
        from ..labels import CANONICAL
        from ..training.data import load_faceset, training_cache_dir
        from ..training.evaluate import choose_mirror

        public = load_faceset(args.fer2013, args.ferplus, cache_dir=training_cache_dir()).split("PublicTest")
        recipe = choose_mirror(out, list(public.images), [CANONICAL[i] for i in public.majority],
                               f"{len(public)} FER+ PublicTest faces")
        print(f"PublicTest accuracy {recipe['accuracy_plain']:.4f}, with mirror averaging "
              f"{recipe['accuracy_mirror']:.4f}: mirror {'on' if recipe['mirror'] else 'off'}")
    return 0
