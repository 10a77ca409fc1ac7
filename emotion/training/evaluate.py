"""Evaluate an emotion model on FER2013/FER+ splits or on a folder of labelled face images.

The model is run through the same path as the product (``EmotionModel.predict``:
its preprocessing and its runtime backend), so the numbers describe what users get.

>>> from emotion.model import load_model                                     # doctest: +SKIP
>>> r = evaluate_fer(load_model("bundled"), "fer2013.csv.gz", "fer2013new.csv")  # doctest: +SKIP
>>> print(r.report.table())                                                   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import DataError, EmotionError
from ..labels import CANONICAL, canonical_label
from .calibration import Reliability, fit_temperature, reliability
from .data import FER2013_LABELS, SPLITS, load_faceset
from .metrics import ClassificationReport, classification_report
from .robustness import Robustness, robustness

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".pgm"}


@dataclass(frozen=True)
class Evaluation:
    """A report plus what was left out and why (labels the model cannot predict, unreadable files).

    ``calibration`` maps "uncalibrated" (temperature 1) and, for a model with a temperature,
    "temperature T" to the :class:`~emotion.training.calibration.Reliability` of its top-1
    answers over all the model's classes, on the scored faces.
    """

    report: ClassificationReport
    source: str
    skipped: dict[str, int] = field(default_factory=dict)
    calibration: dict[str, Reliability] = field(default_factory=dict)
    #: Top emotion kept in room conditions (:mod:`emotion.training.robustness`); None when not measured.
    robustness: Robustness | None = None

    def to_dict(self) -> dict:
        d = self.report.to_dict()
        d["source"] = self.source
        d["skipped"] = dict(self.skipped)
        d["ece"] = {k: r.ece for k, r in self.calibration.items()}
        if self.robustness is not None:
            d["robustness"] = self.robustness.to_dict()
        return d


def predict_faces(model, faces: list[np.ndarray], batch: int = 256,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Probabilities (N, len(model.labels)) for already-cropped faces (grey HxW or RGB HxWx3 uint8)."""
    out = []
    for i in range(0, len(faces), batch):
        chunk = [f if f.ndim == 3 else np.repeat(f[:, :, None], 3, axis=2) for f in faces[i:i + batch]]
        out.append(np.asarray(model.predict(chunk).probs, np.float32))
        if progress:
            progress(min(i + batch, len(faces)), len(faces))
    return np.concatenate(out) if out else np.zeros((0, len(model.labels)), np.float32)


