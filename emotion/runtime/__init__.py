"""How a model is run fast on this CPU: eager fp32, bf16 (AMX / AVX-512), IPEX, ONNX int8.

``build_runner(model, example, backend="auto", cache_key=None) -> Runner``
    ``model`` is a transformers image-classification model (torch, eval mode),
    ``example`` a float32 numpy batch (N, C, H, W) used for warm-up, for the
    agreement check against fp32 and, for ``auto``, for timing. Returns a
    callable runner: ``runner.name`` (``eager``/``bf16``/``ipex``/``onnx-int8``),
    ``runner.reason`` (why this backend runs, for display) and
    ``runner(pixel_values float32 NCHW) -> float32 logits (N, L)``.

Every backend other than fp32 eager is checked on ``example`` at load: if its
top-1 class agrees with fp32 on fewer than :data:`MIN_AGREEMENT` of the rows
(a flip between classes fp32 rates within :data:`TIE_MARGIN` of each other
counts as agreeing), or any class probability differs by more than
:data:`MAX_PROB_DIFF`, it is rejected with a logged reason. An explicitly
requested backend that is unavailable or rejected raises
:class:`~emotion.errors.BackendUnavailable`; ``auto`` moves on to the next one
and keeps the reasons for display.

The PyTorch backends live in :mod:`emotion.runtime.torch_backends`, the ONNX one in
:mod:`emotion.runtime.onnx_int8`; :data:`BUILDERS` maps names to them.

>>> runner = build_runner(model, example, "auto", cache_key="3f2a...")   # doctest: +SKIP
>>> runner.name, runner.reason                                           # doctest: +SKIP
('onnx-int8', 'auto: onnx-int8 is the fastest on the example batch of 8 (onnx-int8 33.4 ms, eager 86.7 ms, ...')
>>> logits = runner(pixel_values)                                        # doctest: +SKIP
"""

from __future__ import annotations

import logging

import numpy as np

from ..errors import BackendRejected, BackendUnavailable
from ..settings import BACKENDS
from .auto import AUTO_TIME_BUDGET_S, Trial, choose_auto
from .backends import AUTO_ORDER, BUILDERS, available_backends, checked, example_for
from .guard import MAX_PROB_DIFF, MIN_AGREEMENT, TIE_MARGIN, Agreement, compare, softmax
from .torch_backends import TorchRunner, bf16_support, cpu_flags, import_ipex, logits_module

__all__ = ["AUTO_ORDER", "AUTO_TIME_BUDGET_S", "Agreement", "BACKENDS", "BUILDERS", "MAX_PROB_DIFF", "MIN_AGREEMENT",
           "TIE_MARGIN", "TorchRunner", "Trial", "available_backends", "bf16_support", "build_runner", "compare",
           "cpu_flags", "example_for", "import_ipex", "logits_module", "softmax"]

log = logging.getLogger(__name__)


class _Reference:
    """fp32 logits of the example batch, computed on first use (a remembered ``eager`` choice needs none)."""

    def __init__(self, eager, example: np.ndarray):
        self._eager, self._example, self._logits = eager, example, None

    def __call__(self) -> np.ndarray:
        if self._logits is None:
            self._logits = self._eager(self._example)
        return self._logits


def build_runner(model, example: np.ndarray | None = None, backend: str = "auto", cache_key: str | None = None,
                 *, check: bool = True, validated: dict | None = None, calibration=None,
                 expected_faces: int | None = None):
    """A runner for ``model`` on ``backend`` (see the module docstring).

    ``cache_key`` names the checkpoint (its hash): the ONNX int8 file is cached
    under it, and ``auto`` only tries ONNX when it is given (exporting on every
    load would cost seconds). ``check=False`` skips the agreement guard (the
    benchmark uses it to measure rejected backends too). ``validated`` is a checkpoint's recorded
    agreement on real faces (``backend_agreement.json``); a backend that fails it there is rejected.
    ``calibration`` (:class:`~emotion.runtime.int8_recipe.Calibration`, ``int8_calibration.json``) gives
    onnx-int8 activation ranges measured on real faces instead of the example batch's.
    ``expected_faces`` says the job is small (``auto`` then weighs build time against speed, see
    :mod:`emotion.runtime.auto`); None: a long job, the fastest backend.
    """
    if backend not in BACKENDS:
        raise BackendUnavailable(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    model.eval()
    if example is None:
        if backend == "eager":
            return BUILDERS["eager"](model, None, cache_key)
        example = example_for(model)
        log.info("no example batch given; validating on a pseudo-random batch %s", example.shape)
    example = np.ascontiguousarray(example, dtype=np.float32)
    if example.ndim != 4 or len(example) == 0:
        raise BackendUnavailable(f"example batch must be float32 (N, C, H, W) with N >= 1, got shape {example.shape}")
    eager = BUILDERS["eager"](model, example, cache_key)
    if backend == "eager":
        return eager
    reference = _Reference(eager, example)  # fp32 logits, computed once, and only if a backend is checked
    if backend != "auto":
        try:
            runner = checked(backend, model, example, cache_key, reference(), check, validated, calibration)
        except BackendRejected as rejected:
            # Asked for by name: honoured, with a warning that says why auto would not pick it.
            try:
                runner = checked(backend, model, example, cache_key, reference(), False, validated, calibration)
            except BackendUnavailable as exc:
                raise BackendUnavailable(f"{exc}. Use backend 'auto' (picks one that works) or 'eager'") from exc
            runner.warning = (f"{backend} is used as asked, although the accuracy guard would not pick it: "
                              f"{rejected}")
            runner.reason = f"{runner.warning}; {runner.agreement.describe()}"
            log.warning("%s", runner.warning)
            return runner
        except BackendUnavailable as exc:
            raise BackendUnavailable(f"{exc}. Use backend 'auto' (picks one that works) or 'eager'") from exc
        log.info("backend %s: %s", runner.name, runner.reason)
        return runner
    return choose_auto(model, example, cache_key, eager, reference, check, validated, calibration,
                       expected_faces=expected_faces)
