"""``auto`` remembers its race per machine, and a small job may take a backend that is quicker to build."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emotion import runtime as rt
from emotion.runtime import auto as rt_auto
from emotion.runtime import torch_backends as rt_torch

transformers = pytest.importorskip("transformers")


@pytest.fixture()
def model(tiny_checkpoint):
    return transformers.AutoModelForImageClassification.from_pretrained(str(tiny_checkpoint)).eval()


@pytest.fixture()
def example():
    return np.random.default_rng(1).standard_normal((8, 3, 80, 80)).astype(np.float32)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(rt_auto, "AUTO_TIME_BUDGET_S", 0.01)
    monkeypatch.setattr(rt_torch, "bf16_support", lambda: (True, "test"))
    monkeypatch.setattr(rt_torch, "import_ipex", lambda: (None, "not installed (test)"))


def _decisions(tmp_path):
    return sorted((tmp_path / "cache" / "runtime").glob("auto-*.json"))


def test_the_race_is_remembered_and_a_later_load_builds_only_the_winner(model, example, monkeypatch, tmp_path):
    monkeypatch.setattr(rt_auto, "race", lambda runners, x, **kw: {n: (0.1 if n == "bf16" else 1.0) for n in runners})
    first = rt.build_runner(model, example, "auto", cache_key="ckpt-a")
    assert first.name == "bf16"
    [path] = _decisions(tmp_path)
    saved = json.loads(path.read_text())
    assert saved["best"] == "bf16"
    assert {t["backend"] for t in saved["trials"]} >= {"eager", "bf16", "onnx-int8"}

    built = []
    real = dict(rt.BUILDERS)

    def counting(name):
        def build(*a, **kw):
            built.append(name)
            return real[name](*a, **kw)
        return build

    for name in ("bf16", "onnx-int8"):
        monkeypatch.setitem(rt.BUILDERS, name, counting(name))
    monkeypatch.setattr(rt_auto, "race", lambda *a, **kw: pytest.fail("a remembered decision must not race again"))
    second = rt.build_runner(model, example, "auto", cache_key="ckpt-a")
    assert second.name == "bf16" and built == ["bf16"]
    assert "remembered" in second.reason and "agrees with fp32" in second.reason
    assert rt_auto.remembered("ckpt-a", example.shape) == "bf16"
    assert rt_auto.remembered("ckpt-b", example.shape) is None  # another checkpoint: not known


def test_a_damaged_decision_file_means_a_new_race(model, example, monkeypatch, tmp_path):
    monkeypatch.setattr(rt_auto, "race", lambda runners, x, **kw: {n: (0.1 if n == "bf16" else 1.0) for n in runners})
    rt.build_runner(model, example, "auto", cache_key="ckpt-a")
    [path] = _decisions(tmp_path)
    path.write_text("{not json")
    raced = []
    monkeypatch.setattr(rt_auto, "race", lambda runners, x, **kw: raced.append(1) or {n: 1.0 for n in runners})
    runner = rt.build_runner(model, example, "auto", cache_key="ckpt-a")
    assert raced and runner.name in ("eager", "bf16")
    assert json.loads(path.read_text())["best"] == runner.name


@pytest.mark.parametrize("expected_faces, want", [(None, "bf16"), (8, "eager"), (10_000_000, "bf16")])
def test_a_small_job_weighs_build_time_against_speed(model, example, monkeypatch, tmp_path, expected_faces, want):
    monkeypatch.setattr(rt_auto, "race", lambda runners, x, **kw: {n: (0.1 if n == "bf16" else 1.0) for n in runners})
    rt.build_runner(model, example, "auto", cache_key="ckpt-a")
    [path] = _decisions(tmp_path)
    saved = json.loads(path.read_text())
    for t in saved["trials"]:  # bf16 takes 30 s to build and saves 0.9 s per batch of 8 faces
        if t["backend"] == "bf16":
            t["build_s"] = 30.0
    path.write_text(json.dumps(saved))
    runner = rt.build_runner(model, example, "auto", cache_key="ckpt-a", expected_faces=expected_faces)
    assert runner.name == want
    if want == "eager" and expected_faces:
        assert "quickest to build and run" in runner.reason


def test_without_a_cache_key_nothing_is_remembered(model, example, tmp_path):
    rt.build_runner(model, example, "auto")
    assert _decisions(tmp_path) == []


def test_a_remembered_eager_that_nothing_else_beat_says_why_instead_of_an_empty_race(model, example, monkeypatch,
                                                                                     tmp_path):
    # Field report (AVX2-only CPU): "eager is the fastest on this machine (measured ...: ; ...)", nothing raced.
    monkeypatch.setattr(rt_torch, "bf16_support", lambda: (False, "this CPU has no bf16 (test)"))
    from emotion.runtime import backends as rt_backends

    monkeypatch.setitem(rt_backends.BUILDERS, "onnx-int8", lambda *a, **kw: (_ for _ in ()).throw(
        rt.BackendUnavailable("onnx-int8: unavailable in this test")))
    first = rt.build_runner(model, example, "auto", cache_key="ckpt-e")
    assert first.name == "eager" and "no faster backend passed" in first.reason
    again = rt.build_runner(model, example, "auto", cache_key="ckpt-e")
    assert again.name == "eager"
    assert "the only backend that passed the guard" in again.reason and "measured" not in again.reason
    assert "onnx-int8: unavailable in this test" in again.reason and ": ;" not in again.reason
