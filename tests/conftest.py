"""Shared fixtures: a tiny real checkpoint, the shared data, and a sandbox without network.

The tiny checkpoint is a randomly initialised transformers ResNet saved with
``save_pretrained`` in the layout of the bundled model (80x80 input, mean/std
0.5, FER+ class names), so tests load it through the real loader.
Tests that need ../shared/data skip with the path they missed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

#: FER+ column names and order, so the fixture also exercises the synonym mapping.
FERPLUS_NAMES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")


def _save_checkpoint(out: Path, names=FERPLUS_NAMES, num_channels: int = 3, size: int = 80, seed: int = 0,
                     processor: dict | None = None) -> Path:
    import torch
    from transformers import ResNetConfig, ResNetForImageClassification
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    torch.manual_seed(seed)
    config = ResNetConfig(num_channels=num_channels, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1],
                          layer_type="basic", id2label=dict(enumerate(names)),
                          label2id={n: i for i, n in enumerate(names)})
    ResNetForImageClassification(config).eval().save_pretrained(out)
    kwargs = {"size": {"height": size, "width": size}, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}
    kwargs.update(processor or {})
    ViTImageProcessorPil(**kwargs).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def make_checkpoint(tmp_path_factory):
    """Factory: ``make_checkpoint(names=..., num_channels=..., size=..., seed=...)`` -> checkpoint dir."""
    def make(**kwargs) -> Path:
        return _save_checkpoint(tmp_path_factory.mktemp("ckpt"), **kwargs)
    return make


@pytest.fixture(scope="session")
def tiny_checkpoint(make_checkpoint) -> Path:
    """A tiny 8-class checkpoint with FER+ class names."""
    return make_checkpoint()


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint):
    from emotion.model import load_model

    return load_model(str(tiny_checkpoint), backend="eager")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, tmp_path):
    """No test reaches the network: the YuNet download fails, the HF hub is offline, caches are private."""
    import huggingface_hub.constants

    import emotion.faces as faces

    def refuse(url, dest, timeout=0):
        raise OSError(f"network disabled in tests (asked for {url})")

    monkeypatch.setattr(faces, "fetch_url", refuse)
    monkeypatch.setattr(faces, "_last_failure", None)
    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "emotion-cache"))
    monkeypatch.delenv("EMOTION_FACE_MODEL", raising=False)
    monkeypatch.delenv("EMOTION_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # A developer's own Hugging Face cache must not change what the hub tests see.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"needs {SHARED} (../shared/data beside the repo)")
    return SHARED


@pytest.fixture
def yunet_path(shared_data) -> Path:
    path = shared_data / "models" / "face_detection_yunet_2026may.onnx"
    if not path.is_file():
        pytest.skip(f"needs the YuNet copy at {path}")
    return path


@pytest.fixture
def photo(shared_data):
    """Factory: ``photo("faceapi_happy.jpg")`` -> path in ../shared/data/media/photos (skips if absent)."""
    def get(name: str) -> Path:
        path = shared_data / "media" / "photos" / name
        if not path.is_file():
            pytest.skip(f"needs {path}")
        return path
    return get


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
