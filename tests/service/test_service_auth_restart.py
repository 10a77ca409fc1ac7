"""The service's API key, upload size limit, refusal to listen beyond localhost, and a restart mid-job."""

from __future__ import annotations

import http.client
import json

import pytest

from emotion.cli import main
from service_http import Server, call, request, wait_for


@pytest.fixture(scope="module")
def keyed(tmp_path_factory, model_args):
    base = tmp_path_factory.mktemp("svc-key")
    srv = Server(*model_args, "--workers", "1", "--max-upload-mb", "0.05", "--state-dir", str(base / "state"),
                 env={"EMOTION_API_KEY": "s3cret-key", "EMOTION_CACHE_DIR": str(base / "cache")},
                 log=base / "server.log")
    with srv:
        srv.state = base / "state"
        yield srv


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-key"},
                                     {"Authorization": "Basic s3cret-key"}, {"Authorization": "Bearer s3cret-ke"}])
def test_v1_needs_the_bearer_key(keyed, face_png, headers):
    for method, path, kw in [("GET", "/v1/jobs/abc", {}),
                             ("POST", "/v1/images", {"files": {"file": ("f.png", face_png.read_bytes())}})]:
        status, resp_headers, body = request(keyed.port, method, path, headers=headers, **kw)
        assert status == 401 and "API key" in json.loads(body)["detail"]
        assert resp_headers.get("www-authenticate") == "Bearer"


def test_with_the_key_requests_pass_and_health_needs_none(keyed, face_png):
    assert call(keyed.port, "GET", "/health")[0] == 200
    auth = {"Authorization": "Bearer s3cret-key"}
    status, got = call(keyed.port, "POST", "/v1/images", headers=auth, files={"file": ("f.png", face_png.read_bytes())})
    assert status == 200 and got["path"] == "f.png"


def test_uploads_over_the_limit_get_413_declared_or_streamed(keyed):
    auth = {"Authorization": "Bearer s3cret-key"}
    big = b"\0" * 200_000  # 0.2 MB against a 0.05 MB limit
    status, got = call(keyed.port, "POST", "/v1/films", headers=auth, files={"file": ("big.mp4", big)})
    assert status == 413 and "over the limit of 0.05 MB" in got["detail"]

    # chunked, without Content-Length: refused while it streams
    def chunks():
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n\r\n"
        for _ in range(40):
            yield b"\1" * 10_000
        yield b"\r\n--b--\r\n"

    conn = http.client.HTTPConnection("127.0.0.1", keyed.port, timeout=60)
    try:
        conn.request("POST", "/v1/films", body=chunks(), encode_chunked=True,
                     headers={**auth, "Content-Type": "multipart/form-data; boundary=b",
                              "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        assert resp.status == 413 and "over the limit" in json.loads(resp.read())["detail"]
    finally:
        conn.close()
    assert not any((keyed.state / "uploads").iterdir()), "a refused upload leaves no file"


def test_refuses_a_public_address_without_a_key(monkeypatch, capsys):
    monkeypatch.delenv("EMOTION_API_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "9"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0 without an API key" in err and "--allow-remote" in err


@pytest.mark.slow
def test_a_restart_in_the_middle_of_a_job_resumes_it(tmp_path, model_args, long_film):
    args = [*model_args, "--workers", "1", "--state-dir", str(tmp_path / "state")]
    env = {"EMOTION_CACHE_DIR": str(tmp_path / "cache")}
    first = Server(*args, env=env, log=tmp_path / "first.log").start()
    try:
        status, got = call(first.port, "POST", "/v1/films", files={"file": (long_film.name, long_film.read_bytes()),
                                                                   "settings": '{"fps": 20}'})
        assert status == 202
        job = got["job"]
        wait_for(first.port, job, lambda s: s["state"] == "running" and s["progress"] >= 0.1)
    finally:
        first.stop()  # SIGTERM: uvicorn shuts down gracefully (and exits with the signal's code)
    assert "Application shutdown complete" in (tmp_path / "first.log").read_text()
    record = json.loads((tmp_path / "state" / "jobs" / f"{job}.json").read_text())
    assert record["state"] == "queued", "a job stopped by the shutdown is queued for the next start"
    assert 0 < record["progress"] < 1

    with Server(*args, env=env, log=tmp_path / "second.log") as second:
        done = wait_for(second.port, job, lambda s: s["state"] in ("done", "failed"))
        assert done["state"] == "done" and done["resumed_from"] > 0
        status, _, body = request(second.port, "GET", f"/v1/films/{job}/report.json")
        assert status == 200 and json.loads(body)["complete"] is True
    with Server(*args, env=env, log=tmp_path / "third.log") as third:  # results outlive the restart too
        assert request(third.port, "GET", f"/v1/films/{job}/scenes.csv")[0] == 200
