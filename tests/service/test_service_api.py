"""The REST service against a real uvicorn on 127.0.0.1: photos, film jobs, results, bad uploads."""

from __future__ import annotations

import json
import shutil

import pytest

from emotion.cli import main
from service_http import Server, call, request, wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_args, long_film):
    base = tmp_path_factory.mktemp("svc")
    media = base / "media"
    media.mkdir()
    shutil.copy(long_film, media / "clip.mp4")
    srv = Server(*model_args, "--workers", "1", "--max-upload-mb", "50", "--state-dir", str(base / "state"),
                 env={"EMOTION_CACHE_DIR": str(base / "cache"), "EMOTION_MEDIA_DIR": str(media)},
                 log=base / "server.log")
    with srv:
        srv.cache = base / "cache"
        srv.state = base / "state"
        yield srv


def test_health_docs_and_openapi(server):
    assert call(server.port, "GET", "/health")[0] == 200
    status, _, page = request(server.port, "GET", "/docs")
    assert status == 200 and b"swagger" in page.lower()
    status, spec = call(server.port, "GET", "/openapi.json")
    assert {"/v1/images", "/v1/films", "/v1/jobs/{job_id}", "/v1/films/{job_id}/{file}"} <= set(spec["paths"])
    assert "multipart/form-data" in spec["paths"]["/v1/images"]["post"]["requestBody"]["content"]


def test_image_answer_is_the_cli_json_object(server, face_png, model_args, monkeypatch, capsys):
    status, got = call(server.port, "POST", "/v1/images", files={"file": ("frame.png", face_png.read_bytes())})
    assert status == 200, got
    monkeypatch.chdir(face_png.parent)
    assert main(["image", "frame.png", "--json", *model_args]) == 0
    assert got == json.loads(capsys.readouterr().out)


def test_image_with_faces_matches_the_cli(server, photo, model_args, monkeypatch, capsys):
    path = photo("deepface_couple.jpg")
    status, got = call(server.port, "POST", "/v1/images", files={"file": (path.name, path.read_bytes())})
    assert status == 200, got
    assert len(got["faces"]) >= 1
    monkeypatch.chdir(path.parent)
    assert main(["image", path.name, "--json", *model_args]) == 0
    assert got == json.loads(capsys.readouterr().out)


BAD_UPLOADS = [
    ("not multipart", {"body": b"hello", "headers": {"Content-Type": "text/plain"}}, 415, "multipart/form-data"),
    ("file in another field", {"files": {"other": ("a.png", b"123")}}, 400, "as the form field 'file'"),
    ("empty file", {"files": {"file": ("a.png", b"")}}, 400, "empty"),
    # a photo that does not start like an image file is refused before decoding (415); a film after probing (400)
    ("not an image", {"files": {"file": ("notes.txt", b"hello there")}}, {"/v1/images": 415, "/v1/films": 400},
     "notes.txt: not a"),
    ("a second file in another field", {"files": {"file": ("a.png", b"1"), "file2": ("b.png", b"2")}}, 400,
     "form field 'file2', which takes no file"),
    ("bad settings JSON", {"files": {"file": ("a.png", b"1"), "settings": "{fps"}}, 400, "not valid JSON"),
    ("unknown setting", {"files": {"file": ("a.png", b"1"), "settings": '{"colour": 1}'}}, 400, "unknown setting"),
    ("setting out of range", {"files": {"file": ("a.png", b"1"), "settings": '{"min_face": 0}'}}, 400,
     "min_face must be an integer"),
    ("cut-off body", {"body": b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc",
                      "headers": {"Content-Type": "multipart/form-data; boundary=xyz"}}, 400, "malformed"),
    ("no boundary", {"body": b"abc", "headers": {"Content-Type": "multipart/form-data"}}, 400, "boundary"),
]


@pytest.mark.parametrize("endpoint", ["/v1/images", "/v1/films"])
@pytest.mark.parametrize("case,kw,expected,words", BAD_UPLOADS, ids=[c[0] for c in BAD_UPLOADS])
def test_bad_uploads_get_a_4xx_json_detail(server, endpoint, case, kw, expected, words):
    status, headers, body = request(server.port, "POST", endpoint, **kw)
    assert status == (expected[endpoint] if isinstance(expected, dict) else expected), body
    assert headers["content-type"].startswith("application/json")
    detail = json.loads(body)["detail"]
    assert isinstance(detail, str) and words in detail
    assert "/tmp" not in detail and "Traceback" not in detail


