"""The PyTorch backends of :mod:`emotion.runtime` (eager, bf16, ipex) and what the CPU can do.

Kept apart from the selection logic in :mod:`emotion.runtime`; the ONNX
backend lives in :mod:`emotion.runtime.onnx_int8`.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import BackendUnavailable

log = logging.getLogger(__name__)


def cpu_flags(path: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU feature flags the kernel reports (empty where /proc/cpuinfo is absent)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def bf16_support() -> tuple[bool, str]:
    """Whether this CPU runs bf16 matrix maths natively (AMX or AVX-512 bf16), and how we know."""
    flags = cpu_flags()
    if "amx_bf16" in flags:
        return True, "CPU has AMX bf16 tiles"
    if "avx512_bf16" in flags:
        return True, "CPU has AVX-512 bf16"
    import torch

    capability = str(torch.backends.cpu.get_cpu_capability())
    if "AMX" in capability.upper() or "BF16" in capability.upper():
        return True, f"PyTorch reports CPU capability {capability}"
    shown = capability if not flags else f"{capability}; no amx_bf16/avx512_bf16 in /proc/cpuinfo"
    return False, f"CPU lacks AMX and AVX-512 bf16 ({shown}): bf16 would be emulated and slow"


def import_ipex():
    """``(module, "")`` if intel_extension_for_pytorch imports and matches torch, else ``(None, reason)``.

    IPEX is archived; its last release (2.8) is built for torch 2.8 and its
    import raises (AttributeError with newer torch), so any exception at import
    means "not available" and the reason is kept for display.
    """
    import importlib

    import torch

    try:
        ipex = importlib.import_module("intel_extension_for_pytorch")
    except ModuleNotFoundError:
        return None, "intel_extension_for_pytorch is not installed (see README, Fast inference)"
    except Exception as exc:  # noqa: BLE001 - any failure inside a third-party import means unavailable
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return None, f"intel_extension_for_pytorch fails to import: {type(exc).__name__}: {first}"
    version = str(getattr(ipex, "__version__", "unknown"))
    if _major_minor(version) != _major_minor(torch.__version__):
        return None, (f"intel_extension_for_pytorch {version} is built for torch {_major_minor(version)}, "
                      f"but torch is {torch.__version__}")
    if not callable(getattr(ipex, "optimize", None)):
        return None, f"intel_extension_for_pytorch {version} has no optimize()"
    return ipex, ""


def _major_minor(version: str) -> str:
    return ".".join(version.split("+")[0].split(".")[:2])


FUSION_ENV = "EMOTION_ONEDNN_FUSION"


def onednn_fusion() -> tuple[bool, str]:
    """Whether the bf16 backend should let oneDNN Graph fuse its TorchScript graph, and why not if not.

    On by default where torch has it; ``EMOTION_ONEDNN_FUSION=0`` turns it off.
    """
    import torch

    if os.environ.get(FUSION_ENV, "").strip().lower() in {"0", "false", "no", "off"}:
        return False, f"{FUSION_ENV}={os.environ[FUSION_ENV]}"
    if not callable(getattr(torch.jit, "enable_onednn_fusion", None)):
        return False, f"torch {torch.__version__} has no oneDNN Graph fusion"
    return True, ""


def bucket(rows: int) -> int:
    """The batch size a ``rows``-row batch is padded to: the next power of two.

    A fused graph is compiled once per input shape (about 50 ms for the bundled
    model) and TorchScript stops specialising after about a dozen shapes, so
    batches are padded to a few fixed sizes: 1, 2, 4, ..., 64.
    """
    return 1 << max(rows - 1, 0).bit_length()


class TorchRunner:
    """Runs a torch module; optionally casts the input (bf16) and/or uses channels_last.

    ``pad=True`` pads each batch to :func:`bucket` rows (copies of its last row)
    and drops the padding from the result. ``fallback`` is ``(module, how)`` to
    switch to, once and for good, if ``module`` raises a RuntimeError (a fused
    graph is compiled lazily, per input shape, so a new shape can make it fail).
    """

    agreement = None   # an Agreement once the guard has checked it
    trials = ()        # what ``auto`` measured, when it chose this runner

    def __init__(self, name: str, module, reason: str, dtype=None, channels_last: bool = False,
                 autocast: bool = False, pad: bool = False, fallback=None):
        self.name = name
        self.reason = reason
        self.module = module
        self.dtype = dtype
        self.channels_last = channels_last
        self.autocast = autocast
        self.pad = pad
        self.fallback = fallback
        self._warm: set[tuple[int, ...]] = set()   # input shapes a TorchScript graph has been optimised for

    def __call__(self, pixel_values: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(pixel_values, dtype=np.float32))
        rows = x.shape[0] if x.ndim else 0
        if self.pad and rows and bucket(rows) != rows:
            x = torch.cat([x, x[-1:].expand(bucket(rows) - rows, *x.shape[1:])])
        if self.dtype is not None:
            x = x.to(self.dtype)
        if self.channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        try:
            if tuple(x.shape) not in self._warm and isinstance(self.module, torch.jit.ScriptModule):
                # TorchScript runs a graph unoptimised the first time it meets a shape (profiling) and
                # fused after; the numbers differ slightly (up to 4e-3 in bf16). Run a new shape once
                # first, so that a face's result never depends on which shapes this process saw before.
                self._run(x)
                self._warm.add(tuple(x.shape))
            out = self._run(x)
        except RuntimeError as exc:
            if self.fallback is None:
                raise
            log.warning("%s: the compiled graph failed on a batch of shape %s (%s); using %s from now on",
                        self.name, tuple(x.shape), str(exc).splitlines()[0][:200], self.fallback[1])
            self.module, how = self.fallback
            self.fallback = None
            self.reason = f"{self.reason}; switched to {how} after an error"
            out = self._run(x)
        logits = out if isinstance(out, torch.Tensor) else out["logits"] if isinstance(out, dict) else out.logits
        return logits[:rows].float().numpy()

    def _run(self, x):
        import torch

        with torch.inference_mode():
            if self.autocast:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return self.module(x)
            return self.module(x)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {self.reason}>"


@functools.cache
def _logits_class():
    import torch

    class Logits(torch.nn.Module):
        """Calls a transformers model with ``pixel_values`` and returns the logits tensor only."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values):
            return self.inner(pixel_values=pixel_values).logits

    return Logits


