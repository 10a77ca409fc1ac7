"""emotion.model.resnet: the plain-PyTorch ResNet gives transformers' logits, and loading it skips transformers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emotion.model import resnet
from emotion.model import BUNDLED_DIR, load_model

ROOT = Path(__file__).resolve().parents[2]


def _transformers_logits(path: Path, x):
    import torch
    from transformers import AutoModelForImageClassification

    model = AutoModelForImageClassification.from_pretrained(str(path)).eval()
    with torch.inference_mode():
        return model(pixel_values=x).logits


@pytest.mark.parametrize("which", ["tiny", "bundled"])
def test_same_logits_as_transformers(which, tiny_checkpoint):
    import torch

    path = tiny_checkpoint if which == "tiny" else BUNDLED_DIR
    config = json.loads((path / "config.json").read_text())
    assert resnet.supports(config)
    side = 80 if which == "tiny" else 112
    x = torch.from_numpy(np.random.default_rng(3).standard_normal((4, 3, side, side)).astype(np.float32))
    with torch.inference_mode():
        ours = resnet.load(path, config)(x).logits
    assert torch.equal(ours, _transformers_logits(path, x))


@pytest.mark.parametrize("change", [{"layer_type": "bottleneck"}, {"hidden_act": "gelu"}, {"model_type": "vit"},
                                    {"architectures": ["ResNetModel"]}])
def test_other_configurations_go_to_transformers(change):
    config = {"model_type": "resnet", "layer_type": "basic", "hidden_act": "relu",
              "architectures": ["ResNetForImageClassification"], **change}
    assert not resnet.supports(config)


def test_weights_that_do_not_fit_fall_back_to_transformers(tiny_checkpoint, tmp_path):
    import shutil

    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, ckpt)
    config = json.loads((ckpt / "config.json").read_text())
    config["hidden_sizes"] = [8, 32]  # the weights say 16: the plain builder refuses, transformers explains
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(RuntimeError):
        resnet.load(ckpt, config)
    from emotion.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="transformers cannot load it"):
        load_model(str(ckpt), backend="eager")


def test_loading_the_bundled_model_does_not_import_transformers_model_code():
    code = ("import sys; from emotion.model import load_model; m = load_model('bundled', 'eager'); "
            "print(m.labels[0], 'transformers.modeling_utils' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["angry", "False"]
