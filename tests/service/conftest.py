"""Fixtures of the service and batch tests: a long-enough synthetic film, a photo, server arguments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synth_video import CUT_COLOURS, scene_video


@pytest.fixture(scope="session")
def long_film(tmp_path_factory) -> Path:
    """40 s of noisy colour shots (160x120): at 20 samples/s it runs for seconds, long enough to stop mid-way."""
    path = tmp_path_factory.mktemp("films") / "long take.mp4"
    return scene_video(path, [(c, 100) for c in CUT_COLOURS[:5]] * 2, size=(160, 120), noise=20)


@pytest.fixture(scope="session")
def short_films(tmp_path_factory) -> Path:
    """A folder of three 2-4 s films and one file that is not a video."""
    folder = tmp_path_factory.mktemp("batch-in")
    for i, n in enumerate((2, 3, 4)):
        scene_video(folder / f"film {i}.mp4", [(c, 25) for c in CUT_COLOURS[i:i + n]], size=(96, 64), noise=8)
    (folder / "broken.mp4").write_bytes(b"this is not a video")
    return folder


@pytest.fixture(scope="session")
def face_png(tmp_path_factory) -> Path:
    """A small RGB PNG (no real face: Haar may or may not fire; the answer must match the CLI either way)."""
    from PIL import Image

    rng = np.random.default_rng(3)
    path = tmp_path_factory.mktemp("img") / "frame.png"
    Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture(scope="session")
def model_args(tiny_checkpoint) -> list[str]:
    """The same model options for the service, the CLI and batch runs: results must agree exactly."""
    return ["--model", str(tiny_checkpoint), "--detector", "haar", "--backend", "eager"]
