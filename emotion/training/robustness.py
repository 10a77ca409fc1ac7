"""How a face reads at the back of a dark room: the room degradation and the robustness metric.

A screening-room camera sees faces small, dim and noisy. :func:`room_degrade`
makes a FER face look like that: shrunk to ``face_px`` (area resampling, as a
camera's sensor sums light), dimmed to ``dim`` of its brightness, with sensor
noise of ``noise`` grey levels added at that small size and the result kept as
8-bit pixels, as a camera stores them. The model then reads the small face through
its own preprocessing (which scales it up), exactly as it reads a small crop in
a film or a reaction recording.

:func:`robustness` is the share of faces whose top emotion survives: the model's
reading of the degraded face against its reading of the clean one (not against
the label: it measures stability, accuracy is measured apart). The same numbers
are used to choose (PublicTest) and to report (PrivateTest).

>>> import numpy as np
>>> faces = np.full((2, 48, 48), 128, np.uint8)
>>> room_degrade(faces, 32, seed=0).shape
(2, 32, 32)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The degradation the field check used: about 45 px faces dimmed to 55 % with sensor noise of sigma 6.
ROOM_DIM = 0.55
ROOM_NOISE = 6.0
ROOM_SIZES = (45, 32)


def room_degrade(faces: np.ndarray, face_px: int, dim: float = ROOM_DIM, noise: float = ROOM_NOISE,
                 seed: int = 0) -> np.ndarray:
    """uint8 faces (N, H, W) -> (N, face_px, face_px) uint8: shrunk, dimmed, with sensor noise.

    The noise is seeded, so a metric computed twice gives the same number.
    """
    import cv2

    faces = np.asarray(faces)
    if faces.ndim != 3:
        raise ValueError(f"room_degrade: expected grey faces (N, H, W), got shape {faces.shape}")
    if not 8 <= int(face_px) <= 512:
        raise ValueError(f"room_degrade: face_px must be 8 to 512, got {face_px}")
    rng = np.random.default_rng(seed)
    out = np.empty((len(faces), face_px, face_px), np.uint8)
    for i, face in enumerate(faces):
        small = cv2.resize(face, (face_px, face_px), interpolation=cv2.INTER_AREA).astype(np.float32)
        small = small * dim + rng.normal(0.0, noise, small.shape)
        out[i] = np.clip(np.rint(small), 0, 255).astype(np.uint8)
    return out


@dataclass(frozen=True)
class Robustness:
    """Share of faces whose top emotion at ``face_px`` is the one read at full size, per size."""

    kept: dict[int, float]
    faces: int
    dim: float = ROOM_DIM
    noise: float = ROOM_NOISE
    #: Accuracy of the room reading against the labels, per size (when labels were given).
    accuracy: dict[int, float] | None = None
    #: What read the small faces when it is not the model read at full size (a size-routed pair).
    small_model: str = ""

    def to_dict(self) -> dict:
        return {"kept": {str(k): round(v, 4) for k, v in self.kept.items()}, "faces": self.faces,
                "dim": self.dim, "noise": self.noise,
                **({"accuracy": {str(k): round(v, 4) for k, v in self.accuracy.items()}} if self.accuracy else {}),
                **({"small_model": self.small_model} if self.small_model else {})}

    def describe(self) -> str:
        sizes = ", ".join(f"{v:.1%} at {k} px" for k, v in self.kept.items())
        text = f"top emotion kept in a dim, noisy room ({self.dim:.0%} light, noise {self.noise:g}): {sizes}"
        if self.accuracy:
            text += "; accuracy there " + ", ".join(f"{v:.4f} at {k} px" for k, v in self.accuracy.items())
        if self.small_model:
            text += f" (small faces read by {self.small_model})"
        return text


def robustness(predict, faces: np.ndarray, sizes=ROOM_SIZES, dim: float = ROOM_DIM, noise: float = ROOM_NOISE,
               seed: int = 0, clean: np.ndarray | None = None, *, small_predict=None, small_model: str = "",
               truth: np.ndarray | None = None) -> Robustness:
    """The share of ``faces`` whose top emotion survives :func:`room_degrade` at each size.

    ``predict(list of uint8 faces) -> (N, classes) probabilities`` is the model as users run it
    (e.g. :func:`emotion.training.evaluate.predict_faces` bound to a model). ``clean`` (its
    probabilities on the full-size faces) saves a pass when the caller has them. ``small_predict``
    reads the degraded faces instead (a pair routed by face size: ``predict`` for close-ups,
    ``small_predict``, named ``small_model``, at the back of the room; same classes in the same
    order). ``truth`` (class indices in that order, -1 for none) adds the room reading's accuracy.
    """
    faces = np.asarray(faces)
    top = np.asarray(clean if clean is not None else predict(list(faces))).argmax(1)
    read_small = small_predict or predict
    kept, accuracy = {}, {}
    for size in sizes:
        small = room_degrade(faces, size, dim, noise, seed=seed + size)
        read = np.asarray(read_small(list(small))).argmax(1)
        kept[int(size)] = float((read == top).mean()) if len(faces) else 0.0
        if truth is not None and len(faces):
            accuracy[int(size)] = float((read == np.asarray(truth)).mean())
    return Robustness(kept, len(faces), dim, noise, accuracy or None, small_model if small_predict else "")
