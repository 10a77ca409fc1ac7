"""``python -m emotion audience``: a film, reactions synced by sound or by hand, every export."""

from __future__ import annotations

import json

import pytest

from emotion.cli import main


@pytest.fixture
def base_args(shared_media, tiny_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "cache"))
    return ["--model", str(tiny_checkpoint), "--backend", "eager", "--detector", "yunet",
            "--face-model", str(shared_media.YUNET), "--fps", "2"]


def test_audience_command_writes_every_export(small_film, recordings, base_args, tmp_path, capsys):
    early = recordings("early.mp4", 4.0, 20.0, 0.0)
    late = recordings("late_pair.mp4", -6.0, 16.0, -5.0, viewers=2)
    mute = recordings("mute.mp4", 0.0, 10.0, sound=False)
    out = {k: tmp_path / f"out.{k}" for k in ("scenes", "seconds", "viewers", "json", "html")}
    code = main(["audience", str(small_film), str(early), str(late), str(mute), "--offset", "mute.mp4=1.5",
                 "--scenes-csv", str(out["scenes"]), "--seconds-csv", str(out["seconds"]),
                 "--viewers-csv", str(out["viewers"]), "--json", str(out["json"]), "--report", str(out["html"]),
                 *base_args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(out["json"].read_text())
    got = {r["name"]: r for r in data["reactions"]}
    assert got["early.mp4"]["sync"] == "audio" and abs(got["early.mp4"]["offset_s"] - 4.0) < 0.1
    assert got["late_pair.mp4"]["sync"] == "audio" and abs(got["late_pair.mp4"]["offset_s"] + 6.0) < 0.1
    assert got["mute.mp4"] == {**got["mute.mp4"], "sync": "manual", "offset_s": 1.5, "confidence": None}
    assert [got[n]["viewers"] for n in ("early.mp4", "late_pair.mp4", "mute.mp4")] == [1, 2, 1]
    assert len(data["scenes"]) == 4, "the stand-in film cuts every 5 s"
    header = out["scenes"].read_text().splitlines()[0]
    assert "audience_happy_lo" in header and "screen_valence" in header and "attentive_share" in header
    assert len(out["seconds"].read_text().splitlines()) == 1 + 20
    assert len(out["viewers"].read_text().splitlines()) == 1 + 4
    assert "Plotly.newPlot" in out["html"].read_text()
    assert "film starts at +4.00 s" in captured.out and "late_pair.mp4" in captured.out
    assert "of video" in captured.err, "a progress bar on stderr"

    # Again: everything comes from the caches (film analysis, sound envelope, reaction scans).
    code = main(["audience", str(small_film), str(early), "--json", "-", "-q", *base_args])
    assert code == 0 and json.loads(capsys.readouterr().out)["reactions"][0]["viewers"] == 1


def test_recording_without_sound_needs_an_offset(small_film, recordings, base_args, capsys):
    mute = recordings("mute.mp4", 0.0, 10.0, sound=False)
    assert main(["audience", str(small_film), str(mute), "-q", *base_args]) == 1
    err = capsys.readouterr().err
    assert "mute.mp4 has no sound track" in err and "--offset" in err and "Traceback" not in err


@pytest.mark.parametrize("offset, message", [
    ("other.mp4=2", "'other.mp4' is not one of the reactions (early.mp4)"),
    ("early.mp4=soon", "expected a number of seconds"),
    ("2.5", "expects NAME=SECONDS"),
])
def test_bad_offsets_say_what_is_wrong(small_film, recordings, base_args, capsys, offset, message):
    early = recordings("early.mp4", 4.0, 20.0, 0.0)
    assert main(["audience", str(small_film), str(early), "--offset", offset, "-q", *base_args]) == 1
    assert message in capsys.readouterr().err
