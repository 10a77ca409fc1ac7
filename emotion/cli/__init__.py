"""``python -m emotion COMMAND ...``: the command line.

Each sub-command lives in its own module under :mod:`emotion.cli` and
provides ``add_arguments(parser)`` and ``run(args) -> int``. The modules are
imported only when their command runs, so ``--help`` stays quick.

Library errors (:class:`emotion.errors.EmotionError`) become one line on
stderr and a non-zero exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from ..errors import EmotionError

#: command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "image": ("emotion.cli.image", "find faces in photos and score their emotions"),
    "film": ("emotion.cli.film", "per-scene emotion timeline of a film or trailer"),
    "audience": ("emotion.cli.audience", "how an audience reacted to a film, scene by scene, from reaction videos"),
    "train": ("emotion.cli.train", "train the bundled emotion model on FER2013/FER+"),
    "evaluate": ("emotion.cli.evaluate", "measure a model on FER2013/FER+ or a folder of faces"),
    "average": ("emotion.cli.average", "average the weights of checkpoints fine-tuned from the same one"),
    "bench": ("emotion.cli.bench", "benchmark inference backends on this CPU"),
    "serve": ("emotion.cli.serve", "the REST API: photos at once, films as jobs (FastAPI, docs at /docs)"),
    "batch": ("emotion.cli.batch", "analyse a folder or manifest of films, on this machine or a Ray cluster"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emotion", description="Facial emotion analytics, offline.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log progress and decisions (which backend runs and why, face detector fallbacks)")
    parser.add_argument("-q", "--quiet", dest="quiet_all", action="store_true",
                        help="for scripts: no progress bars or notes, only results and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(_module=module)
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            p.set_defaults(_missing=True)
            continue
        mod.add_arguments(p)
    return parser


def _quiet_third_parties(verbose: bool, quiet: bool) -> None:
    """No progress bars or advice from the libraries underneath, unless asked for with ``--verbose``.

    Set through the environment, before those libraries are imported (importing transformers
    only to silence it would cost a second).
    """
    if not verbose:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' "Loading weights" bar too
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    if quiet:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 a library error, 2 a usage error, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # ``-q`` works before the command (``emotion -q film ...``) and, where a command has it, after it
    args.quiet = bool(args.quiet_all or getattr(args, "quiet", False))
    if args.verbose and args.quiet:
        parser.error("--verbose and --quiet contradict each other; choose one")
    _quiet_third_parties(args.verbose, args.quiet)
    level = logging.INFO if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not args.command:
        parser.print_help()
        return 2
    if getattr(args, "_missing", False):
        print(f"error: the '{args.command}' command is not available in this build", file=sys.stderr)
        return 2
    mod = importlib.import_module(args._module)
    try:
        return int(mod.run(args) or 0)
    except EmotionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
