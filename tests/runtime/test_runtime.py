"""Backends, selection and the agreement guard of emotion.runtime, on a tiny real checkpoint."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import re
import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from emotion import runtime as rt
from emotion.runtime import auto as rt_auto
from emotion.runtime import onnx_int8 as runtime_onnx
from emotion.runtime.int8_recipe import needs_reduce_range, record_key
from emotion.runtime import torch_backends as rt_torch
from emotion.errors import BackendUnavailable

IPEX = "intel_extension_for_pytorch"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    """A tiny ResNet image classifier saved with save_pretrained, as a real checkpoint would be."""
    torch.manual_seed(0)
    config = transformers.ResNetConfig(num_channels=3, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1],
                                       layer_type="basic", num_labels=4)
    model = transformers.ResNetForImageClassification(config).eval()
    with torch.no_grad():  # decisive logits, so that agreement is about the backend, not about ties
        model.classifier[1].weight.mul_(20.0)
    path = tmp_path_factory.mktemp("tiny-resnet")
    model.save_pretrained(path)
    return path


@pytest.fixture()
def model(tiny_dir):
    return transformers.AutoModelForImageClassification.from_pretrained(str(tiny_dir)).eval()


@pytest.fixture()
def example():
    return np.random.default_rng(1).standard_normal((16, 3, 32, 32)).astype(np.float32)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Each test gets its own cache dir, a short auto race, no real IPEX, and one torch thread.

    One thread: on a busy 2-core machine a 2-thread OpenMP team waits for its
    descheduled partner at every op (a tiny forward pass went from 0.7 ms to 500 ms).
    """
    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(rt_auto, "AUTO_TIME_BUDGET_S", 0.05)
    monkeypatch.setitem(sys.modules, IPEX, None)  # None in sys.modules: the import raises ImportError
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    fusion = torch._C._jit_llga_enabled()  # oneDNN Graph fusion is process-wide: restore it after each test
    yield
    torch.set_num_threads(threads)
    torch.jit.enable_onednn_fusion(fusion)


def eager_logits(model, x):
    with torch.inference_mode():
        return model(pixel_values=torch.from_numpy(x)).logits.numpy()


# ---------------------------------------------------------------- what is available


def test_eager_is_always_available_and_every_backend_has_a_reason():
    found = rt.available_backends()
    assert set(found) == {"eager", "bf16", "ipex", "onnx-int8"}
    assert found["eager"][0] is True
    assert all(isinstance(ok, bool) and reason for ok, reason in found.values())


