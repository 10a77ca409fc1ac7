"""``python -m emotion image PATH [PATH ...]``: faces and emotions in photos.

Prints a short summary per image, or with ``--json`` one JSON object per line:
``{"path", "detector", "model", "faces": [{"box", "score", "emotion", "probabilities"}]}``.
A file that cannot be read prints one line to stderr; the other files are
still processed and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .options import add_model_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files (jpg, png, webp, bmp, tiff)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per image")
    add_model_options(parser)
    parser.add_argument("--annotate", type=Path, default=None, metavar="DIR",
                        help="also write each image with boxes and labels drawn to DIR/<name>.png")


def _summary(path: str, result) -> str:
    lines = [f"{path}: {len(result.faces)} face(s) [{result.detector}, {result.model}]"]
    for i, f in enumerate(result.faces, start=1):
        lines.append(f"  {i}. {f.emotion:<8} {f.confidence:.2f}  box={list(f.box)} score={f.score:.2f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..annotate import annotate
    from ..detector import build_detector
    from ..errors import UnreadableMedia
    from ..export import to_record
    from ..media import encode_png, load_image
    from ..settings import Settings

    # A few photos are a short job: ``auto`` may then prefer a backend that is quick to build over one
    # that is quicker per face. Eight faces a photo is generous for portraits and modest for groups.
    detector = build_detector(Settings.from_args(args), expected_faces=8 * len(args.paths))
    if args.annotate:
        args.annotate.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.paths:
        notes: list[str] = []
        try:
            rgb = load_image(path, notes=notes)
        except UnreadableMedia as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
        result = detector.analyze(rgb)
        if args.json:
            print(json.dumps(to_record(path, result)), flush=True)
        else:
            print(_summary(path, result), flush=True)
        if args.annotate:
            (args.annotate / f"{Path(path).stem}.png").write_bytes(encode_png(annotate(rgb, result)))
    if failed:
        print(f"error: {failed} of {len(args.paths)} file(s) could not be read", file=sys.stderr)
    return 1 if failed else 0
