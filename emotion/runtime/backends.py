"""The backends: which can run on this machine, how each is built, and building one under the guard."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from ..errors import BackendRejected, BackendUnavailable
from . import torch_backends as runtime_torch
from .guard import compare, recipe_mismatch, recorded_agreement, validated_rejection
from .int8_recipe import record_key

log = logging.getLogger(__name__)


def available_backends() -> dict[str, tuple[bool, str]]:
    """Each concrete backend -> (available on this machine, why or why not).

    "Available" means it can be built here; whether it is accurate enough for a
    given model is decided at load by the agreement check.

    >>> available_backends()["eager"]
    (True, 'fp32 PyTorch, always available')
    """
    out: dict[str, tuple[bool, str]] = {"eager": (True, "fp32 PyTorch, always available")}
    ok, why = runtime_torch.bf16_support()
    out["bf16"] = (ok, f"bf16 weights + channels_last: {why}" if ok else why)
    ipex, why = runtime_torch.import_ipex()
    out["ipex"] = (True, f"intel_extension_for_pytorch {ipex.__version__}") if ipex is not None else (False, why)
    from .onnx_int8 import onnx_available

    out["onnx-int8"] = onnx_available()
    return out


# ---------------------------------------------------------------- backends


def _build_onnx_int8(model, example, cache_key, calibration=None):
    from .onnx_int8 import build_onnx_int8

    return build_onnx_int8(model, example, cache_key, calibration)


#: backend name -> builder(model, example, cache_key, calibration=None) -> runner; raises BackendUnavailable.
#: ``calibration`` is the checkpoint's int8 activation ranges (or None); only onnx-int8 uses them.
BUILDERS: dict[str, Callable] = {
    "eager": runtime_torch.build_eager,
    "bf16": runtime_torch.build_bf16,
    "ipex": runtime_torch.build_ipex,
    "onnx-int8": _build_onnx_int8,
}

#: the order ``auto`` tries them in (all are timed; the order only breaks ties)
AUTO_ORDER = ("ipex", "bf16", "onnx-int8")


def checked(name: str, model, example, cache_key, reference, check: bool, validated: dict | None = None,
             calibration=None):
    """Build backend ``name`` and hold it to fp32; raises BackendUnavailable (BackendRejected: it runs, but
    differs from fp32).

    The agreement recorded on real faces for this build (``validated``, under :func:`record_key`: int8
    made for a CPU without VNNI is another recipe) decides where there is one, and the example batch is
    then a smoke test; without one the example batch is held to the whole rule (see :mod:`.guard`).
    """
    key = record_key(name)
    if check and (why := validated_rejection(key, validated)):
        raise BackendRejected(why)
    runner = BUILDERS[name](model, example, cache_key, calibration=calibration)
    if check and (why := recipe_mismatch(key, runner, validated)):
        raise BackendRejected(why)
    try:
        got = runner(example)  # also the warm-up
    except (RuntimeError, ValueError, TypeError) as exc:
        raise BackendUnavailable(f"{name}: failed on the example batch: {type(exc).__name__}: {exc}") from exc
    agreement = compare(reference, got)
    runner.agreement = agreement
    if not check:
        return runner
    on_faces = recorded_agreement(key, validated)
    if on_faces is None and not agreement.ok:
        raise BackendRejected(f"{name}: rejected, differs from fp32: {agreement.why_rejected()}")
    if on_faces is not None and not agreement.runs_as_fp32:
        raise BackendRejected(f"{name}: rejected, differs from fp32: {agreement.why_not_smoke()}")
    if on_faces is None:
        runner.reason = f"{runner.reason}; {agreement.describe()}"
    else:
        source = (validated or {}).get("source", "validation faces")
        runner.reason = f"{runner.reason}; on {source}: {on_faces.describe()}; example batch: {agreement.describe()}"
    return runner


def example_for(model, rows: int = 8) -> np.ndarray:
    """A fixed pseudo-random batch shaped for ``model`` (from its config), for when none is given."""
    config = model.config
    size = getattr(config, "image_size", None)
    if size is None:
        raise BackendUnavailable("no example batch given and the model config has no image_size; "
                                 "pass an example batch of preprocessed images")
    h, w = (size, size) if isinstance(size, int) else tuple(size)[:2]
    rng = np.random.default_rng(0)
    return rng.standard_normal((rows, int(getattr(config, "num_channels", 3)), h, w)).astype(np.float32)