@pytest.mark.parametrize("flags, capability, expected", [
    ("fpu avx512f amx_bf16 amx_tile", "AVX512", True),
    ("fpu avx512f avx512_bf16", "AVX512", True),
    ("fpu avx2 fma", "AVX2", False),
    ("", "AVX512", False),
])
def test_bf16_support_follows_cpu_flags(monkeypatch, tmp_path, flags, capability, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\n")
    monkeypatch.setattr(rt_torch, "cpu_flags", lambda path=str(cpuinfo): frozenset(flags.split()))
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    ok, reason = rt_torch.bf16_support()
    assert ok is expected
    assert reason


def test_cpu_flags_reads_the_flags_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx512_bf16 amx_bf16\n")
    assert rt.cpu_flags(str(cpuinfo)) == {"fpu", "avx512_bf16", "amx_bf16"}
    assert rt.cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_bf16_requested_on_a_cpu_without_it_says_why(monkeypatch, model, example):
    monkeypatch.setattr(rt_torch, "bf16_support", lambda: (False, "CPU lacks AMX and AVX-512 bf16"))
    with pytest.raises(BackendUnavailable, match="lacks AMX"):
        rt.build_runner(model, example, "bf16")
    runner = rt.build_runner(model, example, "auto")
    assert runner.name != "bf16"
    assert "bf16 unavailable" in runner.reason


needs_bf16 = pytest.mark.skipif(not rt.bf16_support()[0], reason="this CPU has no AMX / AVX-512 bf16")


@needs_bf16
@pytest.mark.parametrize("trace_fails", [False, True])
def test_bf16_runs_any_batch_size(monkeypatch, model, example, trace_fails):
    if trace_fails:
        def no_trace(*args, **kwargs):
            raise RuntimeError("cannot trace this model")
        monkeypatch.setattr(torch.jit, "trace", no_trace)
    runner = rt.build_runner(model, example, "bf16")
    assert runner.name == "bf16" and runner.agreement.ok
    assert ("eager mode" if trace_fails else "frozen TorchScript") in runner.reason
    for rows in (1, 5):
        batch = np.random.default_rng(rows).standard_normal((rows, 3, 32, 32)).astype(np.float32)
        out = runner(batch)
        assert out.shape == (rows, 4) and out.dtype == np.float32
        assert rt.compare(eager_logits(model, batch), out).ok


# ---------------------------------------------------------------- IPEX: absent, broken, present


class _BrokenImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds intel_extension_for_pytorch, then fails inside it the way IPEX 2.8 does with torch 2.13."""

    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, self) if name == IPEX else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise AttributeError("module 'torch._C' has no attribute '_jit_set_texpr_fuser_enabled'")


def _fake_ipex(version: str, calls: list):
    module = types.ModuleType(IPEX)
    module.__version__ = version

    def optimize(model, dtype=None, inplace=False):
        calls.append(dtype)
        return model

    module.optimize = optimize
    return module


def _torch_major_minor() -> str:
    return ".".join(torch.__version__.split("+")[0].split(".")[:2])


def test_ipex_absent(model, example):
    ok, reason = rt.available_backends()["ipex"]
    assert not ok and "not installed" in reason
    with pytest.raises(BackendUnavailable, match="not installed"):
        rt.build_runner(model, example, "ipex")


def test_ipex_present_but_broken_keeps_the_import_error(monkeypatch, model, example):
    monkeypatch.delitem(sys.modules, IPEX)
    monkeypatch.setattr(sys, "meta_path", [_BrokenImport(), *sys.meta_path])
    ok, reason = rt.available_backends()["ipex"]
    assert not ok
    assert "AttributeError" in reason and "_jit_set_texpr_fuser_enabled" in reason
    runner = rt.build_runner(model, example, "auto")
    assert runner.name != "ipex"
    assert "AttributeError" in runner.reason


def test_ipex_built_for_another_torch_is_unavailable(monkeypatch, model, example):
    monkeypatch.setitem(sys.modules, IPEX, _fake_ipex("1.9.0", []))
    ok, reason = rt.available_backends()["ipex"]
    assert not ok and "built for torch 1.9" in reason


def test_ipex_present_is_used_and_checked(monkeypatch, model, example):
    calls: list = []
    monkeypatch.setitem(sys.modules, IPEX, _fake_ipex(_torch_major_minor() + ".0+cpu", calls))
    assert rt.available_backends()["ipex"][0]
    runner = rt.build_runner(model, example, "ipex")
    assert runner.name == "ipex" and calls, "ipex.optimize was not called"
    assert runner.agreement.ok
    assert rt.compare(eager_logits(model, example), runner(example)).ok
    auto = rt.build_runner(model, example, "auto")
    assert "ipex" in {t.backend for t in auto.trials if t.seconds is not None}


# ---------------------------------------------------------------- the agreement guard


@pytest.mark.parametrize("reference, candidate, ok", [
    ([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0]], [[3.01, 0.0, 0.0], [0.0, 2.99, 0.0]], True),     # rounding noise
    ([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0]], [[0.0, 3.0, 0.0], [0.0, 3.0, 0.0]], False),     # a decisive flip
    ([[1.0, 0.99, 0.0]], [[0.99, 1.0, 0.0]], True),                                      # flip within a tie
    ([[2.0, 1.0, 0.0]], [[2.0, 1.5, 0.0]], False),                                       # same class, |Δp| > 0.05
    ([[2.0, 1.0, 0.0]], [[np.nan, 1.0, 0.0]], False),                                    # NaN
])
def test_compare(reference, candidate, ok):
    assert rt.compare(np.array(reference), np.array(candidate)).ok is ok


def test_compare_rejects_the_wrong_shape():
    with pytest.raises(BackendUnavailable, match="shape"):
        rt.compare(np.zeros((2, 3)), np.zeros((2, 4)))


class _Broken:
    """A deliberately broken backend: right shape, wrong answers (classes rotated)."""

    name = "bf16"
    reason = "broken on purpose"
    agreement = None
    trials = ()

    def __init__(self, model):
        self.model = model

    def __call__(self, x):
        return np.roll(eager_logits(self.model, x), 1, axis=1)


@pytest.fixture()
def broken_bf16(monkeypatch):
    monkeypatch.setattr(rt_torch, "bf16_support", lambda: (True, "test"))
    monkeypatch.setitem(rt.BUILDERS, "bf16", lambda model, example, key, **_: _Broken(model))


def test_a_backend_the_guard_rejects_is_still_used_when_asked_for_by_name_with_a_warning(broken_bf16, model,
                                                                                      example, caplog):
    # Field report: --backend onnx-int8, asked for explicitly, was refused. An explicit choice is honoured.
    runner = rt.build_runner(model, example, "bf16")
    assert runner.name == "bf16" and not runner.agreement.ok
    assert "used as asked, although the accuracy guard would not pick it" in runner.reason
    assert "agrees with fp32 on 0.0%" in runner.warning
    assert any(r.levelname == "WARNING" and "used as asked" in r.message for r in caplog.records)


def test_a_broken_backend_is_skipped_by_auto(broken_bf16, monkeypatch, model, example, caplog):
    caplog.set_level(logging.INFO)  # rejections are decisions: logged at INFO, shown with --verbose
    monkeypatch.setattr(rt_auto, "race", lambda runners, x, **kw: {n: (0.0 if n == "bf16" else 1.0) for n in runners})
    runner = rt.build_runner(model, example, "auto")
    assert runner.name != "bf16"
    assert "bf16: rejected" in runner.reason
    assert "bf16: rejected" in caplog.text
    assert rt.compare(eager_logits(model, example), runner(example)).top1 == 1.0


def test_the_guard_can_be_skipped_for_measuring(broken_bf16, model, example):
    runner = rt.build_runner(model, example, "bf16", check=False)
    assert runner.name == "bf16" and not runner.agreement.ok


class _Crashing:
    name, reason, agreement, trials = "bf16", "crashes on purpose", None, ()

    def __call__(self, x):
        raise RuntimeError("oneDNN: unsupported")


def test_a_backend_that_crashes_is_rejected(monkeypatch, model, example):
    monkeypatch.setattr(rt_torch, "bf16_support", lambda: (True, "test"))
    monkeypatch.setitem(rt.BUILDERS, "bf16", lambda model, example, key, **_: _Crashing())
    with pytest.raises(BackendUnavailable, match="failed on the example batch.*oneDNN"):
        rt.build_runner(model, example, "bf16")


# ---------------------------------------------------------------- auto


class _Same:
    """A correct stand-in backend (fp32 underneath) so that the race decides alone."""

    agreement = None
    trials = ()

    def __init__(self, name, model):
        self.name, self.reason, self.model = name, f"{name} stand-in", model

    def __call__(self, x):
        return eager_logits(self.model, x)


@pytest.mark.parametrize("times, winner", [
    ({"eager": 3.0, "bf16": 1.0}, "bf16"),
    ({"eager": 1.0, "bf16": 2.0}, "eager"),
])
def test_auto_picks_the_fastest(monkeypatch, model, example, times, winner):
    monkeypatch.setattr(rt_torch, "bf16_support", lambda: (True, "test"))
    monkeypatch.setitem(rt.BUILDERS, "bf16", lambda m, e, k, **_: _Same("bf16", m))
    monkeypatch.setattr(rt_auto, "race", lambda runners, x, **kw: {n: times[n] for n in runners})
    runner = rt.build_runner(model, example, "auto")  # no cache key: onnx-int8 is not tried
    assert runner.name == winner
    assert runner.reason.startswith(f"auto: {winner} is the fastest")
    assert "onnx-int8 skipped (no cache key" in runner.reason
    assert {t.backend: t.seconds for t in runner.trials if t.seconds is not None} == times


def test_auto_for_real_returns_a_correct_runner(model, example):
    runner = rt.build_runner(model, example, "auto", cache_key="tiny")
    assert runner.name in {"eager", "bf16", "onnx-int8"}
    assert runner.reason.startswith("auto:")
    assert rt.compare(eager_logits(model, example), runner(example)).ok


@pytest.mark.parametrize("backend", ["fast", "", "EAGER"])
def test_unknown_backend(model, example, backend):
    with pytest.raises(BackendUnavailable, match="unknown backend"):
        rt.build_runner(model, example, backend)


def test_no_example_needs_an_image_size(model):
    assert rt.build_runner(model, None, "eager").name == "eager"
    with pytest.raises(BackendUnavailable, match="image_size"):
        rt.build_runner(model, None, "onnx-int8")


def test_example_must_be_nchw(model):
    with pytest.raises(BackendUnavailable, match=r"\(N, C, H, W\)"):
        rt.build_runner(model, np.zeros((3, 32, 32), np.float32), "bf16")


# ---------------------------------------------------------------- ONNX int8


def test_onnx_int8_round_trip_is_cached(monkeypatch, model, example, tmp_path):
    if not runtime_onnx.onnx_available()[0]:
        pytest.skip("onnxruntime/onnx not installed")
    runner = rt.build_runner(model, example, "onnx-int8", cache_key="tiny-ckpt")
    assert runner.name == "onnx-int8" and runner.agreement.ok
    assert runner.path.parent == tmp_path / "cache" / "onnx" and runner.path.is_file()
    assert runner.quantization == "static"  # a ResNet is convolutions
    batch = np.random.default_rng(2).standard_normal((5, 3, 32, 32)).astype(np.float32)  # another batch size
    out = runner(batch)
    assert out.shape == (5, 4) and out.dtype == np.float32
    assert rt.compare(eager_logits(model, batch), out).ok

    def no_export(*args, **kwargs):
        raise AssertionError("exported again despite the cache")

    monkeypatch.setattr(runtime_onnx, "export_onnx", no_export)
    again = rt.build_runner(model, example, "onnx-int8", cache_key="tiny-ckpt")
    assert "cached file" in again.reason
    np.testing.assert_allclose(again(batch), out, rtol=1e-5, atol=1e-5)


def test_onnx_without_cache_key_leaves_no_file(model, example, tmp_path):
    if not runtime_onnx.onnx_available()[0]:
        pytest.skip("onnxruntime/onnx not installed")
    runner = rt.build_runner(model, example, "onnx-int8")
    assert "not cached" in runner.reason
    assert not (tmp_path / "cache" / "onnx").exists()
    assert runner(example).shape == (16, 4)


def test_a_damaged_cache_file_is_rebuilt(model, example, tmp_path):
    if not runtime_onnx.onnx_available()[0]:
        pytest.skip("onnxruntime/onnx not installed")
    first = rt.build_runner(model, example, "onnx-int8", cache_key="k")
    first.path.write_bytes(b"not an onnx file")
    again = rt.build_runner(model, example, "onnx-int8", cache_key="k")
    assert "exported once" in again.reason and again.agreement.ok


def test_onnxruntime_errors_become_clear_errors(monkeypatch, model, example):
    if not runtime_onnx.onnx_available()[0]:
        pytest.skip("onnxruntime/onnx not installed")
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail

    runner = rt.build_runner(model, example, "onnx-int8", cache_key="k")

    def fail(*args, **kwargs):
        raise Fail("[ONNXRuntimeError] : 1 : FAIL : kernel crashed")

    monkeypatch.setattr(runner.session, "run", fail)
    with pytest.raises(RuntimeError, match="onnxruntime failed on a batch of shape.*kernel crashed"):
        runner(example)
    monkeypatch.setattr(runtime_onnx, "_session", fail)
    with pytest.raises(BackendUnavailable, match="onnxruntime cannot load"):
        rt.build_runner(model, example, "onnx-int8")  # no cache key: a fresh export that will not load
    assert rt.build_runner(model, example, "auto", cache_key="k2").name != "onnx-int8"


def _faces_like(rows: int, seed: int) -> np.ndarray:
    """Inputs from a narrow distribution unlike the example batch (standard normal), as real faces are."""
    return (0.3 + 0.05 * np.random.default_rng(seed).standard_normal((rows, 3, 32, 32))).astype(np.float32)


def test_calibration_json_round_trip_and_checks():
    cal = runtime_onnx.Calibration({"pixel_values": (-1.0, 1.0), "/conv/Conv_output_0": (0.0, 3.5)}, "40 faces")
    again = runtime_onnx.Calibration.from_json(cal.to_json())
    assert dict(again.ranges) == dict(cal.ranges) and again.source == "40 faces"
    assert again.digest == cal.digest
    assert runtime_onnx.Calibration({"pixel_values": (-1.0, 2.0)}, "x").digest != cal.digest
    with pytest.raises(TypeError):
        cal.ranges["pixel_values"] = (0.0, 1.0)  # frozen, like every type passed between stages
    for bad, match in (({"ranges": {}}, "expected an object"), ([1, 2], "expected an object"),
                       ({"ranges": {"x": [1]}}, "two numbers"), ({"ranges": {"x": ["a", 2]}}, "two numbers"),
                       ({"ranges": {"x": [2, 1]}}, "min <= max"), ({"ranges": {"x": [0, float("inf")]}}, "finite")):
        with pytest.raises(ValueError, match=match):
            runtime_onnx.Calibration.from_json(bad)


def test_calibration_on_real_inputs_is_used_and_beats_the_example_batch(model, example):
    """Ranges measured on inputs like the ones that will be classified quantise them more finely."""
    if not runtime_onnx.onnx_available()[0]:
        pytest.skip("onnxruntime/onnx not installed")
    cal = runtime_onnx.calibrate(model, _faces_like(64, 3), "64 narrow inputs")
    assert "pixel_values" in cal.ranges
    lo, hi = cal.ranges["pixel_values"]
    assert 0.0 < lo < 0.3 < hi < 0.6  # the graph input's range is that of the calibration inputs
    assert len(cal.ranges) > 5  # every float activation, not only the input
    plain = rt.build_runner(model, example, "onnx-int8", cache_key="k", check=False)
    tuned = rt.build_runner(model, example, "onnx-int8", cache_key="k", check=False, calibration=cal)
    assert plain.calibration == runtime_onnx.EXAMPLE_CALIBRATION and tuned.calibration == "64 narrow inputs"
    assert "ranges from 64 narrow inputs" in tuned.reason
    assert tuned.path != plain.path  # the cache keeps both, named by the ranges' digest
    # The ranges reach the quantised graph: the input's quantisation step is finer. (How much finer the
    # answers get depends on the CPU's int8 kernels, e.g. saturation on AVX2 without VNNI: that is a
    # benchmark's question, not a test's.)
    assert _input_scale(tuned.path) < 0.5 * _input_scale(plain.path)
    test = _faces_like(64, 4)  # unseen inputs of the same kind
    assert np.isfinite(tuned(test)).all() and tuned(test).shape == eager_logits(model, test).shape


def _input_scale(path) -> float:
    """The quantisation step of the graph input in an int8 ONNX file."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] == "pixel_values":
            return float(inits[node.input[1]])
    raise AssertionError(f"{path}: no QuantizeLinear on pixel_values")


def test_calibration_for_another_export_falls_back_to_the_example_batch(model, example, caplog):
    if not runtime_onnx.onnx_available()[0]:
        pytest.skip("onnxruntime/onnx not installed")
    stale = runtime_onnx.Calibration({"pixel_values": (0.0, 1.0), "/no/such/tensor": (0.0, 1.0)}, "old export")
    runner = rt.build_runner(model, example, "onnx-int8", cache_key="k", calibration=stale)
    assert runner.calibration == runtime_onnx.EXAMPLE_CALIBRATION
    assert "does not have" in caplog.text and "/no/such/tensor" in caplog.text


def test_recorded_int8_agreement_holds_only_for_the_ranges_it_was_measured_with(model):
    if not runtime_onnx.onnx_available()[0]:
        pytest.skip("onnxruntime/onnx not installed")
    cal = runtime_onnx.calibrate(model, _faces_like(32, 5), "32 narrow inputs")
    example = _faces_like(16, 6)  # as in the product: the example batch is in the faces' range of values
    record = {"top1": 1.0, "top1_ties": 1.0, "max_prob_diff": 0.01, "rows": 3553, "calibration": "32 narrow inputs"}
    # recorded under the recipe this CPU builds (7-bit weights where it has no VNNI), so the test holds on any CPU
    validated = {"source": "3553 validation faces", "backends": {record_key("onnx-int8"): record}}
    ok = rt.build_runner(model, example, "onnx-int8", cache_key="k", validated=validated, calibration=cal)
    assert ok.calibration == "32 narrow inputs"
    asked = rt.build_runner(model, example, "onnx-int8", cache_key="k", validated=validated)  # no calibration given
    assert asked.name == "onnx-int8" and re.search("recorded with activation ranges from 32 narrow inputs.*"
                                                   "example batch.*record-agreement", asked.warning)
    runner = rt.build_runner(model, example, "auto", cache_key="k", validated=validated)
    assert runner.name != "onnx-int8" and "recorded with activation ranges" in runner.reason


def test_export_failure_falls_back(monkeypatch, model, example):
    def fail(*args, **kwargs):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(torch.onnx, "export", fail)
    with pytest.raises(BackendUnavailable, match="ONNX export failed.*unsupported operator"):
        rt.build_runner(model, example, "onnx-int8", cache_key="k")
    runner = rt.build_runner(model, example, "auto", cache_key="k")
    assert runner.name != "onnx-int8"
    assert "ONNX export failed" in runner.reason


@pytest.mark.parametrize("top1_ties, max_diff, rejected", [(0.978, 0.41, True), (1.0, 0.018, False)])
def test_recorded_agreement_on_real_faces_is_enforced(model, example, monkeypatch, top1_ties, max_diff, rejected):
    """A backend that passes on the synthetic batch but failed on the checkpoint's validation faces is rejected."""
    if not rt.available_backends()["bf16"][0]:
        pytest.skip("this CPU has no bf16 support")
    validated = {"source": "3553 validation faces",
                 "backends": {"bf16": {"top1": top1_ties, "top1_ties": top1_ties, "max_prob_diff": max_diff,
                                       "rows": 3553}}}
    if rejected:
        asked = rt.build_runner(model, example, "bf16", validated=validated)       # honoured, with the reason
        assert asked.name == "bf16" and "differs from fp32 on 3553 validation faces" in asked.warning
        monkeypatch.setattr(rt_auto, "race", lambda runners, x, **kw: {n: (0.0 if n == "bf16" else 1.0) for n in runners})
        runner = rt.build_runner(model, example, "auto", validated=validated)
        assert runner.name != "bf16" and "validation faces" in runner.reason
    else:
        assert rt.build_runner(model, example, "bf16", validated=validated).name == "bf16"


class _Blurred:
    """fp32's answers a little less sure (each row's probabilities mixed with the uniform ones, share ``e``): the
    same order of classes on every row, |Δp| of a few hundredths, as a real int8 build shows on synthetic inputs
    outside its calibrated ranges."""

    agreement = None
    trials = ()

    def __init__(self, model, e):
        self.name, self.reason, self.model, self.e = "bf16", "less sure stand-in", model, e

    def __call__(self, x):
        return _less_sure(eager_logits(self.model, x), self.e)


def _less_sure(logits: np.ndarray, e: float) -> np.ndarray:
    p = rt.softmax(logits)
    return np.log((1 - e) * p + e / p.shape[1]).astype(np.float32)


def test_a_recorded_agreement_on_real_faces_decides_and_the_example_batch_is_a_smoke_test(model, example,
                                                                                           monkeypatch):
    reference = eager_logits(model, example)
    e = next((e for e in np.linspace(0.005, 0.12, 47)
              if rt.compare(reference, _less_sure(reference, e)).mean_prob_diff > 0.012), None)
    assert e is not None
    on_example = rt.compare(reference, _less_sure(reference, e))
    assert not on_example.ok and on_example.runs_as_fp32, on_example.describe()
    monkeypatch.setattr(rt_torch, "bf16_support", lambda: (True, "test"))
    monkeypatch.setitem(rt.BUILDERS, "bf16", lambda m, x, key, **_: _Blurred(m, e))
    without = rt.build_runner(model, example, "bf16")                # judged on the example batch alone
    assert "used as asked" in without.reason and without.warning
    faces = {"top1": 0.998, "top1_ties": 1.0, "max_prob_diff": 0.04, "rows": 3553, "mean_prob_diff": 0.003,
             "p99_prob_diff": 0.02, "accuracy_drop": 0.0}
    validated = {"source": "3553 validation faces", "backends": {"bf16": faces}}
    runner = rt.build_runner(model, example, "bf16", validated=validated)
    assert not getattr(runner, "warning", None)
    assert "on 3553 validation faces: agrees with fp32 on 100.0% of 3553 rows" in runner.reason
    assert "example batch: agrees" in runner.reason
    monkeypatch.setitem(rt.BUILDERS, "bf16", lambda m, e, key, **_: _Broken(m))
    broken = rt.build_runner(model, example, "bf16", validated=validated)  # a record does not excuse a broken build
    assert broken.warning and "no row moved by more than" in broken.warning


def test_int8_made_for_a_cpu_without_vnni_is_another_file_and_another_record():
    example = np.zeros((8, 3, 112, 112), np.float32)
    vnni, no_vnni = runtime_onnx._file_name("ckpt", example), runtime_onnx._file_name("ckpt", example, None, True)
    assert vnni != no_vnni and "-rr-" in no_vnni and "-rr-" not in vnni
    assert record_key("onnx-int8", True) == "onnx-int8:reduce_range" and record_key("onnx-int8", False) == "onnx-int8"
    assert record_key("onnx-int8") == record_key("onnx-int8", needs_reduce_range())


# ---------------------------------------------------------------- bf16: oneDNN Graph fusion, padding, fallback


@pytest.mark.parametrize("rows, padded", [(1, 1), (2, 2), (3, 4), (5, 8), (16, 16), (33, 64), (64, 64)])
def test_batches_are_padded_to_a_power_of_two(rows, padded):
    assert rt_torch.bucket(rows) == padded


def test_a_padded_runner_returns_one_row_per_input_and_pads_with_copies(model):
    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, x):
            seen.append(tuple(x.shape))
            return x.flatten(1)[:, :4] * 2

    runner = rt_torch.TorchRunner("t", Recorder(), "test", pad=True)
    batch = np.random.default_rng(0).standard_normal((5, 3, 8, 8)).astype(np.float32)
    out = runner(batch)
    assert seen == [(8, 3, 8, 8)]
    np.testing.assert_allclose(out, batch.reshape(5, -1)[:, :4] * 2, rtol=1e-6)


