"""Teachers for knowledge distillation: trained checkpoints whose predictions become training targets.

A student trained on ``(1 - w) * votes + w * teacher probabilities`` learns, on every
augmented view, how an already-trained model (or the average of several) spreads its
belief over the classes: information the ten FER+ votes of the un-augmented face do
not carry. The teachers are ordinary checkpoints, loaded like any model of the tool
(:func:`emotion.model.load_model`, bf16 where the CPU has it), and they run frozen
on the very batch the student sees.

>>> teacher = Teacher.load(["emotion/models/ferplus-resnet"], labels=CANONICAL)  # doctest: +SKIP
>>> probs = teacher(x)   # x: the student's normalised grey batch (B, 1, S, S)     # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..errors import ModelLoadError

log = logging.getLogger(__name__)


def _check_preprocessing(model) -> int:
    """The teacher's square input side; refuses normalisations other than the student's (x/255 - 0.5) / 0.5."""
    pre = model.preprocessing
    if not (pre.rescale and np.isclose(pre.rescale, 1 / 255) and pre.mean and np.allclose(pre.mean, 0.5)
            and pre.std and np.allclose(pre.std, 0.5)):
        raise ModelLoadError(f"teacher {model.name}: normalisation (rescale {pre.rescale}, mean {pre.mean}, std "
                             f"{pre.std}) differs from the student's (1/255, 0.5, 0.5); use a teacher exported "
                             f"by this project's training")
    h, w = pre.output_size
    if h != w:
        raise ModelLoadError(f"teacher {model.name}: expected a square input size, got {h}x{w}")
    return h


@dataclass(frozen=True)
class Teacher:
    """Frozen models whose averaged probabilities, in the student's label order, are distillation targets."""

    models: tuple          # EmotionModel, mirror averaging off
    sides: tuple[int, ...]
    columns: tuple[tuple[int, ...], ...]  # per model: its column for each student label

    @classmethod
    def load(cls, paths, labels: tuple[str, ...]) -> "Teacher":
        from ..model import load_model
        from ..runtime.torch_backends import bf16_support

        backend = "bf16" if bf16_support()[0] else "eager"
        models, sides, columns = [], [], []
        for p in map(str, paths):
            # raw probabilities: the student learns vote shares, which a calibration temperature would sharpen
            m = load_model(p, backend=backend, mirror=False).with_temperature(1.0)
            missing = [l for l in labels if l not in m.labels]
            if missing:
                raise ModelLoadError(f"teacher {p} has no class {', '.join(missing)}; its labels are "
                                     f"{list(m.labels)}, the student's {list(labels)}")
            sides.append(_check_preprocessing(m))
            models.append(m)
            columns.append(tuple(m.labels.index(l) for l in labels))
            log.info("teacher %s: %s, %d px", p, m.backend, sides[-1])
        if not models:
            raise ModelLoadError("no teacher given")
        return cls(tuple(models), tuple(sides), tuple(columns))

    def __call__(self, x):
        """Mean teacher probabilities (B, n_labels) for the student's normalised grey batch (B, 1, S, S)."""
        import torch
        import torch.nn.functional as F

        total = None
        for model, side, cols in zip(self.models, self.sides, self.columns):
            xt = x.detach().float()
            if xt.shape[-1] != side:
                xt = F.interpolate(xt, size=(side, side), mode="bilinear", align_corners=False)
            # Our exported checkpoints take RGB through a luminance split of the grey first convolution,
            # so a grey image repeated on three channels gives the grey result.
            xt = xt.expand(-1, model.preprocessing.channels, -1, -1).numpy()
            p = model.probabilities(xt)[:, list(cols)]
            p = torch.from_numpy(p / p.sum(1, keepdims=True))
            total = p if total is None else total + p
        return total / len(self.models)
