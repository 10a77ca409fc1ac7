"""Shared fixtures: a tiny real checkpoint, the shared data paths, and a network-free sandbox.

The tiny checkpoint is a randomly initialised transformers ResNet saved with
``save_pretrained`` in the same layout as the bundled model (80x80, mean/std
0.5, FER+ class names), so tests load it through the real loader.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PHOTOS = SHARED / "media" / "photos"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"

#: FER+ column order and names, so the fixture also exercises the synonym mapping.
FERPLUS_NAMES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")


def needs_shared(path: Path):
    """Skip unless ``path`` from ../shared/data exists."""
    return pytest.mark.skipif(not path.exists(), reason=f"needs {path} (../shared/data is not beside the repo)")


def save_tiny_checkpoint(out: Path, names=FERPLUS_NAMES, num_channels: int = 3, size: int = 80,
                         seed: int = 0, processor: dict | None = None) -> Path:
    """Save a randomly initialised ResNet image classifier and its preprocessor config to ``out``."""
    import torch
    from transformers import ResNetConfig, ResNetForImageClassification
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    torch.manual_seed(seed)
    config = ResNetConfig(num_channels=num_channels, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1],
                          layer_type="basic", id2label=dict(enumerate(names)),
                          label2id={n: i for i, n in enumerate(names)})
    model = ResNetForImageClassification(config).eval()
    model.save_pretrained(out)
    kwargs = {"size": {"height": size, "width": size}, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}
    kwargs.update(processor or {})
    ViTImageProcessorPil(**kwargs).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """Directory of a tiny 8-class checkpoint (FER+ class names)."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny-ferplus"))


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint):
    from emotion.model import load_model

    return load_model(str(tiny_checkpoint), backend="eager")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, tmp_path):
    """No test may reach the network: the YuNet download fails, the HF hub is offline, caches are private."""
    import emotion.faces as faces

    def refuse(url, dest, timeout=0):
        raise OSError(f"network disabled in tests (asked for {url})")

    monkeypatch.setattr(faces, "fetch_url", refuse)
    monkeypatch.setattr(faces, "_last_failure", None)
    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EMOTION_FACE_MODEL", raising=False)
    monkeypatch.delenv("EMOTION_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def photo(name: str) -> Path:
    return PHOTOS / name


os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
