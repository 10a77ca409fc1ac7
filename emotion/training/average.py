"""Averaging the weights of checkpoints that were fine-tuned from the same starting weights.

Two cosine cycles started from one checkpoint end in nearby points of the same
basin; the average of their weights (a "model soup") is often more accurate than
either, at no cost at inference: it is one network of the same size. Networks
trained from different random starts do not average (their units are not
aligned), so the checkpoints must share their lineage; the result is only worth
shipping when it scores higher on the selection split, which
:func:`average_checkpoints` does not check by itself (``python -m emotion average
--fer2013 ... --ferplus ...`` scores it on PublicTest).

Batch-norm running statistics are averaged like the other weights. Recomputing
them on clean Training faces was measured on the bundled model's soup and lost
accuracy (the network was trained on augmented faces, whose statistics it keeps).

>>> average_checkpoints(["runs/a/checkpoint", "runs/b/checkpoint"], "runs/soup")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import ModelLoadError, SettingsError
from .model_def import ArchConfig, build_model, export_checkpoint, grey_state_from_checkpoint


def arch_of_checkpoint(path: str | Path) -> ArchConfig:
    """The :class:`ArchConfig` of a checkpoint written by :func:`export_checkpoint` (its config and input side)."""
    path = Path(path)
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        pre = json.loads((path / "preprocessor_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path}: not a checkpoint written by `python -m emotion train` ({exc})") from exc
    if config.get("model_type") != "resnet" or "hidden_sizes" not in config:
        raise ModelLoadError(f"{path}: config.json is not a ResNet checkpoint of this project "
                             f"(model_type {config.get('model_type')!r}); only those can be averaged")
    size = pre.get("size", {})
    if size.get("height") != size.get("width") or not isinstance(size.get("height"), int):
        raise ModelLoadError(f"{path}: preprocessor_config.json needs a square size, got {size!r}")
    id2label = config.get("id2label", {})
    labels = tuple(id2label[k] for k in sorted(id2label, key=int))
    return ArchConfig(side=size["height"], widths=tuple(config["hidden_sizes"]), depths=tuple(config["depths"]),
                      labels=labels)


def _weights(weights, n: int) -> list[float]:
    if weights is None:
        return [1.0 / n] * n
    w = [float(v) for v in weights]
    if len(w) != n:
        raise SettingsError(f"--weights: {len(w)} weights for {n} checkpoints; give one per checkpoint")
    if any(not math.isfinite(v) or v < 0 for v in w) or sum(w) <= 0:
        raise SettingsError(f"--weights must be non-negative numbers with a positive sum, got {list(weights)}")
    return [v / sum(w) for v in w]


def average_state(paths, weights=None) -> tuple[ArchConfig, dict]:
    """The weighted average of the checkpoints' grey-model weights, and their common architecture.

    Raises SettingsError for fewer than two checkpoints or ones of different widths, depths or labels.
    """
    paths = [Path(p) for p in paths]
    if len(paths) < 2:
        raise SettingsError(f"averaging needs at least two checkpoints, got {len(paths)}")
    w = _weights(weights, len(paths))
    archs = [arch_of_checkpoint(p) for p in paths]
    for p, a in zip(paths[1:], archs[1:]):
        if (a.widths, a.depths, a.labels) != (archs[0].widths, archs[0].depths, archs[0].labels):
            raise SettingsError(f"{p} (widths {list(a.widths)}, depths {list(a.depths)}, labels {list(a.labels)}) "
                                f"cannot be averaged with {paths[0]} (widths {list(archs[0].widths)}, depths "
                                f"{list(archs[0].depths)}, labels {list(archs[0].labels)})")
    states = [grey_state_from_checkpoint(p, a, option="averaging") for p, a in zip(paths, archs)]
    out = {}
    for k, v0 in states[0].items():
        out[k] = sum(s[k] * wi for s, wi in zip(states, w)) if v0.is_floating_point() else v0.clone()
    return archs[0], out


def average_checkpoints(paths, out_dir, weights=None, side: int | None = None,
                        storage: str = "float16") -> Path:
    """Write the average of ``paths`` (exported checkpoints) as a new checkpoint in ``out_dir``.

    ``side`` is the input side of the result (default: the first checkpoint's). The
    training summary names the checkpoints, their weights and their own summaries.
    """
    arch, state = average_state(paths, weights)
    if side is not None:
        if side < 16:
            raise SettingsError(f"--side must be at least 16 px, got {side}")
        arch = ArchConfig(side=side, widths=arch.widths, depths=arch.depths, labels=arch.labels)
    model = build_model(arch, num_channels=1)
    model.load_state_dict(state)
    parts = []
    for p, wi in zip(paths, _weights(weights, len(paths))):
        summary_file = Path(p) / "training_summary.json"
        summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.is_file() else None
        parts.append({"checkpoint": str(p), "weight": round(wi, 6), "summary": summary})
    extra = {"averaged": parts, "arch": arch.to_dict(), "storage": storage}
    return export_checkpoint(model, arch, out_dir, extra=extra, storage=storage)
