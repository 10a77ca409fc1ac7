"""The ipex backend where Intel Extension for PyTorch really is installed (requirements-ipex.txt); skipped elsewhere.

IPEX is archived and needs torch 2.8, so the default environment (torch 2.13) never has it: this test
skips there with the reason ``import_ipex`` gives, and runs in the environment requirements-ipex.txt makes.
"""

from __future__ import annotations

import numpy as np
import pytest

from emotion.runtime import build_runner, import_ipex


@pytest.fixture(scope="module")
def ipex():
    module, why = import_ipex()
    if module is None:
        pytest.skip(f"the ipex backend is unavailable here: {why} (see requirements-ipex.txt)")
    return module


def test_the_bundled_model_runs_on_ipex_and_agrees_with_fp32(ipex):
    from emotion.model.emotion_model import _example_crops
    from emotion.model.loading import load_model, product_network

    pixels = load_model("bundled", backend="eager").preprocess(_example_crops())
    network = product_network("bundled")
    fp32 = build_runner(network, pixels, "eager")
    runner = build_runner(network, pixels, "ipex")
    assert runner.name == "ipex"
    ref = np.asarray(fp32(pixels), np.float32).reshape(len(pixels), -1)
    got = np.asarray(runner(pixels), np.float32).reshape(len(pixels), -1)
    assert (ref.argmax(1) == got.argmax(1)).mean() >= 0.9, "bf16 under IPEX reads the faces as fp32 does"
