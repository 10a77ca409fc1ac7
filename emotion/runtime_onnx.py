"""The ``onnx-int8`` backend: export to ONNX once, quantise with onnxruntime, cache by checkpoint hash.

The recipe depends on what the graph is made of, because the two int8 paths
of onnxruntime behave very differently on a CPU:

* mostly MatMul/Gemm (transformers such as ViT): **dynamic** quantisation
  (int8 weights, activations quantised per call). Measured on ViT-base here:
  about 5x faster than fp32 onnxruntime, file 25% of fp32.
* mostly Conv (ResNets): **static** QDQ quantisation, per-channel weights,
  activation ranges calibrated on the example batch. Dynamic quantisation of
  convolutions (ConvInteger) was 3.5x slower than static here.

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
import json
import logging
import os
import re
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from .errors import BackendUnavailable

log = logging.getLogger(__name__)

#: bump when the export or quantisation recipe changes: old cache files are then ignored
RECIPE = 1
OPSET = 17


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


def onnx_cache_dir() -> Path:
    from .faces import cache_dir

    return cache_dir() / "onnx"


class OnnxRunner:
    """Runs an ONNX file with onnxruntime on the CPU; returns float32 logits."""

    name = "onnx-int8"
    agreement = None
    trials = ()

    def __init__(self, session, reason: str, path: Path, size_bytes: int, fp32_bytes: int | None,
                 quantization: str):
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

    from .runtime_torch import logits_module

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


def quantize(src: Path, dst: Path, example: np.ndarray, mode: str) -> None:
    """Quantise the fp32 ONNX file ``src`` to int8 ``dst`` (``mode``: dynamic or static)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    from .runtime_torch import cpu_flags

    # Without VNNI/AMX int8, u8*s8 products can saturate; reduce_range avoids it at a small accuracy cost.
    reduce_range = not ({"avx512_vnni", "avx_vnni", "amx_int8"} & cpu_flags())
    if mode == "dynamic":
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, reduce_range=reduce_range)
        return

    class Batches(CalibrationDataReader):
        def __init__(self):
            self._it = iter([{"pixel_values": example[i:i + 8]} for i in range(0, len(example), 8)])

        def get_next(self):
            return next(self._it, None)

    quantize_static(str(src), str(dst), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8, reduce_range=reduce_range)


def _session(path: Path):
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # onnxruntime's threads otherwise busy-wait after each call and starve PyTorch's
    # threads (and everything else) on a small CPU.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _file_name(cache_key: str, example: np.ndarray) -> str:
    import onnxruntime

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", cache_key)[:64]
    shape = "x".join(str(d) for d in example.shape[1:])
    return f"{safe}-{shape}-r{RECIPE}-ort{onnxruntime.__version__}.int8.onnx"


def _make(model, example: np.ndarray, folder: Path, final: Path) -> dict:
    """Export, quantise and move the int8 file to ``final``; returns its metadata."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        exporter = export_onnx(model, example, fp32)
        mode = choose_quantization(fp32)
        int8 = Path(tmp) / "model.int8.onnx"
        try:
            quantize(fp32, int8, example, mode)
        except Exception as exc:  # onnxruntime's quantiser raises many kinds of errors
            raise BackendUnavailable(f"onnx-int8: {mode} quantisation failed: {type(exc).__name__}: "
                                     f"{(str(exc).splitlines() or [''])[0][:200]}") from exc
        fp32_bytes = fp32.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("model.fp32.onnx.*"))
        meta = {"quantization": mode, "exporter": exporter, "fp32_bytes": fp32_bytes,
                "seconds": round(time.perf_counter() - started, 2)}
        final.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
        os.replace(int8, final)  # atomic: a concurrent loader sees the whole file or none
    log.info("onnx-int8: exported (%s) and quantised (%s) in %.1f s -> %s", exporter, mode, meta["seconds"], final)
    return meta


def build_onnx_int8(model, example: np.ndarray, cache_key: str | None) -> OnnxRunner:
    """The ``onnx-int8`` runner for ``model``, from the cache when ``cache_key`` was seen before."""
    ok, why = onnx_available()
    if not ok:
        raise BackendUnavailable(f"onnx-int8: {why}")
    if cache_key is None:
        with tempfile.TemporaryDirectory(prefix="emotion-onnx-") as tmp:
            path = Path(tmp) / "model.int8.onnx"
            meta = _make(model, example, Path(tmp), path)
            return _runner(path, meta, "exported, not cached (no cache key)")
    folder = onnx_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackendUnavailable(f"onnx-int8: cannot create the cache folder {folder} ({exc}); "
                                 "set EMOTION_CACHE_DIR to a writable folder") from exc
    path = folder / _file_name(cache_key, example)
    if path.is_file():
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            return _runner(path, meta, f"cached file {path.name}")
        except Exception as exc:  # noqa: BLE001 - a damaged cache file is rebuilt, whatever the error
            log.warning("onnx-int8: cached %s is unusable (%s); rebuilding it", path.name, exc)
            path.unlink(missing_ok=True)
    meta = _make(model, example, folder, path)
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
    reason = f"onnxruntime int8, {meta.get('quantization', '?')} quantisation, {shown}{share}; {where}"
    return OnnxRunner(session, reason, path, size, fp32, meta.get("quantization", "?"))
