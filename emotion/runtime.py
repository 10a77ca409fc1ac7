"""How a model is run: a placeholder with the eager backend only.

CONTRACT (the runtime issue replaces this module's body, keeping this API):

``build_runner(model, example, backend="auto", cache_key=None) -> Runner``
    ``model`` is a transformers image-classification model (torch, eval mode),
    ``example`` a float32 numpy batch (N, C, H, W) used for warm-up and for the
    agreement check against fp32. Returns a callable runner.

``Runner``: ``runner.name`` (``eager``/``bf16``/``ipex``/``onnx-int8``),
``runner.reason`` (why this backend was chosen, for display) and
``runner(pixel_values: np.ndarray float32 NCHW) -> np.ndarray float32 logits (N, L)``.
"""

from __future__ import annotations

import numpy as np

from .errors import BackendUnavailable

BACKENDS = ("auto", "eager", "bf16", "ipex", "onnx-int8")


class EagerRunner:
    name = "eager"

    def __init__(self, model, reason: str = "fp32 PyTorch"):
        self.model = model
        self.reason = reason

    def __call__(self, pixel_values: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.model(pixel_values=torch.from_numpy(np.ascontiguousarray(pixel_values, dtype=np.float32)))
        return out.logits.float().numpy()


def build_runner(model, example: np.ndarray | None = None, backend: str = "auto", cache_key: str | None = None):
    if backend not in BACKENDS:
        raise BackendUnavailable(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend not in ("auto", "eager"):
        raise BackendUnavailable(f"backend {backend!r} is not implemented yet; use 'eager' or 'auto'")
    return EagerRunner(model, "fp32 PyTorch (only backend built so far)")
