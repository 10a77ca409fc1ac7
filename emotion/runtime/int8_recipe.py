"""How the ``onnx-int8`` file is made: the fp32 export, the quantisation recipe, the activation ranges.

The recipe depends on what the graph is made of, because the two int8 paths
of onnxruntime behave very differently on a CPU:

* mostly MatMul/Gemm (transformers such as ViT): **dynamic** quantisation
  (int8 weights, activations quantised per call). Measured on ViT-base here:
  about 5x faster than fp32 onnxruntime, file 25% of fp32.
* mostly Conv (ResNets): **static** QDQ quantisation, per-channel weights,
  the final classifier layer kept in fp32 (a tiny share of the work, and the
  layer whose rounding moves the probabilities most). Dynamic quantisation of
  convolutions (ConvInteger) was 3.5x slower than static here.

Static quantisation needs each activation's range. By default it is measured
on the example batch, which is synthetic; a checkpoint can carry ranges
measured on real faces (:class:`Calibration`, ``int8_calibration.json``,
written by :func:`emotion.runtime.onnx_int8.calibrate`), which the quantiser then uses instead. On the
bundled 112 px ResNet's third-cycle weights (3,553 PublicTest faces): with the
example batch's ranges int8 agreed with fp32 on 98.34 % of top-1 classes (max
probability change 0.30); with ranges from 512 Training faces and the
classifier in fp32, 99.38 % (0.061); the shipped fourth-cycle weights, 99.33 %
(0.064). Ranges recorded for a different export (tensor names that are not in
this graph) are not used: the runner then says ``calibration == "example
batch"`` and a recorded agreement measured with faces does not apply.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ..errors import BackendUnavailable

log = logging.getLogger(__name__)

#: bump when the export or quantisation recipe changes: old cache files are then ignored
#: (3: the file name says whether weights were quantised with ``reduce_range``)
RECIPE = 3
OPSET = 17
#: what a runner quantised with the example batch's own ranges says it was calibrated on
EXAMPLE_CALIBRATION = "example batch"
#: CPU flags whose int8 dot products cannot saturate (VNNI, AMX). Without them (AVX2-only CPUs, AVX-512 without
#: VNNI), onnxruntime's u8*s8 kernels add pairs of products in 16 bits, which saturates; weights quantised to
#: 7 bits (``reduce_range``) avoid it, at a small cost in accuracy (onnxruntime's quantisation guide).
INT8_DOT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


def needs_reduce_range(flags=None) -> bool:
    """Whether int8 weights must be quantised with ``reduce_range`` on this CPU (or one with ``flags``).

    >>> needs_reduce_range({"avx2", "fma"}), needs_reduce_range({"avx2", "avx512_vnni"})
    (True, False)
    """
    if flags is None:
        from .torch_backends import cpu_flags

        flags = cpu_flags()
    return not (INT8_DOT_FLAGS & set(flags))


def record_key(backend: str, reduce_range: bool | None = None) -> str:
    """The name under which a backend's agreement on real faces is recorded and looked up: an int8 file made with
    ``reduce_range`` (``None``: as this CPU makes it) is a different recipe, recorded as ``onnx-int8:reduce_range``.

    >>> record_key("bf16"), record_key("onnx-int8", False), record_key("onnx-int8", True)
    ('bf16', 'onnx-int8', 'onnx-int8:reduce_range')
    """
    if backend != "onnx-int8":
        return backend
    return f"{backend}:reduce_range" if (needs_reduce_range() if reduce_range is None else reduce_range) else backend


@dataclass(frozen=True)
class Calibration:
    """Activation ranges for static int8 quantisation, measured on real inputs.

    ``ranges`` maps each float tensor of the exported fp32 graph to its (min, max)
    over the calibration inputs; ``source`` says what they were (for display and for
    matching a recorded agreement). Stored with a checkpoint as ``int8_calibration.json``.
    """

    ranges: Mapping[str, tuple[float, float]]
    source: str

    def __post_init__(self):
        object.__setattr__(self, "ranges", MappingProxyType(dict(self.ranges)))

    @property
    def digest(self) -> str:
        """A short hash of the ranges, part of the int8 cache file's name."""
        text = json.dumps(sorted((k, float(a), float(b)) for k, (a, b) in self.ranges.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def to_json(self) -> dict:
        return {"source": self.source, "method": "minmax", "opset": OPSET,
                "ranges": {k: [float(a), float(b)] for k, (a, b) in sorted(self.ranges.items())}}  # stable file

    @classmethod
    def from_json(cls, data) -> "Calibration":
        """Raises ValueError, saying what is wrong, on anything but ``{"source": str, "ranges": {name: [lo, hi]}}``."""
        if not isinstance(data, dict) or not isinstance(data.get("ranges"), dict) or not data["ranges"]:
            raise ValueError('expected an object {"source": ..., "ranges": {tensor name: [min, max], ...}}')
        ranges = {}
        for name, pair in data["ranges"].items():
            try:
                lo, hi = (float(v) for v in pair)
            except (TypeError, ValueError):
                raise ValueError(f"range of {name!r} must be two numbers [min, max], got {pair!r}") from None
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ValueError(f"range of {name!r} must be finite with min <= max, got {pair!r}")
            ranges[name] = (lo, hi)
        return cls(ranges, str(data.get("source", "unknown faces")))


def export_onnx(model, example: np.ndarray, path: Path) -> str:
    """Write ``model`` (logits only) to ``path`` as fp32 ONNX with a dynamic batch axis.

    Tries the TorchScript exporter first (one self-contained file, and its
    graphs go through onnxruntime's quantiser cleanly), then the dynamo one.
    Returns which exporter worked; raises BackendUnavailable if neither did.
    """
    import torch

    from .torch_backends import logits_module

    module = logits_module(model)
    x = torch.from_numpy(np.ascontiguousarray(example[: min(2, len(example))], dtype=np.float32))
    names = {"input_names": ["pixel_values"], "output_names": ["logits"]}
    attempts = {
        "torchscript": {"dynamo": False, "opset_version": OPSET,
                        "dynamic_axes": {"pixel_values": {0: "batch"}, "logits": {0: "batch"}}},
        "dynamo": {"dynamo": True, "external_data": False,
                   "dynamic_shapes": {"pixel_values": {0: torch.export.Dim("batch", min=1, max=65536)}}},
    }
    errors = []
    for exporter, kwargs in attempts.items():
        try:
            with warnings.catch_warnings(), torch.inference_mode():
                warnings.simplefilter("ignore")
                torch.onnx.export(module, (x,), str(path), **names, **kwargs)
            return exporter
        except Exception as exc:  # noqa: BLE001 - exporters fail in many ways; we try the next one
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            errors.append(f"{exporter}: {type(exc).__name__}: {first}")
            log.info("ONNX export with %s failed: %s", exporter, first)
    raise BackendUnavailable(f"onnx-int8: ONNX export failed ({'; '.join(errors)})")


def choose_quantization(path: Path) -> str:
    """``static`` for convolution-dominated graphs, ``dynamic`` for MatMul-dominated ones."""
    import onnx

    ops = collections.Counter(node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node)
    return "static" if ops["Conv"] > ops["MatMul"] + ops["Gemm"] else "dynamic"


def _batches(x: np.ndarray, size: int):
    """An onnxruntime calibration reader that hands out ``x`` as ``pixel_values`` batches of ``size`` rows."""
    from onnxruntime.quantization import CalibrationDataReader

    class Batches(CalibrationDataReader):
        def __init__(self):
            self._it = iter([{"pixel_values": x[i:i + size]} for i in range(0, len(x), size)])

        def get_next(self):
            return next(self._it, None)

    return Batches()


def _graph_tensors(path: Path) -> tuple[set[str], list[str]]:
    """(every tensor name in the graph, the names of Gemm/MatMul nodes that write a graph output)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    outputs = {o.name for o in graph.output}
    names = {i.name for i in graph.input} | {o for n in graph.node for o in n.output}
    heads = [n.name for n in graph.node if n.op_type in ("Gemm", "MatMul") and outputs & set(n.output)]
    return names, heads


def quantize(src: Path, dst: Path, example: np.ndarray, mode: str, calibration: Calibration | None = None,
             reduce_range: bool | None = None) -> str:
    """Quantise the fp32 ONNX file ``src`` to int8 ``dst`` (``mode``: dynamic or static).

    Static mode uses ``calibration``'s ranges when every tensor they name is in this graph,
    else the example batch's; returns what the ranges came from (``calibration.source`` or
    :data:`EXAMPLE_CALIBRATION`; ``"none (dynamic)"`` for dynamic mode). ``reduce_range``
    (7-bit weights; ``None``: where this CPU needs it, :func:`needs_reduce_range`).
    """
    from onnxruntime.quantization import (
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    if reduce_range is None:
        reduce_range = needs_reduce_range()
    if mode == "dynamic":
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, reduce_range=reduce_range)
        return "none (dynamic)"

    names, heads = _graph_tensors(src)
    extra, used = {}, EXAMPLE_CALIBRATION
    if calibration is not None:
        unknown = sorted(set(calibration.ranges) - names)
        if unknown:
            log.warning("onnx-int8: the checkpoint's calibration (%s) names %d tensors this export does not have "
                        "(e.g. %s); using the example batch's ranges", calibration.source, len(unknown), unknown[0])
        else:
            extra["TensorQuantOverrides"] = {k: [{"rmin": np.float32(lo), "rmax": np.float32(hi)}]
                                             for k, (lo, hi) in calibration.ranges.items()}
            used = calibration.source
    logging.getLogger().addFilter(_no_advice)
    try:
        quantize_static(str(src), str(dst), _batches(example, 8), quant_format=QuantFormat.QDQ, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8, reduce_range=reduce_range,
                        nodes_to_exclude=heads, extra_options=extra)
    finally:
        logging.getLogger().removeFilter(_no_advice)
    return used


def _no_advice(record: logging.LogRecord) -> bool:
    """onnxruntime's quantiser advises shape pre-processing on the root logger at every build; a user cannot act
    on it (the export is ours), so it is dropped while the quantiser runs."""
    return "pre-processing before quantization" not in record.getMessage()
