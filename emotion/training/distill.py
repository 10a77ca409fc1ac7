"""Teachers for knowledge distillation: trained checkpoints whose predictions become training targets.

A student trained on ``(1 - w) * votes + w * teacher probabilities`` learns, on every
augmented view, how an already-trained model (or the average of several) spreads its
belief over the classes: information the ten FER+ votes of the un-augmented face do
not carry. The teachers are ordinary Hugging Face checkpoints, such as an earlier
bundled model; they run frozen, in bf16 where the CPU has it, on the very batch the
student sees.

>>> teacher = Teacher.load(["emotion/models/ferplus-resnet"], labels=CANONICAL, side=80)  # doctest: +SKIP
>>> probs = teacher(x)   # x: the student's normalised grey batch (B, 1, 80, 80)           # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError

log = logging.getLogger(__name__)


def _preprocessing(path: Path) -> int:
    """The checkpoint's square input side; refuses normalisations other than the student's (x/255 - 0.5) / 0.5."""
    f = path / "preprocessor_config.json"
    if not f.exists():
        raise ModelLoadError(f"teacher {path}: no preprocessor_config.json; a teacher must be a checkpoint "
                             f"exported by `python -m emotion train`")
    pre = json.loads(f.read_text())
    mean, std = pre.get("image_mean", [0.5] * 3), pre.get("image_std", [0.5] * 3)
    if not (np.allclose(mean, 0.5) and np.allclose(std, 0.5) and np.isclose(pre.get("rescale_factor", 1 / 255), 1 / 255)):
        raise ModelLoadError(f"teacher {path}: normalisation mean {mean}, std {std} differs from the student's "
                             f"(0.5, 0.5); use a teacher exported by this project's training")
    size = pre.get("size", {})
    h, w = size.get("height", size.get("shortest_edge")), size.get("width", size.get("shortest_edge"))
    if not h or h != w:
        raise ModelLoadError(f"teacher {path}: expected a square input size, got {size}")
    return int(h)


@dataclass
class Teacher:
    """Frozen models whose averaged probabilities, in the student's label order, are distillation targets."""

    paths: tuple[str, ...]
    runners: list          # callables: float (B, 3, side, side) numpy -> logits numpy
    sides: list[int]
    orders: list[list[int]]  # teacher column for each student label

    @classmethod
    def load(cls, paths, labels: tuple[str, ...], side: int) -> "Teacher":
        import torch
        from transformers import AutoModelForImageClassification

        from ..runtime_torch import bf16_support, build_bf16, build_eager

        runners, sides, orders = [], [], []
        for p in map(Path, paths):
            if not (p / "config.json").exists():
                raise ModelLoadError(f"teacher {p}: not a checkpoint directory (no config.json)")
            t_side = _preprocessing(p)
            try:
                model = AutoModelForImageClassification.from_pretrained(p, dtype=torch.float32).eval()
            except (OSError, ValueError) as exc:
                raise ModelLoadError(f"teacher {p}: could not be loaded ({exc})") from exc
            t_labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
            missing = [l for l in labels if l not in t_labels]
            if missing:
                raise ModelLoadError(f"teacher {p} has no class {', '.join(missing)}; its labels are {t_labels}, "
                                     f"the student's {list(labels)}")
            example = np.zeros((2, model.config.num_channels, t_side, t_side), np.float32)
            runner = build_bf16(model, example, None) if bf16_support()[0] else build_eager(model, example, None)
            runners.append(runner)
            sides.append(t_side)
            orders.append([t_labels.index(l) for l in labels])
            log.info("teacher %s: %s, %d px", p, runner.name, t_side)
        if not runners:
            raise ModelLoadError("no teacher given")
        return cls(tuple(map(str, paths)), runners, sides, orders)

    def __call__(self, x):
        """Mean teacher probabilities (B, n_labels) for the student's normalised grey batch (B, 1, S, S)."""
        import torch
        import torch.nn.functional as F

        total = None
        with torch.inference_mode():
            for runner, t_side, order in zip(self.runners, self.sides, self.orders):
                xt = x.detach().float()
                if xt.shape[-1] != t_side:
                    xt = F.interpolate(xt, size=(t_side, t_side), mode="bilinear", align_corners=False)
                # A checkpoint exported by our training takes RGB whose first convolution is a luminance
                # split of the grey one, so a grey image repeated on three channels gives the grey result.
                xt = xt.expand(-1, 3, -1, -1).numpy()
                p = torch.from_numpy(runner(xt))[:, order].float().softmax(1)
                total = p if total is None else total + p
        return (total / len(self.runners)).clone()
