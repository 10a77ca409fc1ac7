"""The ``onnx-int8`` backend: export to ONNX once, quantise with onnxruntime, cache by checkpoint hash.

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
written by :func:`calibrate`), which the quantiser then uses instead. On the
bundled 112 px ResNet's third-cycle weights (3,553 PublicTest faces): with the
example batch's ranges int8 agreed with fp32 on 98.34 % of top-1 classes (max
probability change 0.30); with ranges from 512 Training faces and the
classifier in fp32, 99.38 % (0.061); the shipped fourth-cycle weights, 99.33 %
(0.064). Ranges recorded for a different export (tensor names that are not in
this graph) are not used: the runner then says ``calibration == "example
batch"`` and a recorded agreement measured with faces does not apply.

The int8 file lives in ``<cache dir>/onnx/`` (``$EMOTION_CACHE_DIR`` or the
user cache dir), named after the checkpoint hash, the input shape and the
recipe version, so a changed checkpoint never reuses a stale file. Without a
cache key the file goes to a temporary directory and is deleted after loading.
Export failures become :class:`~emotion.errors.BackendUnavailable`, so
``auto`` moves on.

>>> runner = build_onnx_int8(model, example, cache_key="3f2a")   # doctest: +SKIP
>>> runner.quantization, runner.size_bytes                      # doctest: +SKIP
('dynamic', 86497197)
"""

from __future__ import annotations

import collections
import functools
import hashlib
import json
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ..errors import BackendUnavailable
from ..paths import cache_dir

log = logging.getLogger(__name__)

#: bump when the export or quantisation recipe changes: old cache files are then ignored
RECIPE = 2
OPSET = 17
#: what a runner quantised with the example batch's own ranges says it was calibrated on
EXAMPLE_CALIBRATION = "example batch"


def onnx_available() -> tuple[bool, str]:
    """Whether onnx and onnxruntime (with its quantisation tools) import here."""
    try:
        import onnx  # noqa: F401
        import onnxruntime
        import onnxruntime.quantization
    except ImportError as exc:
        return False, f"onnxruntime/onnx not installed ({exc.name}); pip install onnx onnxruntime"
    return True, f"onnxruntime {onnxruntime.__version__} int8"


@functools.cache
def ort_errors() -> tuple[type[BaseException], ...]:
    """The exception classes onnxruntime raises (its pybind module defines them, all straight from Exception)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    found = tuple(v for v in vars(state).values() if isinstance(v, type) and issubclass(v, Exception))
    return found or (RuntimeError,)


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
                "ranges": {k: [float(a), float(b)] for k, (a, b) in self.ranges.items()}}

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


def onnx_cache_dir() -> Path:
    return cache_dir("onnx")


class OnnxRunner:
    """Runs an ONNX file with onnxruntime on the CPU; returns float32 logits."""

    name = "onnx-int8"
    agreement = None
    trials = ()

    def __init__(self, session, reason: str, path: Path, size_bytes: int, fp32_bytes: int | None,
                 quantization: str, calibration: str = EXAMPLE_CALIBRATION):
        self.calibration = calibration
        self.session = session
        self.reason = reason
        self.path = path
        self.size_bytes = size_bytes
        self.fp32_bytes = fp32_bytes
        self.quantization = quantization
        self._input = session.get_inputs()[0].name

    def __call__(self, pixel_values: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(pixel_values, dtype=np.float32)
        try:
            out = self.session.run(None, {self._input: x})[0]
        except ort_errors() as exc:  # onnxruntime's errors derive from Exception only
            raise RuntimeError(f"onnxruntime failed on a batch of shape {x.shape}: {exc}") from exc
        return np.asarray(out, dtype=np.float32)

    def __repr__(self) -> str:
        return f"<OnnxRunner {self.name}: {self.reason}>"


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


def quantize(src: Path, dst: Path, example: np.ndarray, mode: str, calibration: Calibration | None = None) -> str:
    """Quantise the fp32 ONNX file ``src`` to int8 ``dst`` (``mode``: dynamic or static).

    Static mode uses ``calibration``'s ranges when every tensor they name is in this graph,
    else the example batch's; returns what the ranges came from (``calibration.source`` or
    :data:`EXAMPLE_CALIBRATION`; ``"none (dynamic)"`` for dynamic mode).
    """
    from onnxruntime.quantization import (
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    from .torch_backends import cpu_flags

    # Without VNNI/AMX int8, u8*s8 products can saturate; reduce_range avoids it at a small accuracy cost.
    reduce_range = not ({"avx512_vnni", "avx_vnni", "amx_int8"} & cpu_flags())
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


def calibrate(model, faces: np.ndarray, source: str, batch: int = 32) -> Calibration | None:
    """Measure every activation's (min, max) over ``faces`` (preprocessed float32 NCHW) in ``model``'s export.

    The ranges are those static quantisation would measure on these inputs (onnxruntime's
    min-max calibrator on the same TorchScript export), so :func:`quantize` can use them
    later without the faces. None for a graph that is quantised dynamically (transformers
    such as ViT), which uses no ranges. Raises BackendUnavailable when onnx is missing or
    the export fails.
    """
    ok, why = onnx_available()
    if not ok:
        raise BackendUnavailable(f"onnx-int8 calibration: {why}")
    from onnxruntime.quantization import CalibrationMethod
    from onnxruntime.quantization.calibrate import create_calibrator

    faces = np.ascontiguousarray(faces, dtype=np.float32)
    if faces.ndim != 4 or len(faces) == 0:
        raise ValueError(f"calibration faces must be a float32 batch (N, C, H, W) with N >= 1, got {faces.shape}")

    with tempfile.TemporaryDirectory(prefix="emotion-calib-") as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        export_onnx(model, faces[:2], fp32)
        if choose_quantization(fp32) != "static":
            return None
        calibrator = create_calibrator(fp32, None, augmented_model_path=str(Path(tmp) / "augmented.onnx"),
                                       calibrate_method=CalibrationMethod.MinMax)
        calibrator.collect_data(_batches(faces, batch))
        data = calibrator.compute_data()
        ranges = {name: (float(np.min(t.range_value[0])), float(np.max(t.range_value[1])))
                  for name, t in data.data.items()}
        del calibrator
    return Calibration(ranges, source)


def _threads() -> int:
    """PyTorch's thread count (its default where torch is not imported: it is not imported just for this)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        return torch.get_num_threads()
    env = os.environ.get("OMP_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS")
    return max(1, int(env)) if env and env.isdigit() else max(1, os.cpu_count() or 1)


