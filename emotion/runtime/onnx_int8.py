"""The ``onnx-int8`` backend: export to ONNX once, quantise with onnxruntime, cache by checkpoint hash.

How the int8 file is made (which quantisation for which graph, the activation
ranges, :class:`Calibration`) is :mod:`emotion.runtime.int8_recipe`; this module
builds, caches and runs it. :func:`calibrate` measures a checkpoint's activation
ranges on real faces once, for ``int8_calibration.json``.

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

import functools
import json
import logging
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import BackendUnavailable
from ..paths import cache_dir
from .int8_recipe import (  # noqa: F401  (Calibration and EXAMPLE_CALIBRATION: this backend's names for them)
    EXAMPLE_CALIBRATION,
    RECIPE,
    Calibration,
    _batches,
    choose_quantization,
    export_onnx,
    needs_reduce_range,
    quantize,
)

log = logging.getLogger(__name__)


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
    return cache_dir("onnx")


class OnnxRunner:
    """Runs an ONNX file with onnxruntime on the CPU; returns float32 logits."""

    name = "onnx-int8"
    agreement = None
    trials = ()
    reduce_range = False    # 7-bit weights, for a CPU without VNNI (set from the file's metadata)

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
        path = onnx_cache_dir() / _file_name(cache_key, example, calibration, needs_reduce_range())
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


def _file_name(cache_key: str, example: np.ndarray, calibration: Calibration | None = None,
               reduce_range: bool = False) -> str:
    """Everything that makes the file differ is in its name: a file quantised for a CPU without VNNI (7-bit
    weights, ``-rr``) is never taken for one made for a CPU with it, or the other way round."""
    import onnxruntime

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", cache_key)[:64]
    shape = "x".join(str(d) for d in example.shape[1:])
    cal = f"-cal{calibration.digest}" if calibration is not None else ""
    rr = "-rr" if reduce_range else ""
    return f"{safe}-{shape}{cal}{rr}-r{RECIPE}-ort{onnxruntime.__version__}.int8.onnx"


def _make(model, example: np.ndarray, folder: Path, final: Path, calibration: Calibration | None = None,
          reduce_range: bool = False) -> dict:
    """Export, quantise and move the int8 file to ``final``; returns its metadata."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        exporter = export_onnx(model, example, fp32)
        mode = choose_quantization(fp32)
        int8 = Path(tmp) / "model.int8.onnx"
        try:
            used = quantize(fp32, int8, example, mode, calibration, reduce_range)
        except Exception as exc:  # onnxruntime's quantiser raises many kinds of errors
            raise BackendUnavailable(f"onnx-int8: {mode} quantisation failed: {type(exc).__name__}: "
                                     f"{(str(exc).splitlines() or [''])[0][:200]}") from exc
        fp32_bytes = fp32.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("model.fp32.onnx.*"))
        meta = {"quantization": mode, "exporter": exporter, "fp32_bytes": fp32_bytes, "calibration": used,
                "reduce_range": bool(reduce_range), "seconds": round(time.perf_counter() - started, 2)}
        final.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
        os.replace(int8, final)  # atomic: a concurrent loader sees the whole file or none
    log.info("onnx-int8: exported (%s) and quantised (%s) in %.1f s -> %s", exporter, mode, meta["seconds"], final)
    return meta


def build_onnx_int8(model, example: np.ndarray, cache_key: str | None,
                    calibration: Calibration | None = None, reduce_range: bool | None = None) -> OnnxRunner:
    """The ``onnx-int8`` runner for ``model``, from the cache when ``cache_key`` was seen before.

    ``calibration``: activation ranges measured on real faces (static quantisation only).
    ``reduce_range``: 7-bit weights (``None``: where this CPU needs them; the agreement on real faces
    is recorded for both recipes, so a CPU with VNNI can measure the other one).
    """
    ok, why = onnx_available()
    if not ok:
        raise BackendUnavailable(f"onnx-int8: {why}")
    reduce_range = needs_reduce_range() if reduce_range is None else bool(reduce_range)
    if cache_key is None:
        with tempfile.TemporaryDirectory(prefix="emotion-onnx-") as tmp:
            path = Path(tmp) / "model.int8.onnx"
            meta = _make(model, example, Path(tmp), path, calibration, reduce_range)
            return _runner(path, meta, "exported, not cached (no cache key)")
    folder = onnx_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackendUnavailable(f"onnx-int8: cannot create the cache folder {folder} ({exc}); "
                                 "set EMOTION_CACHE_DIR to a writable folder") from exc
    path = folder / _file_name(cache_key, example, calibration, reduce_range)
    if path.is_file():
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            return _runner(path, meta, f"cached file {path.name}")
        except Exception as exc:  # noqa: BLE001 - a damaged cache file is rebuilt, whatever the error
            log.warning("onnx-int8: cached %s is unusable (%s); rebuilding it", path.name, exc)
            path.unlink(missing_ok=True)
    meta = _make(model, example, folder, path, calibration, reduce_range)
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
    rr = ", 7-bit weights (no VNNI)" if meta.get("reduce_range") else ""
    reason = f"onnxruntime int8, {meta.get('quantization', '?')} quantisation{ranges}{rr}, {shown}{share}; {where}"
    runner = OnnxRunner(session, reason, path, size, fp32, meta.get("quantization", "?"), calibration)
    runner.reduce_range = bool(meta.get("reduce_range", False))
    return runner
