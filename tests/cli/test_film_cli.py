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
    assert len(scenes.read_text().splitlines()) == 1 + 1          # 3 one-second shots: shorter than a scene
    assert len(frames.read_text().splitlines()) == 1 + 6          # 2 samples/s x 3 s, no faces
    data = json.loads(summary.read_text())
    assert data["source"] == "clip.mp4" and len(data["scenes"]) == 1 and data["detector"] == "haar"
    assert len(data["shots"]) == 3 and data["segmentation"] == "scenes"
    assert "clip.mp4: 1 scene(s) (scenes) from 3 shot(s)" in out and "no face" in out
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


@pytest.mark.parametrize("where", ["before the command", "after it"])
def test_quiet_prints_results_only(clip, tiny_checkpoint, capsys, where):
    args = ["film", str(clip), *_args(tiny_checkpoint, "--fps", "1.5", "--json", "-")]
    args = ["-q", *args] if where == "before the command" else [*args, "-q"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["settings"]["fps"] == 1.5
    assert "ETA" not in err and "loaded from the cache" not in err


def test_shots_scene_lists_report_and_markers_reuse_the_cached_analysis(clip, tiny_checkpoint, tmp_path, capsys):
    assert main(["film", str(clip), *_args(tiny_checkpoint, "--fps", "2", "-q")]) == 0
    listed = tmp_path / "my scenes.csv"
    listed.write_text("name,start,end\nRed room,0,00:00:01:00\nThe rest,1,3\n", encoding="utf-8")
    shots, scenes = tmp_path / "shots.csv", tmp_path / "scenes.csv"
    page, edl, markers = tmp_path / "clip.html", tmp_path / "clip.edl", tmp_path / "markers.csv"
    code = main(["film", str(clip), *_args(tiny_checkpoint, "--fps", "2", "--scene-list", str(listed),
                                           "--shots-csv", str(shots), "--scenes-csv", str(scenes),
                                           "--report", str(page), "--edl", str(edl), "--markers", str(markers))])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "loaded from the cache" in err                        # a new segmentation is post-processing only
    assert [line.split(",")[1] for line in scenes.read_text().splitlines()[1:]] == ["Red room", "The rest"]
    assert len(shots.read_text().splitlines()) == 1 + 3 and shots.read_text().startswith("shot,scene,scene_name")
    assert "<!DOCTYPE html>" in page.read_text() and "Red room" in page.read_text()
    assert "FCM: NON-DROP FRAME" in edl.read_text() and "00:00:01:00" in markers.read_text()
    assert main(["film", str(clip), *_args(tiny_checkpoint, "--fps", "2", "--segments", "every:2", "--scenes-csv",
                                           "-")]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 2


@pytest.mark.parametrize("extra, message", [
    (["--segments", "acts"], "segments must be 'scenes', 'shots' or 'every:N'"),
    (["--scene-list", "nowhere.csv"], "the scene list nowhere.csv does not exist"),
])
def test_bad_segmentation_is_one_line(clip, tiny_checkpoint, capsys, extra, message):
    assert main(["film", str(clip), *_args(tiny_checkpoint, *extra)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


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
    assert "resumed from 00:00:01:22" in err    # 16 samples at 8/s were saved; the 16th is frame 47 of 25 fps (1.88 s)
    assert json.loads(out)["resumed_from"] == pytest.approx(1.88)