def cached_runner(cache_key: str, example: np.ndarray, calibration: Calibration | None = None) -> OnnxRunner | None:
    """The runner of an int8 file exported and quantised before for this checkpoint, or None: without
    importing torch or onnx (only onnxruntime), for a start that a machine's remembered choice allows."""
    try:
        path = onnx_cache_dir() / _file_name(cache_key, example, calibration)
        if not path.is_file():
            return None
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return _runner(path, meta, f"cached file {path.name}")
    except Exception as exc:  # noqa: BLE001 - anything odd: the full path (with torch) decides
        log.info("onnx-int8: the cached file cannot be used without the model (%s)", exc)
        return None


def _session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = _threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # onnxruntime's threads otherwise busy-wait after each call and starve PyTorch's
    # threads (and everything else) on a small CPU.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _file_name(cache_key: str, example: np.ndarray, calibration: Calibration | None = None) -> str:
    import onnxruntime

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", cache_key)[:64]
    shape = "x".join(str(d) for d in example.shape[1:])
    cal = f"-cal{calibration.digest}" if calibration is not None else ""
    return f"{safe}-{shape}{cal}-r{RECIPE}-ort{onnxruntime.__version__}.int8.onnx"


def _make(model, example: np.ndarray, folder: Path, final: Path, calibration: Calibration | None = None) -> dict:
    """Export, quantise and move the int8 file to ``final``; returns its metadata."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        exporter = export_onnx(model, example, fp32)
        mode = choose_quantization(fp32)
        int8 = Path(tmp) / "model.int8.onnx"
        try:
            used = quantize(fp32, int8, example, mode, calibration)
        except Exception as exc:  # onnxruntime's quantiser raises many kinds of errors
            raise BackendUnavailable(f"onnx-int8: {mode} quantisation failed: {type(exc).__name__}: "
                                     f"{(str(exc).splitlines() or [''])[0][:200]}") from exc
        fp32_bytes = fp32.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("model.fp32.onnx.*"))
        meta = {"quantization": mode, "exporter": exporter, "fp32_bytes": fp32_bytes, "calibration": used,
                "seconds": round(time.perf_counter() - started, 2)}
        final.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
        os.replace(int8, final)  # atomic: a concurrent loader sees the whole file or none
    log.info("onnx-int8: exported (%s) and quantised (%s) in %.1f s -> %s", exporter, mode, meta["seconds"], final)
    return meta


def build_onnx_int8(model, example: np.ndarray, cache_key: str | None,
                    calibration: Calibration | None = None) -> OnnxRunner:
    """The ``onnx-int8`` runner for ``model``, from the cache when ``cache_key`` was seen before.

    ``calibration``: activation ranges measured on real faces (static quantisation only).
    """
    ok, why = onnx_available()
    if not ok:
        raise BackendUnavailable(f"onnx-int8: {why}")
    if cache_key is None:
        with tempfile.TemporaryDirectory(prefix="emotion-onnx-") as tmp:
            path = Path(tmp) / "model.int8.onnx"
            meta = _make(model, example, Path(tmp), path, calibration)
            return _runner(path, meta, "exported, not cached (no cache key)")
    folder = onnx_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackendUnavailable(f"onnx-int8: cannot create the cache folder {folder} ({exc}); "
                                 "set EMOTION_CACHE_DIR to a writable folder") from exc
    path = folder / _file_name(cache_key, example, calibration)
    if path.is_file():
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            return _runner(path, meta, f"cached file {path.name}")
        except Exception as exc:  # noqa: BLE001 - a damaged cache file is rebuilt, whatever the error
            log.warning("onnx-int8: cached %s is unusable (%s); rebuilding it", path.name, exc)
            path.unlink(missing_ok=True)
    meta = _make(model, example, folder, path, calibration)
    return _runner(path, meta, f"exported once to {path}")


def _runner(path: Path, meta: dict, where: str) -> OnnxRunner:
    try:
        session = _session(path)
    except ort_errors() as exc:
        raise BackendUnavailable(f"onnx-int8: onnxruntime cannot load {path.name}: {exc}") from exc
    size = path.stat().st_size
    fp32 = meta.get("fp32_bytes")
    share = f", {size / fp32:.0%} of fp32" if fp32 else ""
    shown = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"
    calibration = meta.get("calibration", EXAMPLE_CALIBRATION)
    ranges = f", ranges from {calibration}" if meta.get("quantization") == "static" else ""
    reason = f"onnxruntime int8, {meta.get('quantization', '?')} quantisation{ranges}, {shown}{share}; {where}"
    return OnnxRunner(session, reason, path, size, fp32, meta.get("quantization", "?"), calibration)