def test_a_failing_compiled_graph_falls_back_once_and_says_so(caplog):
    calls = []

    class Fails(torch.nn.Module):
        def forward(self, x):
            calls.append("compiled")
            raise RuntimeError("oneDNN graph compilation failed\nmore detail")

    class Plain(torch.nn.Module):
        def forward(self, x):
            calls.append("plain")
            return x[:, :2]

    runner = rt_torch.TorchRunner("bf16", Fails(), "fused", fallback=(Plain(), "eager mode"))
    x = np.ones((3, 2), np.float32)
    assert runner(x).shape == (3, 2) and runner(x).shape == (3, 2)
    assert calls == ["compiled", "plain", "plain"]
    assert "switched to eager mode" in runner.reason
    assert "compilation failed" in caplog.text
    with pytest.raises(RuntimeError, match="compilation failed"):  # without a fallback the error stands
        rt_torch.TorchRunner("x", Fails(), "r")(x)


@needs_bf16
@pytest.mark.parametrize("fusion", ["1", "0"])
def test_bf16_fusion_can_be_turned_off_and_agrees_either_way(monkeypatch, model, example, fusion):
    monkeypatch.setenv(rt_torch.FUSION_ENV, fusion)
    runner = rt.build_runner(model, example, "bf16")
    assert ("with oneDNN Graph fusion" in runner.reason) == (fusion == "1")
    assert runner.pad == (fusion == "1")
    for rows in (1, 3, 16, 16, 7):
        batch = np.random.default_rng(rows).standard_normal((rows, 3, 32, 32)).astype(np.float32)
        out = runner(batch)
        assert out.shape == (rows, 4)
        assert rt.compare(eager_logits(model, batch), out).ok
