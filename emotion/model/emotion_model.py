"""The loaded classifier: :class:`EmotionModel` turns face crops into probabilities over canonical labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelLoadError
from ..labels import CANONICAL
from ..types import Emotions
from .checkpoint import check_temperature
from .preprocessing import Preprocessing

#: Crops per forward pass; bounds memory for frames with many faces.
BATCH = 64

_EXAMPLE_ROWS = range(8)  # the warm-up batch's rows; its shape keys the remembered backend decision


def _example_crops(n: int = len(_EXAMPLE_ROWS), side: int = 64) -> list[np.ndarray]:
    """Smooth pseudo-random images (fixed seed) for the runtime's warm-up and agreement check."""
    import cv2

    rng = np.random.default_rng(0)
    return [cv2.resize(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), (side, side),
                       interpolation=cv2.INTER_CUBIC) for _ in range(n)]


class EmotionModel:
    """A loaded classifier: ``predict(crops) -> Emotions`` over canonical labels in canonical order.

    With ``mirror`` each face is also classified mirrored left to right and the
    two probability vectors are averaged (test-time augmentation: a model
    trained with random flips should see both as the same face, and averaging
    cancels some of its noise, at twice the classifier's cost). A checkpoint
    asks for it in ``inference.json``.

    ``temperature`` divides the logits before the softmax (temperature scaling,
    fitted on a selection split so that a face's top probability matches how
    often that answer is right; see :mod:`emotion.training.calibration`). It never
    changes which class wins. It is applied here, after the runtime backend, so
    every backend gets it; a checkpoint stores it in ``inference.json``.

    Safe to share between threads: it holds no per-call state (the runner
    from :mod:`emotion.runtime` is responsible for its own).
    """

    def __init__(self, name: str, path: Path, model_labels: tuple[str, ...], preprocessing: Preprocessing,
                 runner, checkpoint: str, mirror: bool = False, temperature: float = 1.0):
        self.name = name
        self.path = path
        self.preprocessing = preprocessing
        self.checkpoint = checkpoint
        self.mirror = bool(mirror)
        self.temperature = check_temperature(temperature, name)
        self._runner = runner
        self._model_labels = tuple(model_labels)
        order = sorted(range(len(model_labels)), key=lambda i: CANONICAL.index(model_labels[i]))
        self._order = np.asarray(order)
        self.labels: tuple[str, ...] = tuple(model_labels[i] for i in order)

    @property
    def backend(self) -> str:
        return self._runner.name

    @property
    def backend_reason(self) -> str:
        return self._runner.reason

    @property
    def backend_warning(self) -> str | None:
        """Why the accuracy guard would not have picked this backend, when it was asked for by name."""
        return getattr(self._runner, "warning", None)

    @property
    def backend_trials(self) -> tuple:
        """How each backend did when ``auto`` chose (:class:`~emotion.runtime.auto.Trial`); empty otherwise."""
        return tuple(getattr(self._runner, "trials", ()) or ())

    def __repr__(self) -> str:
        return (f"EmotionModel({self.name!r}, labels={self.labels}, backend={self.backend!r}"
                f"{', mirror=True' if self.mirror else ''}"
                f"{f', temperature={self.temperature:g}' if self.temperature != 1.0 else ''})")

    def with_mirror(self, mirror: bool) -> EmotionModel:
        """This model with mirror averaging on or off; a twin sharing the loaded network when it changes."""
        if bool(mirror) == self.mirror:
            return self
        return EmotionModel(self.name, self.path, self._model_labels, self.preprocessing, self._runner,
                            self.checkpoint, mirror=mirror, temperature=self.temperature)

    def with_temperature(self, temperature: float) -> EmotionModel:
        """This model with another temperature (1.0: uncalibrated), sharing the loaded network."""
        if float(temperature) == self.temperature:
            return self
        return EmotionModel(self.name, self.path, self._model_labels, self.preprocessing, self._runner,
                            self.checkpoint, mirror=self.mirror, temperature=temperature)

    def preprocess(self, crops: list[np.ndarray]) -> np.ndarray:
        """Float32 NCHW pixels for ``crops``, as the checkpoint's processor would make them."""
        return self.preprocessing(crops)

    def predict(self, crops: list[np.ndarray]) -> Emotions:
        """Probabilities for each crop (RGB uint8 arrays of any size), at most :data:`BATCH` images a pass."""
        if len(crops) == 0:
            return Emotions.empty(self.labels)
        step = BATCH // 2 if self.mirror else BATCH
        probs = np.concatenate([self.probabilities(self.preprocess(crops[start:start + step]))
                                for start in range(0, len(crops), step)])
        return Emotions(self.labels, probs)

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """Float32 probabilities (N, len(labels)), columns in ``labels`` order, for already preprocessed pixels.

        ``pixels`` is what :meth:`preprocess` returns (N, C, H, W); training uses this to run a
        checkpoint as a distillation teacher on its own augmented batches.
        """
        return views_to_probabilities(self.logits(pixels), self.temperature).astype(np.float32)

    def logits(self, pixels: np.ndarray) -> np.ndarray:
        """Raw logits (views, N, len(labels)) in ``labels`` order: one view, or two with mirror averaging.

        :func:`views_to_probabilities` turns them into what :meth:`probabilities` returns at any
        temperature, so a temperature can be fitted without running the network again.
        """
        x = np.asarray(pixels, np.float32)
        if self.mirror:
            n = len(x)
            z = self._logits(np.concatenate([x, x[..., ::-1]]))
            return np.stack([z[:n], z[n:]])[:, :, self._order]
        return self._logits(x)[None][:, :, self._order]

    def _logits(self, x: np.ndarray) -> np.ndarray:
        logits = np.asarray(self._runner(np.ascontiguousarray(x)), np.float64)
        if logits.ndim != 2 or logits.shape != (len(x), len(self.labels)):
            raise ModelLoadError(f"{self.name}: expected logits of shape ({len(x)}, {len(self.labels)}), "
                                 f"got {logits.shape}")
        return logits


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def views_to_probabilities(views: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Probabilities (N, L) from logits (views, N, L): softmax of logits / temperature, averaged over views.

    >>> views_to_probabilities(np.array([[[0.0, np.log(3.0)]]])).round(2).tolist()
    [[0.25, 0.75]]
    """
    views = np.asarray(views, np.float64)
    return np.mean([_softmax(v / temperature) for v in views], axis=0)


