"""A machine whose ``auto`` choice is onnx-int8 starts without importing PyTorch, with the same numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from emotion.model import load_model
from emotion.model.emotion_model import _example_crops
model = load_model("bundled", backend=sys.argv[1])
probs = model.predict(_example_crops()).probs
print(json.dumps({"backend": model.backend, "torch": "torch" in sys.modules, "probs": probs.tolist(),
                  "reason": model.backend_reason}))
"""


def _run(backend: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, backend], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_remembered_int8_choice_starts_without_torch_and_reads_faces_the_same(tmp_path):
    env = {**os.environ, "EMOTION_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    explicit = _run("onnx-int8", env)                 # exports and caches the int8 file, with torch
    assert explicit["backend"] == "onnx-int8" and explicit["torch"]
    # This machine's auto race is made to have chosen onnx-int8 (what it chooses depends on the CPU).
    from emotion.model import load_model
    from emotion.model.checkpoint import BUNDLED_DIR, checkpoint_hash
    from emotion.model.emotion_model import _example_crops
    from emotion.runtime import auto

    shape = load_model("bundled", backend="eager").preprocess(_example_crops()).shape
    old = os.environ.get("EMOTION_CACHE_DIR")
    os.environ["EMOTION_CACHE_DIR"] = str(tmp_path)
    try:
        path = auto._decision_path(checkpoint_hash(BUNDLED_DIR), tuple(shape))
        trials = [auto.Trial("eager", 0.02, "fp32"), auto.Trial("onnx-int8", 0.01, "passed the guard")]
        auto._save_decision(path, "onnx-int8", trials, "test")
    finally:
        if old is None:
            os.environ.pop("EMOTION_CACHE_DIR", None)
        else:
            os.environ["EMOTION_CACHE_DIR"] = old
    started = _run("auto", env)
    assert started["backend"] == "onnx-int8" and not started["torch"], started["reason"]
    assert "PyTorch is not loaded" in started["reason"]
    assert started["probs"] == explicit["probs"], "the same file, the same probabilities"