def test_a_bad_film_upload_leaves_nothing_behind(server):
    status, got = call(server.port, "POST", "/v1/films", files={"file": ("film.mp4", b"no video in here")})
    assert status == 400 and got["detail"].startswith("film.mp4: not a video file")
    assert not any((server.state / "uploads").iterdir())


def test_film_job_progress_cancel_resume_and_results(server, long_film, model_args, monkeypatch, tmp_path):
    settings = json.dumps({"fps": 20})
    status, got = call(server.port, "POST", "/v1/films", files={"file": (long_film.name, long_film.read_bytes()),
                                                               "settings": settings})
    assert status == 202, got
    job = got["job"]
    running = wait_for(server.port, job, lambda s: s["state"] == "running" and s["progress"] >= 0.1)
    assert 0 < running["progress"] < 1 and running["name"] == "long take.mp4"
    assert call(server.port, "GET", f"/v1/films/{job}/scenes.csv")[0] == 409

    status, cancelled = call(server.port, "DELETE", f"/v1/jobs/{job}")
    assert status == 200 and cancelled["state"] == "cancelled", cancelled
    assert cancelled["progress"] < 1
    status, got = call(server.port, "GET", f"/v1/films/{job}/report.json")
    assert status == 409 and "resume" in got["detail"]

    assert call(server.port, "POST", f"/v1/jobs/{job}/resume") == (202, {"job": job})
    done = wait_for(server.port, job, lambda s: s["state"] in ("done", "failed"))
    assert done["state"] == "done" and done["progress"] == 1.0 and done["error"] is None
    assert done["resumed_from"] and done["resumed_from"] > 0, "the resumed job picked up from its checkpoint"
    assert done["summary"]["shots"] == 10
    assert call(server.port, "POST", f"/v1/jobs/{job}/resume")[0] == 409

    results = {}
    for name, ctype in [("scenes.csv", "text/csv"), ("shots.csv", "text/csv"), ("frames.csv", "text/csv"),
                        ("report.json", "application/json"), ("report.html", "text/html")]:
        status, headers, body = request(server.port, "GET", f"/v1/films/{job}/{name}")
        assert status == 200 and headers["content-type"].startswith(ctype)
        results[name] = body
    assert json.loads(results["report.json"])["complete"] is True
    assert call(server.port, "GET", f"/v1/films/{job}/secrets.txt")[0] == 404
    # the same files as the CLI (answered from the same film cache)
    monkeypatch.setenv("EMOTION_CACHE_DIR", str(server.cache))
    out = tmp_path / "cli"
    assert main(["film", str(long_film), "--fps", "20", *model_args, "-q", "--scenes-csv", f"{out}-scenes.csv",
                 "--shots-csv", f"{out}-shots.csv", "--frames-csv", f"{out}-frames.csv"]) == 0
    for name in ("scenes", "shots", "frames"):
        assert results[f"{name}.csv"] == (tmp_path / f"cli-{name}.csv").read_bytes(), name


def test_film_from_the_media_folder(server):
    status, got = call(server.port, "POST", "/v1/films", json_body={"path": "clip.mp4", "settings": {"fps": 1}})
    assert status == 202, got
    done = wait_for(server.port, got["job"], lambda s: s["state"] in ("done", "failed"))
    assert done["state"] == "done" and done["name"] == "clip.mp4"
    status, got = call(server.port, "POST", "/v1/films", json_body={"film": "clip.mp4"})
    assert status == 400 and '{"path": "film.mp4"}' in got["detail"]
    for path, expected in [("../state/jobs", 400), ("/etc/passwd", 400), ("nothere.mp4", 404)]:
        status, got = call(server.port, "POST", "/v1/films", json_body={"path": path})
        assert status == expected and "media folder" in got["detail"], got


def test_unknown_job_is_404(server):
    for method, path in [("GET", "/v1/jobs/nope"), ("DELETE", "/v1/jobs/nope"), ("GET", "/v1/films/nope/scenes.csv")]:
        status, got = call(server.port, method, path)
        assert status == 404 and "no job nope" in got["detail"]
