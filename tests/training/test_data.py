
import numpy as np
import pytest

from emotion.errors import DataError
from emotion.labels import CANONICAL
from emotion.training.data import build_faceset, load_faceset, load_fer2013, load_ferplus


@pytest.mark.parametrize("gz", [True, False])
def test_load_fer2013_plain_and_gz(tmp_path, make_fer_files, gz):
    fer, _, _ = make_fer_files(tmp_path, gz=gz)
    d = load_fer2013(fer)
    assert d.images.shape == (80, 48, 48) and d.images.dtype == np.uint8
    assert list(np.unique(d.usage)) == ["PrivateTest", "PublicTest", "Training"]
    assert d.labels[:8].tolist() == [0, 1, 2, 3, 4, 5, 6, 0]


def test_faceset_filters_unknown_nf_and_lossy(fer_files, tmp_path):
    fer, plus, majority = fer_files
    ds = load_faceset(fer, plus, cache_dir=tmp_path / "cache")
    assert 1 not in ds.rows and 2 not in ds.rows and 3 not in ds.rows
    assert len(ds) == 80 - 3
    # FER+ column order neutral, happiness, surprise, sadness, anger, disgust, fear, contempt
    ferplus_to_canon = ["neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt"]
    for r, m in zip(ds.rows, ds.majority):
        assert CANONICAL[m] == ferplus_to_canon[majority[r]]
    np.testing.assert_allclose(ds.soft.sum(1), 1.0, rtol=1e-6)
    assert np.allclose(ds.soft.max(1), 0.7)
    # the cache returns the same arrays
    again = load_faceset(fer, plus, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(again.images, ds.images)
    np.testing.assert_array_equal(again.soft, ds.soft)


def test_fer2013_labels_only(fer_files):
    fer, _, _ = fer_files
    ds = build_faceset(load_fer2013(fer), None)
    assert len(ds) == 80
    assert (ds.soft.max(1) == 1).all()
    assert [CANONICAL[i] for i in ds.majority[:7]] == ["angry", "disgust", "fear", "happy", "sad", "surprise",
                                                        "neutral"]


@pytest.mark.parametrize("text, message", [
    ("emotion,pixels\n", "header"),
    ("emotion,pixels,Usage\n0,1 2 3,Training\n", "2304 pixels"),
    ("emotion,pixels,Usage\n9," + " ".join(["0"] * 2304) + ",Training\n", "outside 0..6"),
    ("emotion,pixels,Usage\n0," + " ".join(["0"] * 2304) + ",Validation\n", "Usage"),
    ("emotion,pixels,Usage\nx," + " ".join(["0"] * 2304) + ",Training\n", "not a number"),
    ("emotion,pixels,Usage\n", "no rows"),
])
def test_fer2013_malformed(tmp_path, text, message):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=message):
        load_fer2013(p)


def test_missing_file_is_clear(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_fer2013(tmp_path / "nope.csv")


def test_ferplus_header_and_row_mismatch(tmp_path, fer_files):
    fer, plus, _ = fer_files
    bad = tmp_path / "bad.csv"
    bad.write_text("Usage,Image name,a,b\n")
    with pytest.raises(DataError, match="FER\\+ header"):
        load_ferplus(bad)
    short = tmp_path / "short.csv"
    short.write_text("\n".join(plus.read_text().splitlines()[:10]) + "\n")
    with pytest.raises(DataError, match="same file order"):
        build_faceset(load_fer2013(fer), load_ferplus(short))


def test_drop_lossy_false_keeps_every_row_and_caches_separately(fer_files, tmp_path):
    fer, _, _ = fer_files
    kept = load_faceset(fer, None, cache_dir=tmp_path / "c", drop_lossy=False)
    dropped = load_faceset(fer, None, cache_dir=tmp_path / "c")
    assert len(kept) == 80 and 3 in kept.rows
    assert len(dropped) == 79 and 3 not in dropped.rows
    assert len(list((tmp_path / "c").glob("faceset-*.npz"))) == 2
