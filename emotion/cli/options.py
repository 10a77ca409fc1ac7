"""Command-line options shared by several commands (imported by the command modules, never by ``cli``)."""

from __future__ import annotations

import argparse

from ..settings import BACKENDS, DETECTORS


def add_model_options(parser: argparse.ArgumentParser, detector: bool = True) -> None:
    """Options shared by every command that runs the emotion model (and, with ``detector``, finds faces)."""
    parser.add_argument("--model", default="bundled",
                        help="'bundled' (default), a local checkpoint directory, or a Hugging Face hub id")
    parser.add_argument("--backend", default="auto", choices=list(BACKENDS),
                        help="how the model is run (default: fastest available)")
    parser.add_argument("--mirror", default=None, action=argparse.BooleanOptionalAction,
                        help="average each face with its mirror image (default: as the checkpoint's inference.json "
                             "asks, chosen on PublicTest at training; off without one)")
    if detector:
        parser.add_argument("--detector", default="auto", choices=list(DETECTORS),
                            help="face detector (default: YuNet when available, else Haar)")
        parser.add_argument("--face-model", default=None, metavar="PATH",
                            help="local YuNet .onnx file (else $EMOTION_FACE_MODEL or a cached download)")
        parser.add_argument("--min-face", type=int, default=None, metavar="PX",
                            help="smallest face side to keep, in pixels (default 20)")
        parser.add_argument("--threshold", type=float, default=None,
                            help="minimum YuNet face score, 0-1 (default 0.6)")
