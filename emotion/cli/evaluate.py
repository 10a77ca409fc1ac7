"""``python -m emotion evaluate``: accuracy, macro-F1, per-class scores and confusion matrix of a model."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_arguments(p):
    from .options import add_model_options

    add_model_options(p, detector=False)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--fer2013", metavar="CSV", help="FER2013 Kaggle csv (emotion,pixels,Usage), .gz ok")
    src.add_argument("--folder", metavar="DIR", help="folder of face images in sub-folders named by emotion")
    p.add_argument("--ferplus", metavar="CSV", help="FER+ votes (fer2013new.csv), needed for --labels ferplus")
    p.add_argument("--split", default="PrivateTest", choices=["Training", "PublicTest", "PrivateTest"])
    p.add_argument("--labels", default=None, choices=["ferplus", "fer2013"],
                   help="score against FER+ majority labels (default with --ferplus) or the original FER2013 labels")
    p.add_argument("--room", action="store_true",
                   help="also measure robustness: the share of faces whose top emotion survives a dim, noisy room "
                        "(45 and 32 px, 55%% light, sensor noise 6; see emotion/training/robustness.py)")
    p.add_argument("--room-model", metavar="M", default=None,
                   help="with --room: read the room's small faces with this checkpoint instead (a pair routed by "
                        "face size: --model for close-ups, M at the back of the room); accuracy stays --model's"),
    p.add_argument("--json", action="store_true", help='print {"accuracy","macro_f1","n","per_class"} on one line')
    p.add_argument("--html", metavar="FILE", default=None,
                   help="where to save the confusion-matrix heatmap (default: confusion-<source>.html); the "
                        "reliability diagram goes next to it (reliability-<source>.html)")
    p.add_argument("--no-html", action="store_true", help="do not write the heatmap and the reliability diagram")
    p.add_argument("--fit-temperature", action="store_true",
                   help="fit the temperature on the split's faces (FER+ majority labels) and store it in the "
                        "checkpoint's inference.json; use a selection split (PublicTest), never PrivateTest")
    p.add_argument("--record-agreement", action="store_true",
                   help="measure int8 activation ranges on Training faces (int8_calibration.json), then every "
                        "backend against fp32 on the split's faces, and save both in the checkpoint "
                        "(backend_agreement.json, enforced by the runtime's guard); use a selection split")


#: Training faces (a fixed random choice) whose activation ranges calibrate the int8 backend
CALIBRATION_FACES = 512


def run(args) -> int:
    from ..model import load_model
    from ..training.evaluate import evaluate_fer, evaluate_folder
    from ..training.data import training_cache_dir
    from ..training.calibration import BINS, reliability_figure
    from ..training.metrics import confusion_figure

    if args.record_agreement:
        return _record(args)
    if args.fit_temperature:
        return _fit_temperature(args)
    model = load_model(args.model, backend=args.backend, mirror=args.mirror)

    def progress(done, total):
        if not args.json and sys.stderr.isatty():
            print(f"\r{done}/{total} faces", end="", file=sys.stderr, flush=True)

    if args.folder:
        ev = evaluate_folder(model, args.folder, progress=progress)
        stem = f"confusion-{Path(args.folder).name or 'folder'}"
    else:
        labels = args.labels or ("ferplus" if args.ferplus else "fer2013")
        ev = evaluate_fer(model, args.fer2013, args.ferplus, split=args.split, labels=labels, progress=progress,
                          cache_dir=training_cache_dir(), room=args.room,
                          room_model=load_model(args.room_model, backend=args.backend, mirror=args.mirror)
                          if args.room_model else None)
        stem = f"confusion-{args.split}-{labels}"
    if sys.stderr.isatty() and not args.json:
        print(file=sys.stderr)
    r = ev.report
    for reason, n in ev.skipped.items():
        print(f"skipped {n}: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps({"accuracy": round(r.accuracy, 6), "macro_f1": round(r.macro_f1, 6), "n": r.n,
                          "per_class": {k: {kk: (round(vv, 6) if isinstance(vv, float) else vv)
                                            for kk, vv in vars(v).items()} for k, v in r.per_class.items()},
                          "model": model.name, "backend": model.backend, "mirror": model.mirror, "source": ev.source,
                          "skipped": ev.skipped, "temperature": model.temperature, "ece_bins": BINS,
                          "ece": {k: round(c.ece, 6) for k, c in ev.calibration.items()},
                          **({"robustness": ev.robustness.to_dict()} if ev.robustness else {})}))
    else:
        print(f"model {model.name} ({model.backend}{', mirror averaging' if model.mirror else ''}) on {ev.source}")
        print(r.table())
        print("\nexpected calibration error (top-1 confidence, %d equal-width bins): %s" % (
            BINS, ", ".join(f"{k} {c.ece:.4f}" for k, c in ev.calibration.items())))
        if ev.robustness is not None:
            print(ev.robustness.describe())
    if not args.no_html:
        html = Path(args.html or f"{stem}.html")
        confusion_figure(r, f"{model.name} on {ev.source}").write_html(html, include_plotlyjs=True)
        print(f"confusion heatmap written to {html}", file=sys.stderr)
        if ev.calibration:
            rel = html.with_name("reliability-" + html.name.removeprefix("confusion-"))
            reliability_figure(ev.calibration, f"{model.name} on {ev.source}: reliability").write_html(
                rel, include_plotlyjs=True)
            print(f"reliability diagram written to {rel}", file=sys.stderr)
    return 0


def _fit_temperature(args) -> int:
    from ..errors import DataError
    from ..labels import CANONICAL
    from ..model import resolve_checkpoint
    from ..training.data import load_faceset, training_cache_dir
    from ..training.evaluate import fit_temperature_on

    if not args.fer2013 or not args.ferplus or args.split == "PrivateTest":
        raise DataError("--fit-temperature needs --fer2013 and --ferplus with --split PublicTest or Training "
                        "(PrivateTest is kept for reporting only)")
    faces = load_faceset(args.fer2013, args.ferplus, cache_dir=training_cache_dir()).split(args.split)
    out = fit_temperature_on(resolve_checkpoint(args.model), list(faces.images),
                             [CANONICAL[i] for i in faces.majority], f"FER+ {args.split} faces")
    print(json.dumps(out))
    return 0


def _record(args) -> int:
    from ..errors import BackendUnavailable, DataError
    from ..labels import CANONICAL
    from ..training.data import load_faceset, training_cache_dir
    from ..training.evaluate import record_backend_agreement, record_int8_calibration

    if not args.fer2013 or args.split == "PrivateTest":
        raise DataError("--record-agreement needs --fer2013 with --split PublicTest or Training "
                        "(PrivateTest is kept for reporting only)")
    import numpy as np

    faces = load_faceset(args.fer2013, args.ferplus, cache_dir=training_cache_dir())
    train = faces.split("Training")
    pick = np.random.default_rng(0).permutation(len(train))[:CALIBRATION_FACES]
    if not len(pick):
        raise DataError(f"{args.fer2013} has no Training rows to calibrate the int8 backend on; "
                        "--record-agreement needs the whole FER2013 csv")
    try:
        calibration = record_int8_calibration(args.model, list(train.images[pick]),
                                              f"{len(pick)} FER Training faces")
    except BackendUnavailable as exc:  # no onnx here: int8 is neither calibrated nor measured
        print(f"int8 calibration skipped: {exc}", file=sys.stderr)
        calibration = None
    print(json.dumps({"int8_calibration": calibration}))
    split = faces.split(args.split)
    images = list(split.images)
    truth = [CANONICAL[i] for i in split.majority]
    if args.split == "Training":  # the agreement is measured on faces the ranges did not see
        keep = np.setdiff1d(np.arange(len(train)), pick)
        images, truth = list(train.images[keep]), [CANONICAL[i] for i in train.majority[keep]]
    out = record_backend_agreement(args.model, images, f"{len(images)} FER {args.split} faces", truth)
    print(json.dumps(out))
    return 0
