"""``python -m emotion film``: exports, progress on stderr, cache, and a bad file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the synthetic-video helpers live in tests/

from synth_video import NAVY, RED, WHITE, scene_video

from emotion.cli import main
from emotion.film.timeline import SCENE_COLUMNS_HEAD


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return scene_video(tmp_path_factory.mktemp("cli") / "clip.mp4", [(RED, 25), (NAVY, 25), (WHITE, 25)], noise=3)


def _args(tiny_checkpoint, *extra):
    return [*extra, "--model", str(tiny_checkpoint), "--detector", "haar", "--backend", "eager"]


def test_writes_the_three_exports_and_reports_progress(clip, tiny_checkpoint, tmp_path, capsys):
    scenes, frames, summary = tmp_path / "scenes.csv", tmp_path / "frames.csv", tmp_path / "summary.json"
    code = main(["film", str(clip), *_args(tiny_checkpoint, "--fps", "2", "--scenes-csv", str(scenes),
                                           "--frames-csv", str(frames), "--json", str(summary))])
    out, err = capsys.readouterr()
    assert code == 0, err
    header = scenes.read_text().splitlines()[0].split(",")
    assert header[:len(SCENE_COLUMNS_HEAD)] == list(SCENE_COLUMNS_HEAD)
    assert len(scenes.read_text().splitlines()) == 1 + 3
    assert len(frames.read_text().splitlines()) == 1 + 6          # 2 samples/s x 3 s, no faces
    data = json.loads(summary.read_text())
    assert data["source"] == "clip.mp4" and len(data["scenes"]) == 3 and data["detector"] == "haar"
    assert "clip.mp4: 3 scene(s)" in out and "no face" in out
    assert "100.0%" in err and "ETA" in err                      # progress lines (stderr is not a tty here)
    assert "No face was found" in err                            # warnings go to stderr


def test_second_run_comes_from_the_cache_and_json_can_go_to_stdout(clip, tiny_checkpoint, capsys):
    assert main(["film", str(clip), *_args(tiny_checkpoint, "--fps", "1", "-q")]) == 0
    capsys.readouterr()
    assert main(["film", str(clip), *_args(tiny_checkpoint, "--fps", "1", "--json", "-")]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["settings"]["fps"] == 1.0
    assert "loaded from the cache" in err


def test_bad_file_is_one_line_and_non_zero(tmp_path, tiny_checkpoint, capsys):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a film")
    code = main(["film", str(bad), *_args(tiny_checkpoint)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: notes.mp4: not a video file") and "Traceback" not in err


def test_bad_setting_is_reported(clip, tiny_checkpoint, capsys):
    assert main(["film", str(clip), *_args(tiny_checkpoint, "--fps", "0")]) == 1
    assert "fps" in capsys.readouterr().err


@pytest.mark.parametrize("option, make, message", [
    ("--scenes-csv", lambda tmp: tmp / "missing" / "s.csv", "does not exist"),
    ("--json", lambda tmp: tmp, "is a folder"),
])
def test_bad_output_path_fails_before_the_model_loads(option, make, message, clip, tmp_path, monkeypatch, capsys):
    import emotion.detector

    def no_model(*a, **kw):
        raise AssertionError("the model was loaded before the output path was checked")

    monkeypatch.setattr(emotion.detector, "build_detector", no_model)
    assert main(["film", str(clip), option, str(make(tmp_path)), "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {option}") and message in err and "Traceback" not in err


@pytest.mark.parametrize("make, message", [
    (lambda tmp: (tmp / "notes.mp4").write_text("not a film") and tmp / "notes.mp4", "not a video file"),
    (lambda tmp: tmp, "is a folder"),
])
def test_bad_video_fails_before_the_model_loads_without_errno(make, message, tmp_path, monkeypatch, capsys):
    import emotion.detector

    monkeypatch.setattr(emotion.detector, "build_detector", lambda *a, **kw: pytest.fail("model loaded first"))
    assert main(["film", str(make(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert message in err and "Errno" not in err and "Traceback" not in err


def test_a_resumed_run_says_so(clip, tiny_checkpoint, monkeypatch, capsys):
    from emotion.film import sampling

    real = sampling.FilmPass.run
    calls = {"n": 0}

    def stop_once(self):
        calls["n"] += 1
        if calls["n"] == 1:   # the first run stops after its first chunk is saved, as Ctrl-C would
            checkpoint = self.checkpoint

            def interrupt():
                checkpoint()
                raise KeyboardInterrupt

            self.checkpoint = interrupt
        return real(self)

    monkeypatch.setattr(sampling.FilmPass, "run", stop_once)
    args = _args(tiny_checkpoint, "--fps", "8", "--json", "-", "-q")
    assert main(["film", str(clip), *args]) == 130
    assert "run the same command again to resume" in capsys.readouterr().err
    assert main(["film", str(clip), *args]) == 0
    out, err = capsys.readouterr()
    assert "resumed from 00:00:01.880" in err    # 16 samples at 8/s were saved; the 16th is frame 47 of 25 fps
    assert json.loads(out)["resumed_from"] == pytest.approx(1.88)