def predict_logits(model, faces: list[np.ndarray], batch: int = 256,
                   progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Raw logits (views, N, len(model.labels)) for faces, as :meth:`EmotionModel.logits` gives them.

    One network pass serves any temperature: ``views_to_probabilities(logits, T)``.
    """
    views = 2 if model.mirror else 1
    out = []
    for i in range(0, len(faces), batch):
        chunk = [f if f.ndim == 3 else np.repeat(f[:, :, None], 3, axis=2) for f in faces[i:i + batch]]
        out.append(model.logits(model.preprocess(chunk)))
        if progress:
            progress(min(i + batch, len(faces)), len(faces))
    return np.concatenate(out, axis=1) if out else np.zeros((views, 0, len(model.labels)))


def _probabilities_and_calibration(model, faces, truth: list[str], progress) -> tuple[np.ndarray, dict]:
    """The model's probabilities for ``faces`` and the reliability of its top-1 answers before/after its temperature."""
    from ..model import views_to_probabilities

    logits = predict_logits(model, faces, progress=progress)
    labels = tuple(model.labels)
    known = np.array([t in labels for t in truth], bool)
    y = np.array([labels.index(t) for t, k in zip(truth, known) if k], np.int64)
    curves, probs = {}, views_to_probabilities(logits, model.temperature).astype(np.float32)
    if known.any():
        curves["uncalibrated"] = reliability(views_to_probabilities(logits[:, known]), y)
        if model.temperature != 1.0:
            curves[f"temperature {model.temperature:g}"] = reliability(probs[known], y)
    return probs, curves


def _score(probs: np.ndarray, model_labels: tuple[str, ...], truth: list[str], eval_labels: tuple[str, ...],
           source: str) -> Evaluation:
    """Argmax over the labels both sides share; faces whose true label the model lacks are skipped."""
    shared = tuple(l for l in eval_labels if l in model_labels)
    missing = [l for l in eval_labels if l not in model_labels]
    cols = [model_labels.index(l) for l in shared]
    keep = np.array([t in shared for t in truth], bool)
    skipped = {}
    for l in missing:
        n = sum(1 for t in truth if t == l)
        if n:
            skipped[f"label '{l}' not predicted by the model"] = n
            log.warning("%d faces labelled %r skipped: the model has no such class", n, l)
    if not keep.any():
        raise DataError(f"none of the true labels ({sorted(set(truth))}) is a class of the model ({model_labels})")
    y_true = [shared.index(t) for t, k in zip(truth, keep) if k]
    y_pred = probs[keep][:, cols].argmax(1)
    return Evaluation(classification_report(y_true, y_pred, shared), source, skipped)


def evaluate_fer(model, fer2013_csv, ferplus_csv=None, split: str = "PrivateTest", labels: str = "ferplus",
                 progress=None, cache_dir=None, room: bool = False, room_model=None) -> Evaluation:
    """Score ``model`` on a FER2013 split against FER+ majority labels or the original FER2013 labels.

    ``labels="ferplus"`` uses the rows kept for training (majority is an emotion, pixels lossless);
    ``labels="fer2013"`` uses every row of the split, as FER2013 papers do, and takes the argmax
    over the seven FER2013 classes. ``cache_dir`` caches the parsed csv, as training does.
    ``room`` also measures :func:`~emotion.training.robustness.robustness` (two more passes);
    ``room_model`` reads the room's small faces instead of ``model`` (a pair routed by face size).
    """
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if labels not in ("ferplus", "fer2013"):
        raise DataError(f"labels must be 'ferplus' or 'fer2013', got {labels!r}")
    if labels == "ferplus" and not ferplus_csv:
        raise DataError("--labels ferplus needs --ferplus fer2013new.csv")
    if labels == "ferplus":
        ds = load_faceset(fer2013_csv, ferplus_csv, cache_dir=cache_dir).split(split)
        truth = [CANONICAL[i] for i in ds.majority]
        eval_labels = tuple(l for l in CANONICAL if l in truth)
    else:
        ds = load_faceset(fer2013_csv, None, cache_dir=cache_dir, drop_lossy=False).split(split)
        truth = [CANONICAL[i] for i in ds.fer2013]
        eval_labels = FER2013_LABELS
    probs, curves = _probabilities_and_calibration(model, list(ds.images), truth, progress)
    ev = _score(probs, tuple(model.labels), truth, eval_labels, f"{split} ({labels} labels)")
    room_kept = None
    if room or room_model is not None:
        small = room_model or model
        if tuple(small.labels) != tuple(model.labels):
            raise DataError(f"--room-model reads {small.labels}, the model {model.labels}: the same classes in "
                            "the same order are needed")
        index = {lab: i for i, lab in enumerate(model.labels)}
        truth_idx = np.array([index.get(t, -1) for t in truth])
        room_kept = robustness(lambda faces: predict_faces(model, faces), ds.images, clean=probs,
                               small_predict=None if room_model is None else
                               (lambda faces: predict_faces(room_model, faces)),
                               small_model="" if room_model is None else room_model.name, truth=truth_idx)
    return Evaluation(ev.report, ev.source, ev.skipped, curves, room_kept)


def evaluate_folder(model, folder, progress=None) -> Evaluation:
    """Score ``model`` on ``folder/<label>/*.jpg`` where each sub-folder names an emotion (synonyms ok)."""
    from PIL import Image, UnidentifiedImageError

    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"{root} is not a directory; pass a folder whose sub-folders are emotion names")
    faces, truth, skipped = [], [], {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        label = canonical_label(sub.name)
        files = sorted(p for p in sub.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if label is None:
            skipped[f"folder '{sub.name}' is not an emotion name"] = len(files)
            log.warning("skipping folder %s: %r is not an emotion name", sub, sub.name)
            continue
        for f in files:
            try:
                with Image.open(f) as im:
                    faces.append(np.asarray(im.convert("RGB")))
                truth.append(label)
            except (UnidentifiedImageError, OSError) as exc:
                skipped["unreadable image"] = skipped.get("unreadable image", 0) + 1
                log.warning("skipping %s: %s", f, exc)
    if not faces:
        raise DataError(f"no images found under {root}/<emotion>/; expected sub-folders like happy/, anger/")
    probs, curves = _probabilities_and_calibration(model, faces, truth, progress)
    eval_labels = tuple(l for l in CANONICAL if l in truth)
    ev = _score(probs, tuple(model.labels), truth, eval_labels, str(root))
    return Evaluation(ev.report, ev.source, {**skipped, **ev.skipped}, curves)


__all__ = ["Evaluation", "choose_mirror", "evaluate_fer", "evaluate_folder", "predict_faces", "predict_logits",
           "fit_temperature_on", "record_backend_agreement", "record_int8_calibration", "EmotionError"]


#: Accuracy (fraction) that mirror averaging must add on the selection faces to be worth twice the work.
MIRROR_MIN_GAIN = 0.001


def choose_mirror(path, faces: list[np.ndarray], truth: list[str], source: str) -> dict:
    """Decide on selection faces how the checkpoint at ``path`` is run: mirror averaging and temperature.

    Scores the product path (:func:`emotion.model.load_model`, fp32) with and without mirror
    averaging, fits the temperature of the chosen way (:func:`fit_temperature_on`), and writes
    ``<path>/inference.json``: ``{"mirror": bool, "temperature", "accuracy_plain", "accuracy_mirror",
    "source"}``. Mirroring doubles the model's work, so it is turned on only when it is more accurate by
    at least :data:`MIRROR_MIN_GAIN` (0.1 point: about 4 of PublicTest's 3,553 faces). Returns what was written.
    """
    import json

    from ..model import INFERENCE_FILE, load_model, views_to_probabilities

    path = Path(path)
    (path / INFERENCE_FILE).unlink(missing_ok=True)
    plain = load_model(str(path), backend="eager", mirror=False)
    acc, logits = {}, {}
    for mirror in (False, True):
        model = plain.with_mirror(mirror)
        logits[mirror] = predict_logits(model, faces)
        acc[mirror] = float(np.mean([model.labels[i] == t for i, t in zip(views_to_probabilities(logits[mirror]).argmax(1), truth)]))
    mirror = acc[True] - acc[False] >= MIRROR_MIN_GAIN - 1e-9
    y = np.array([plain.labels.index(t) for t in truth], np.int64)
    out = {"mirror": mirror, "temperature": round(fit_temperature(logits[mirror], y), 4),
           "accuracy_plain": round(acc[False], 5), "accuracy_mirror": round(acc[True], 5), "source": source}
    (path / INFERENCE_FILE).write_text(json.dumps(out, indent=2) + "\n")
    return out


def fit_temperature_on(path, faces: list[np.ndarray], truth: list[str], source: str) -> dict:
    """Fit the temperature of the checkpoint at ``path`` on selection ``faces`` and store it in ``inference.json``.

    Fitted on the majority labels ``truth`` (negative log-likelihood, :func:`fit_temperature`), as the
    checkpoint is run (its mirror recipe, fp32); other keys of ``inference.json`` are kept. Never
    fit on the split the model is reported on. Returns ``{"temperature", "ece_before", "ece_after",
    "faces", "source"}`` on these faces.
    """
    import json

    from ..model import INFERENCE_FILE, inference_recipe, load_model, views_to_probabilities

    path = Path(path)
    model = load_model(str(path), backend="eager")
    keep = [t in model.labels for t in truth]
    faces = [f for f, k in zip(faces, keep) if k]
    y = np.array([model.labels.index(t) for t, k in zip(truth, keep) if k], np.int64)
    if not len(y):
        raise DataError(f"none of the labels of {source} is a class of the model")
    logits = predict_logits(model, faces)
    temperature = round(fit_temperature(logits, y), 4)
    recipe = {**inference_recipe(path, str(path)), "temperature": temperature,
              "temperature_source": f"{len(y)} {source} (NLL of the majority labels)"}
    (path / INFERENCE_FILE).write_text(json.dumps(recipe, indent=2) + "\n")
    return {"temperature": temperature, "ece_before": reliability(views_to_probabilities(logits), y).ece,
            "ece_after": reliability(views_to_probabilities(logits, temperature), y).ece, "faces": len(y),
            "source": source}


def record_int8_calibration(name: str, faces: list[np.ndarray], source: str) -> dict | None:
    """Measure the int8 activation ranges of checkpoint ``name`` on ``faces`` and save them with it.

    Writes ``<checkpoint>/int8_calibration.json`` (see :class:`emotion.runtime.int8_recipe.Calibration`)
    for a convolutional model, whose int8 backend is quantised statically; use training faces, not
    the faces the agreement is then measured on. A transformer (quantised dynamically, no ranges)
    gets no file and None. Returns what was written, without the ranges themselves.
    """
    import json


    from ..errors import ModelLoadError
    from ..model import CALIBRATION_FILE, int8_calibration, load_model, resolve_checkpoint
    from ..model.loading import product_network
    from ..runtime.onnx_int8 import calibrate

    checkpoint = resolve_checkpoint(name)
    try:  # an unusable file would stop the load below; it is about to be written again
        int8_calibration(checkpoint, name)
    except ModelLoadError as exc:
        log.warning("%s; replacing it", exc)
        (checkpoint / CALIBRATION_FILE).unlink()
    ref_model = load_model(name, backend="eager")
    path = ref_model.path
    hf = product_network(name)     # the network the product exports: its tensor names are the ranges' keys
    pixels = ref_model.preprocess([f if f.ndim == 3 else np.repeat(f[:, :, None], 3, axis=2) for f in faces])
    cal = calibrate(hf, pixels, source)  # BackendUnavailable without onnx: an existing file is kept
    if cal is None:
        log.info("%s: int8 is quantised dynamically, no calibration needed", name)
        (path / CALIBRATION_FILE).unlink(missing_ok=True)
        return None
    (path / CALIBRATION_FILE).write_text(json.dumps(cal.to_json(), indent=1) + "\n")
    log.info("%s: int8 ranges of %d tensors measured on %s", name, len(cal.ranges), source)
    return {"file": CALIBRATION_FILE, "source": cal.source, "tensors": len(cal.ranges)}


def _previous_agreement(path, source: str, rows: int, weights: str) -> dict:
    """The backends recorded in ``path`` before for the same weights (``weights``: their hash) on the same
    faces, else nothing."""
    import json

    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if old.get("source") != source or old.get("rows") != rows or old.get("weights") != weights:
        return {}
    return dict(old.get("backends", {}))


def record_backend_agreement(name: str, faces: list[np.ndarray], source: str, truth: list[str] | None = None) -> dict:
    """Measure each available non-fp32 backend against fp32 on real faces and save it with the checkpoint.

    The runtime's load-time guard only sees a synthetic example batch; this records how each backend
    agrees with fp32 on ``faces`` (e.g. FER+ PublicTest) into ``<checkpoint>/backend_agreement.json``,
    which the guard then also enforces. With ``truth`` (the faces' labels) each backend's accuracy is
    recorded beside fp32's, and the guard holds the drop. Returns what was written.

    Probabilities are compared at temperature 1 (the softmax of the raw logits), as the guard compares
    the example batch at load: a temperature below 1 stretches every difference by 1 / T (the bundled
    model's card lists both). int8 is recorded in both recipes, 8-bit weights (``onnx-int8``, for CPUs
    with VNNI or AMX) and 7-bit (``onnx-int8:reduce_range``, for the others), so the guard on an AVX2-only
    CPU judges the file it builds on real faces too; a CPU without VNNI measures only the 7-bit one (8-bit
    weights saturate there). A record this CPU cannot make (bf16 without bf16, 8-bit int8 without VNNI) is
    kept from the file when it was measured on the same weights and faces.
    """
    import json


    from ..labels import canonical_labels
    from ..model import AGREEMENT_FILE, EmotionModel, _example_crops, checkpoint_hash, int8_calibration, load_model
    from ..model.checkpoint import weights_hash
    from ..model.loading import product_network
    from ..runtime import available_backends, build_runner, compare
    from ..runtime.int8_recipe import record_key

    ref_model = load_model(name, backend="eager").with_temperature(1.0)  # raw softmax, as the load-time guard
    path = ref_model.path
    ref = predict_faces(ref_model, faces)
    hf = product_network(name)     # as load_model builds it, so the agreement holds for what users run
    example = ref_model.preprocess(_example_crops())
    # the model's own order of classes, as EmotionModel expects them
    id2label = json.loads((path / "config.json").read_text(encoding="utf-8"))["id2label"]
    names = [id2label[k] for k in sorted(id2label, key=int)]
    model_labels = canonical_labels(names, source=name)
    calibration, key = int8_calibration(path, name), checkpoint_hash(path)
    weights = weights_hash(path)
    out = {"source": source, "rows": len(faces), "weights": weights, "backends": {}}
    builds = []  # (record key, runner): int8 in both recipes, 8-bit weights (VNNI) and 7-bit (no VNNI)
    for backend, (ok, why) in available_backends().items():
        if backend in ("eager", "auto") or not ok:
            continue
        if backend == "onnx-int8":
            from ..runtime.int8_recipe import needs_reduce_range
            from ..runtime.onnx_int8 import build_onnx_int8

            # 8-bit weights saturate on a CPU without VNNI: measured there they would say nothing of the CPUs
            # they are for, so such a CPU records only the 7-bit recipe and keeps the 8-bit record it has.
            for reduce_range in ((True,) if needs_reduce_range() else (False, True)):
                builds.append((record_key(backend, reduce_range),
                               build_onnx_int8(hf, example, key, calibration, reduce_range=reduce_range)))
        else:
            builds.append((backend, build_runner(hf, example, backend, cache_key=key, check=False,
                                                 calibration=calibration)))
    for record, runner in builds:
        twin = EmotionModel(name, path, model_labels, ref_model.preprocessing, runner, "", mirror=ref_model.mirror)
        got = predict_faces(twin, faces)
        a = compare(np.log(ref + 1e-12), np.log(got + 1e-12))
        out["backends"][record] = {"top1": round(a.top1, 5), "top1_ties": round(a.top1_ties, 5),
                                   "max_prob_diff": round(a.max_prob_diff, 4), "rows": a.rows,
                                   "mean_prob_diff": round(a.mean_prob_diff, 5),
                                   "p99_prob_diff": round(a.p99_prob_diff, 4)}
        if truth is not None:
            labels = tuple(ref_model.labels)
            known = np.array([t in labels for t in truth])
            y = np.array([labels.index(t) for t, k in zip(truth, known) if k])
            acc_ref = float((ref[known].argmax(1) == y).mean())
            acc = float((got[known].argmax(1) == y).mean())
            out["backends"][record].update(accuracy_fp32=round(acc_ref, 5), accuracy=round(acc, 5),
                                           accuracy_drop=round(acc_ref - acc, 5))
        if getattr(runner, "calibration", None) is not None:  # the int8 ranges this agreement holds for
            out["backends"][record]["calibration"] = runner.calibration
        log.info("%s vs fp32 on %s: %s", record, source, a.describe())
    kept = _previous_agreement(path / AGREEMENT_FILE, source, len(faces), weights)
    for record, values in kept.items():
        if record not in out["backends"] and values.get("calibration") in (None, getattr(calibration, "source", None)):
            out["backends"][record] = values
            log.info("%s: kept the record measured before (this CPU cannot measure it faithfully)", record)
    (path / AGREEMENT_FILE).write_text(json.dumps(out, indent=2) + "\n")
    return out
