"""``python -m emotion image``: output formats, several files, and a bad file among good ones."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emotion.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((60, 80, 3), 200, np.uint8)).save(blank)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"this is not a jpeg")
    return blank, bad, tmp_path / "missing.png"


def test_json_lines_and_exit_code_with_a_bad_file(files, tiny_checkpoint, capsys):
    blank, bad, missing = files
    code = main(["image", str(blank), str(bad), str(missing), str(blank), "--json",
                 "--model", str(tiny_checkpoint), "--detector", "haar", "--backend", "eager"])
    out, err = capsys.readouterr()
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in records] == [str(blank), str(blank)], "good files are still processed"
    assert list(records[0]) == ["path", "detector", "model", "faces"] and records[0]["faces"] == []
    assert records[0]["detector"] == "haar" and records[0]["model"] == str(tiny_checkpoint)
    lines = err.strip().splitlines()
    assert any(str(bad) in line and "not an image" in line for line in lines)
    assert any(str(missing) in line and "no such file" in line for line in lines)
    assert "Traceback" not in err


def test_real_photo_json(tiny_checkpoint, yunet_path, photo, capsys):
    path = photo("facerec_two_people.jpg")
    code = main(["image", str(path), "--json", "--model", str(tiny_checkpoint), "--face-model", str(yunet_path),
                 "--backend", "eager"])
    rec = json.loads(capsys.readouterr().out)
    assert code == 0 and rec["detector"] == "yunet" and len(rec["faces"]) == 2
    face = rec["faces"][0]
    assert list(face) == ["box", "score", "emotion", "probabilities"] and len(face["box"]) == 4
    assert face["emotion"] == max(face["probabilities"], key=face["probabilities"].get)


def test_text_summary_and_annotated_output(files, tiny_checkpoint, tmp_path, capsys):
    blank, _, _ = files
    code = main(["image", str(blank), "--model", str(tiny_checkpoint), "--detector", "haar",
                 "--annotate", str(tmp_path / "out")])
    assert code == 0 and "0 face(s)" in capsys.readouterr().out
    assert Image.open(tmp_path / "out" / "blank.png").size == (80, 60)


def test_missing_model_is_one_line_not_a_traceback(files, tmp_path, monkeypatch, capsys):
    import emotion.model.checkpoint as model_mod

    monkeypatch.setattr(model_mod, "BUNDLED_DIR", tmp_path / "none")
    assert main(["image", str(files[0]), "--detector", "haar"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: the bundled emotion model is not installed")


def test_bad_option_values(files, capsys):
    with pytest.raises(SystemExit) as info:
        main(["image", str(files[0]), "--detector", "mtcnn"])
    assert info.value.code == 2


def test_python_dash_m_entry_point(files, tiny_checkpoint):
    """The real command line in a subprocess, as a user runs it."""
    blank, bad, _ = files
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "emotion", "image", str(blank), str(bad), "--json",
                           "--model", str(tiny_checkpoint), "--detector", "haar"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["path"] == str(blank)
    assert "not an image" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_normal_run_of_the_bundled_model_prints_no_third_party_warnings(yunet_path, photo, tmp_path):
    """A new user's first command: results on stdout and nothing on stderr (no transformers or backend notes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EMOTION_CACHE_DIR": str(tmp_path / "cache"),
           "EMOTION_FACE_MODEL": str(yunet_path)}
    for _ in range(2):  # the first run races the backends on this machine, the second remembers the choice
        proc = subprocess.run([sys.executable, "-m", "emotion", "image", str(photo("faceapi_happy.jpg"))],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "happy" in proc.stdout
        assert proc.stderr == ""
    verbose = subprocess.run([sys.executable, "-m", "emotion", "-v", "image", str(photo("faceapi_happy.jpg"))],
                             capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert "auto picked" in verbose.stderr  # the backend decision is there for those who ask


def test_quiet_and_verbose_together_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["-q", "-v", "image", "x.png"])
    assert exc.value.code == 2 and "contradict" in capsys.readouterr().err
