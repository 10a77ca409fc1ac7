"""Synthetic FER2013/FER+ files written in the test, so training code runs without the real data."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from emotion.training.model_def import ArchConfig

FERPLUS_HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"


def write_fer_files(tmp_path, n_per_split=(48, 16, 16), seed=0, gz=True):
    """Write fer2013.csv(.gz), fer2013new.csv and fer2013_rebuild_rows.csv.gz; return their paths and truth.

    Images get a brightness pattern tied to the FER+ majority class, so a model can learn something.
    Row 1 is voted 'unknown', row 2 'NF', row 3 is flagged lossy: all three must be left out.
    """
    rng = np.random.default_rng(seed)
    usages = ["Training"] * n_per_split[0] + ["PublicTest"] * n_per_split[1] + ["PrivateTest"] * n_per_split[2]
    fer_rows, plus_rows, rebuild = [], [], []
    majority = []
    for i, usage in enumerate(usages):
        votes = [0] * 10
        cls = i % 8                       # FER+ column order
        votes[cls] = 7
        votes[(cls + 1) % 8] = 3
        if i == 1:
            votes = [1, 0, 0, 0, 0, 0, 0, 0, 9, 0]
        if i == 2:
            votes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 10]
        img = rng.integers(0, 60, (48, 48)) + cls * 24
        fer_rows.append(f"{i % 7},{' '.join(str(int(v)) for v in img.ravel())},{usage}")
        plus_rows.append(f"{usage},fer{i:07d}.png," + ",".join(map(str, votes)))
        rebuild.append(f"{i},{usage},{i % 7},{'jpg' if i == 3 else 'png'},x.jpg")
        majority.append(cls)
    fer = tmp_path / ("fer2013.csv.gz" if gz else "fer2013.csv")
    text = "emotion,pixels,Usage\n" + "\n".join(fer_rows) + "\n"
    if gz:
        with gzip.open(fer, "wt") as fh:
            fh.write(text)
    else:
        fer.write_text(text)
    plus = tmp_path / "fer2013new.csv"
    plus.write_text(FERPLUS_HEADER + "\n" + "\n".join(plus_rows) + "\n")
    with gzip.open(tmp_path / "fer2013_rebuild_rows.csv.gz", "wt") as fh:
        fh.write("row,Usage,emotion,pixels_from,jpg_file\n" + "\n".join(rebuild) + "\n")
    return fer, plus, majority


@pytest.fixture
def fer_files(tmp_path):
    return write_fer_files(tmp_path)


@pytest.fixture
def make_fer_files():
    return write_fer_files


@pytest.fixture(scope="module")
def make_fer_files_module():
    return write_fer_files


TINY = ArchConfig(side=32, widths=(8, 16, 16, 16), depths=(1, 1, 1, 1))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, make_fer_files_module):
    """A real 2-epoch training run on synthetic files: (config, checkpoint dir, epoch rows, fer csv, FER+ csv)."""
    from emotion.training.train import TrainConfig, train

    tmp = tmp_path_factory.mktemp("train")
    fer, plus, _ = make_fer_files_module(tmp)
    cfg = TrainConfig(fer2013=str(fer), ferplus=str(plus), out=str(tmp / "run"), epochs=2, batch_size=16,
                      lr=0.05, threads=1, arch=TINY, cache_dir=str(tmp / "cache"))
    rows = []
    ckpt = train(cfg, progress=rows.append)
    return cfg, ckpt, rows, fer, plus
