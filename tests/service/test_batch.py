"""``python -m emotion batch``: folders and manifests, per-film results, index, resume, and Ray = local."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest

from emotion.cli import main
from emotion.errors import EmotionError
from emotion.service.batch import discover

FILES = ("scenes.csv", "shots.csv", "frames.csv", "report.json", "report.html")


def _index(out):
    with open(out / "index.csv", newline="") as f:
        return {r["film"]: r for r in csv.DictReader(f)}


def _same_results(a, b):
    """The per-film files of two runs agree exactly, the run's own timing and Plotly's random div ids aside."""
    uuid = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    for name in FILES:
        x, y = (a / name).read_bytes(), (b / name).read_bytes()
        if name == "report.json":
            x, y = json.loads(x), json.loads(y)
            x.pop("elapsed_s"), y.pop("elapsed_s")
        if name == "report.html":
            x, y = uuid.sub(b"ID", x), uuid.sub(b"ID", y)
        assert x == y, f"{a.name}/{name} differs"


@pytest.fixture(scope="module")
def local_run(short_films, model_args, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch-local")
    cache = tmp_path_factory.mktemp("batch-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("EMOTION_CACHE_DIR", str(cache))
    try:
        code = main(["-q", "batch", str(short_films), "--out", str(out), "--workers", "2", "--fps", "4", *model_args])
    finally:
        mp.undo()
    return code, out


def test_local_pool_writes_a_folder_per_film_and_an_index(local_run):
    code, out = local_run
    assert code == 1, "one film failed, so the run says so"
    rows = _index(out)
    assert list(rows) == ["broken", "film_0", "film_1", "film_2"]
    assert rows["broken"]["status"] == "failed" and "not a video file" in rows["broken"]["error"]
    for name, shots in [("film_0", 2), ("film_1", 3), ("film_2", 4)]:
        row = rows[name]
        assert row["status"] == "done" and int(row["shots"]) == shots and float(row["elapsed_s"]) > 0
        assert all((out / name / f).stat().st_size > 0 for f in FILES)
        assert json.loads((out / name / "status.json").read_text())["status"] == "done"
    workers = {r["worker"] for r in rows.values() if r["status"] == "done"}
    loads = [r for r in rows.values() if r["model_loaded"] == "True"]
    assert len(loads) == len(workers) <= 2, "each worker loads the model once"


def test_a_second_run_skips_finished_films_and_retries_failed_ones(local_run, short_films, model_args, tmp_path,
                                                                   capsys):
    _, out = local_run
    again = tmp_path / "again"
    shutil.copytree(out, again)
    before = {n: (again / n / "status.json").read_text() for n in ("film_0", "film_1", "film_2")}
    assert main(["batch", str(short_films), "--out", str(again), "--fps", "4", "--workers", "1", *model_args]) == 1
    err = capsys.readouterr().err
    assert "3 of 4 film(s) already done" in err and "[4/4] broken: FAILED" in err and "ETA" in err
    assert before == {n: (again / n / "status.json").read_text() for n in before}, "finished films untouched"
    # changed settings are a different analysis: nothing is skipped
    assert main(["-q", "batch", str(short_films), "--out", str(again), "--fps", "2", "--workers", "1",
                 *model_args]) == 1
    assert json.loads((again / "film_0" / "status.json").read_text())["sampled_frames"] == 4


def test_manifest_paths_names_and_kinds(short_films, tmp_path):
    manifest = tmp_path / "list.csv"
    manifest.write_text(f"path,name,kind\n{short_films / 'film 0.mp4'},Opening,film\n"
                        f"{short_films / 'film 1.mp4'},Opening,\n{short_films / 'film 2.mp4'},,reaction\n")
    items = discover(manifest)
    assert [(i.name, i.kind) for i in items] == [("Opening", "film"), ("Opening-2", "film"), ("film_2", "reaction")]
    manifest.write_text("film\n")
    with pytest.raises(EmotionError, match="lists no films"):
        discover(manifest)
    manifest.write_text("file\nx.mp4\n")
    with pytest.raises(EmotionError, match="needs a 'path' column"):
        discover(manifest)
    with pytest.raises(EmotionError, match="no video files"):
        discover(tmp_path)


@pytest.mark.ray
def test_ray_gives_the_same_results_as_the_local_pool(local_run, short_films, model_args, tmp_path, monkeypatch,
                                                      capsys):
    pytest.importorskip("ray", reason="Ray is optional: pip install -r requirements-ray.txt")
    _, local = local_run
    out = tmp_path / "ray"
    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "ray-cache"))  # computed again, not from the cache
    code = main(["batch", str(short_films), "--out", str(out), "--ray", "local", "--workers", "2", "--fps", "4",
                 *model_args])
    assert code == 1
    assert "[4/4]" in capsys.readouterr().err
    rows = _index(out)
    assert [rows[n]["status"] for n in ("broken", "film_0", "film_1", "film_2")] == ["failed", "done", "done", "done"]
    for name in ("film_0", "film_1", "film_2"):
        _same_results(local / name, out / name)
    workers = {r["worker"] for r in rows.values()}
    assert sum(r["model_loaded"] == "True" for r in rows.values()) == len(
        {r["worker"] for r in rows.values() if r["model_loaded"] == "True"}) <= 2, workers