def _name_the_loss(model) -> None:
    """Give every transformers sub-model the wrapped model's loss, so tracing does not warn.

    TorchScript probes every attribute of every submodule. A base model inside a classifier
    (``ResNetModel`` in ``ResNetForImageClassification``) has no loss of its own, and reading its
    ``loss_function`` makes transformers warn "`loss_type=None` ... Using the default loss:
    `ForCausalLMLoss`" on every load. Inference never computes a loss; naming the classifier's
    one on the inner modules removes the cause of the warning.
    """
    loss_type = getattr(model, "loss_type", None)
    if loss_type is None:
        return
    for sub in model.modules():
        if sub is not model and hasattr(sub, "loss_type") and getattr(sub, "loss_type", None) is None:
            sub.loss_type = loss_type


def logits_module(model):
    """``model`` wrapped so that ``module(pixel_values) -> logits`` (for bf16 copies, tracing, ONNX export)."""
    _name_the_loss(model)
    return _logits_class()(model).eval()


def build_eager(model, example, cache_key, calibration=None):  # calibration: int8 only
    return TorchRunner("eager", logits_module(model), "fp32 PyTorch")


def build_bf16(model, example, cache_key, calibration=None):  # calibration: int8 only
    ok, why = bf16_support()
    if not ok:
        raise BackendUnavailable(f"bf16: {why}")
    import torch

    # A bf16 copy of the weights beats autocast here: autocast re-casts every
    # weight on every call (measured 1.2-1.7x slower, see README Fast inference).
    # Freezing a trace folds batch norms into the convolutions: 1.2-1.6x less CPU
    # time on the bundled ResNet, no change on ViT. oneDNN Graph fusion on top
    # (matmul/conv + bias + activation): 1.7-2.3x on the bundled ResNet, 1.3-1.7x
    # on ViT-base (batch 1 and 64/16, README, Fast inference).
    module = copy.deepcopy(logits_module(model)).to(dtype=torch.bfloat16, memory_format=torch.channels_last)
    fuse, why_not = onednn_fusion()
    traced, how = _traced(module, example, autocast=False, dtype=torch.bfloat16, fuse=fuse)
    if traced is module:
        fuse = False
    elif not fuse and why_not:
        how = f"{how} (no oneDNN Graph fusion: {why_not})"
    runner = TorchRunner("bf16", traced, f"bf16 weights + channels_last, {how} ({why})", dtype=torch.bfloat16,
                         channels_last=True, pad=fuse, fallback=(module, "eager mode") if fuse else None)
    if fuse:  # compile the example's shape now, so that the guard and auto's race time the fused graph
        runner(example)
        runner(example)
    return runner


def build_ipex(model, example, cache_key, calibration=None):  # calibration: int8 only
    ipex, why = import_ipex()
    if ipex is None:
        raise BackendUnavailable(f"ipex: {why}")
    import torch

    use_bf16, _ = bf16_support()
    module = copy.deepcopy(logits_module(model)).to(memory_format=torch.channels_last)
    dtype = torch.bfloat16 if use_bf16 else torch.float32
    try:
        module = ipex.optimize(module, dtype=dtype, inplace=True)
    except Exception as exc:  # a third-party optimiser may fail in any way
        raise BackendUnavailable(f"ipex: ipex.optimize failed: {type(exc).__name__}: {exc}") from exc
    precision = "bf16 autocast" if use_bf16 else "fp32"
    # IPEX fuses operators (conv+bn+relu, linear+gelu, ...) only in a frozen TorchScript
    # graph; measured 2.9x faster than the optimised eager module on the bundled ResNet.
    module, how = _traced(module, example, autocast=use_bf16)
    return TorchRunner("ipex", module, f"ipex.optimize, {how}, {precision} (intel_extension_for_pytorch "
                       f"{getattr(ipex, '__version__', '?')})", channels_last=True, autocast=use_bf16)


def _traced(module, example, autocast: bool, dtype=None, fuse: bool = False):
    """``(frozen TorchScript of module, how)``, or ``(module, "eager mode")`` if tracing fails.

    Traced on two rows of ``example`` (cast to ``dtype``); the batch size stays free.
    ``fuse`` turns on oneDNN Graph fusion, which is process-wide in torch: once on,
    every TorchScript graph run in this process is offered to oneDNN.
    """
    import torch

    if example is None:
        return module, "eager mode"
    x = torch.from_numpy(np.ascontiguousarray(example[:2], dtype=np.float32)).to(dtype or torch.float32)
    x = x.contiguous(memory_format=torch.channels_last)
    if fuse:
        torch.jit.enable_onednn_fusion(True)
    try:
        with warnings.catch_warnings(), torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                                              enabled=autocast):
            warnings.simplefilter("ignore")
            traced = torch.jit.freeze(torch.jit.trace(module, x, check_trace=False))
            for _ in range(3):  # the second call runs the fusion passes; fail here, not on a user's batch
                traced(x)
    except (RuntimeError, TypeError, ValueError) as exc:
        log.info("tracing failed (%s); running the module in eager mode", exc)
        return module, "eager mode"
    return traced, "frozen TorchScript" + (" with oneDNN Graph fusion" if fuse else "")
