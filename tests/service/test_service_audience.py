"""Audience jobs against a real uvicorn on 127.0.0.1: a film and a reaction in, the CLI's files out."""

from __future__ import annotations

import json

import pytest

import audience_media as media
from emotion.cli import main
from service_http import Server, call, request, wait_for


@pytest.fixture(scope="module")
def screening(tmp_path_factory):
    """A 20 s stand-in film with sound, a reaction that starts 4 s before the film, and one without sound."""
    reason = media.missing()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("screening")
    film = media.write_film(folder / "short_film.mp4", 20.0)
    sound = media.room_sound(media.decode_sound(media.TRAILER), 4.0, 20.0, 0.0)
    early = media.write_recording(folder / "early.mp4", sound, 20.0)
    mute = media.write_recording(folder / "mute.mp4", None, 10.0)
    return film, early, mute


@pytest.fixture(scope="module")
def yunet_args(tiny_checkpoint, screening) -> list[str]:
    return ["--model", str(tiny_checkpoint), "--backend", "eager", "--detector", "yunet",
            "--face-model", str(media.YUNET)]


@pytest.fixture(scope="module")
def server(tmp_path_factory, yunet_args, screening):
    base = tmp_path_factory.mktemp("svc-audience")
    srv = Server(*yunet_args, "--workers", "1", "--max-upload-mb", "50", "--state-dir", str(base / "state"),
                 env={"EMOTION_CACHE_DIR": str(base / "cache"), "EMOTION_MEDIA_DIR": str(screening[0].parent)},
                 log=base / "server.log")
    with srv:
        yield srv


def test_audience_job_results_match_the_cli(server, screening, yunet_args, tmp_path, monkeypatch):
    film, early, _ = screening
    status, got = call(server.port, "POST", "/v1/audience", files={
        "film": (film.name, film.read_bytes()), "reaction": (early.name, early.read_bytes()),
        "settings": '{"fps": 2}'})
    assert status == 202, got
    job = got["job"]
    seen = []
    state = wait_for(server.port, job, lambda s: seen.append(s["progress"]) or s["state"] in ("done", "failed"))
    assert state["state"] == "done", state
    assert state["kind"] == "audience" and state["reactions"] == [{"name": "early.mp4", "offset_s": None}]
    assert state["summary"]["reactions"] == 1 and state["summary"]["viewers"] == 1
    assert seen == sorted(seen), "progress only moves forward"

    files = {}
    for name in ("scenes.csv", "seconds.csv", "viewers.csv", "report.json", "report.html"):
        status, headers, files[name] = request(server.port, "GET", f"/v1/audience/{job}/{name}")
        assert status == 200, files[name]
    assert headers["content-type"].startswith("text/html") and b"Plotly.newPlot" in files["report.html"]
    report = json.loads(files["report.json"])
    assert report["reactions"][0]["sync"] == "audio" and abs(report["reactions"][0]["offset_s"] - 4.0) < 0.1
    assert len(files["seconds.csv"].decode().splitlines()) == 1 + 20

    # a film job's results are not an audience job's
    status, body = call(server.port, "GET", f"/v1/films/{job}/scenes.csv")
    assert status == 404 and "audience job" in body["detail"]

    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "cli-cache"))
    out = tmp_path / "scenes.csv"
    assert main(["audience", str(film), str(early), "--fps", "2", "--scenes-csv", str(out), "-q", *yunet_args]) == 0
    assert files["scenes.csv"] == out.read_bytes()


def test_reaction_without_sound_or_offset_fails_the_job_clearly(server, screening):
    film, _, mute = screening
    status, got = call(server.port, "POST", "/v1/audience", files={
        "film": (film.name, film.read_bytes()), "reaction": (mute.name, mute.read_bytes()),
        "settings": '{"fps": 2}'})
    assert status == 202, got
    state = wait_for(server.port, got["job"], lambda s: s["state"] in ("done", "failed"))
    assert state["state"] == "failed"
    assert "mute.mp4 has no sound track" in state["error"] and "offsets" in state["error"]
    assert "Traceback" not in state["error"] and "/" not in state["error"].split("offsets")[0]
    assert call(server.port, "GET", "/health")[0] == 200, "the pool goes on"


@pytest.mark.parametrize("files, message", [
    ({"film": ("short_film.mp4", b"x")}, "no 'reaction' file"),
    ({"reaction": ("early.mp4", b"x")}, "no 'film' file"),
])
def test_bad_audience_requests_get_400_with_a_detail(server, files, message):
    status, body = call(server.port, "POST", "/v1/audience", files=files)
    assert status == 400 and message in body["detail"], body


def test_offsets_must_name_a_reaction(server, screening):
    film, early, _ = screening
    status, body = call(server.port, "POST", "/v1/audience", files={
        "film": (film.name, film.read_bytes()), "reaction": (early.name, early.read_bytes()),
        "offsets": '{"other.mp4": 2}'})
    assert status == 400 and "'other.mp4' is not one of the reactions (early.mp4)" in body["detail"], body


def test_two_reactions_of_the_same_name_are_refused(server, screening):
    film, early, _ = screening
    status, body = call(server.port, "POST", "/v1/audience", files={
        "film": (film.name, film.read_bytes()),
        "reaction": [(early.name, early.read_bytes()), (f"row2/{early.name}", early.read_bytes())]})
    assert status == 400 and "two reactions are named early.mp4" in body["detail"], body


def test_media_folder_job_with_an_offset_by_hand(server, screening):
    status, got = call(server.port, "POST", "/v1/audience", json_body={
        "film": "short_film.mp4", "reactions": ["early.mp4"], "offsets": {"early.mp4": 4.0}, "settings": {"fps": 2}})
    assert status == 202, got
    state = wait_for(server.port, got["job"], lambda s: s["state"] in ("done", "failed"))
    assert state["state"] == "done", state
    status, _, data = request(server.port, "GET", f"/v1/audience/{got['job']}/report.json")
    reaction = json.loads(data)["reactions"][0]
    assert status == 200 and (reaction["sync"], reaction["offset_s"]) == ("manual", 4.0)
    status, body = call(server.port, "POST", "/v1/audience", json_body={"film": "short_film.mp4", "reactions": []})
    assert status == 400 and "at least one reaction" in body["detail"]
