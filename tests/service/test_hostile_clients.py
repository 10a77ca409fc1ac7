"""The service under hostile and careless clients: never a 500, bounded memory, back-pressure with Retry-After.

Each case of the field report (issue: the service under hostile clients) is one row of the table below, sent
to a real ``python -m emotion serve`` with tight limits (one worker, one queued job, one photo at a time,
photos up to 0.2 MB), so the bounds are reached with small requests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import time

import pytest

from emotion.cli import main
from service_http import Server, call, multipart, request

#: A 94-character Japanese title: 274 bytes of UTF-8 (file systems allow 255).
LONG_TITLE = ("劇場版" + "映画の予告編と観客の反応" * 8)[:90] + ".mp4"


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_args, long_film, face_png):
    base = tmp_path_factory.mktemp("hostile")
    media = base / "media"
    media.mkdir()
    shutil.copy(long_film, media / "clip.mp4")
    state = base / "state"
    # What a kill -9 in the middle of an upload leaves behind: a folder no job record points to.
    (state / "uploads" / "deadbeefdeadbeef").mkdir(parents=True)
    (state / "uploads" / "deadbeefdeadbeef" / "half.mp4").write_bytes(b"\0" * 1000)
    (state / "uploads" / "upload-x1y2").mkdir()
    srv = Server(*model_args, "--workers", "1", "--max-queued", "1", "--max-photos-at-once", "1",
                 "--max-photo-mb", "0.2", "--max-upload-mb", "50", "--state-dir", str(state),
                 env={"EMOTION_CACHE_DIR": str(base / "cache"), "EMOTION_MEDIA_DIR": str(media)},
                 log=base / "server.log")
    with srv:
        srv.state, srv.film, srv.photo = state, long_film.read_bytes(), face_png.read_bytes()
        yield srv


def _detail(body: bytes) -> str:
    return json.loads(body)["detail"]


# ---------------------------------------------------------------- refused with a 4xx and a sentence

def _fields(n: int, size: int) -> dict:
    return {f"note{i}": "x" * size for i in range(n)}


CASES = [
    # (case, method, path, request kwargs (built from the server), status, words in the detail)
    ("photo over its own limit", "POST", "/v1/images",
     lambda s: {"files": {"file": ("big.jpg", b"\xff\xd8\xff" + b"\0" * 300_000)}}, 413, "0.2 MB"),
    ("junk named .jpg", "POST", "/v1/images",
     lambda s: {"files": {"file": ("junk.jpg", b"\0" * 100_000)}}, 415, "junk.jpg: not an image file"),
    ("17 text fields", "POST", "/v1/images",
     lambda s: {"files": {"file": ("a.png", s.photo), **_fields(17, 10)}}, 400, "more than 16 form fields"),
    ("fields over 256 KB together", "POST", "/v1/films",
     lambda s: {"files": {**_fields(5, 60_000), "file": ("clip.mp4", s.film)}}, 413, "256 KB together"),
    ("film in the wrong field", "POST", "/v1/films",
     lambda s: {"files": {"video": ("clip.mp4", s.film)}}, 400, "send it as the form field 'file'"),
    ("NUL byte in a path", "POST", "/v1/films", lambda s: {"json_body": {"path": "clip\x00.mp4"}}, 400, "NUL byte"),
    ("offset far beyond the recording", "POST", "/v1/audience",
     lambda s: {"files": {"film": ("film.mp4", s.film), "reaction": ("row1.mp4", s.film),
                          "offsets": json.dumps({"row1.mp4": 1e308})}}, 400, "beyond its recording"),
]


@pytest.mark.parametrize("case,method,path,kwargs,status,words", CASES, ids=[c[0] for c in CASES])
def test_careless_and_hostile_requests_get_a_clear_4xx(server, case, method, path, kwargs, status, words):
    got, headers, body = request(server.port, method, path, **kwargs(server))
    assert got == status, body
    assert headers["content-type"].startswith("application/json") and words in _detail(body), _detail(body)
    assert call(server.port, "GET", "/health")[0] == 200


def test_a_declared_oversized_photo_is_refused_before_its_body_is_read(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                     b"Content-Length: 1500000000\r\n\r\n")
        started = time.monotonic()
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 5


# ---------------------------------------------------------------- a long non-Latin name is kept, not a 500

@pytest.mark.parametrize("path,field", [("/v1/images", "file"), ("/v1/films", "file")])
def test_a_long_japanese_file_name_is_stored_safely_and_kept_for_the_results(server, path, field):
    assert len(LONG_TITLE.encode()) > 255
    data = server.photo if path == "/v1/images" else server.film
    status, body = call(server.port, "POST", path, files={field: (LONG_TITLE, data)})
    if path == "/v1/images":
        assert status == 200, body
        assert body["file"] == LONG_TITLE if "file" in body else LONG_TITLE in json.dumps(body, ensure_ascii=False)
    else:
        assert status in (202, 503), body          # 503 only if the one queue place is taken
        if status == 202:
            status, job = call(server.port, "GET", f"/v1/jobs/{body['job']}")
            assert job["name"] == LONG_TITLE
            call(server.port, "DELETE", f"/v1/jobs/{body['job']}")


def test_the_audience_route_keeps_a_long_name_too(server):
    status, body = call(server.port, "POST", "/v1/audience",
                        files={"film": (LONG_TITLE, server.film), "reaction": ("row1.mp4", server.film)})
    assert status in (202, 503), body
    if status == 202:
        assert call(server.port, "GET", f"/v1/jobs/{body['job']}")[1]["name"] == LONG_TITLE
        call(server.port, "DELETE", f"/v1/jobs/{body['job']}")


# ---------------------------------------------------------------- back-pressure

def test_past_the_queue_bound_new_jobs_get_503_with_retry_after(server):
    answers = [request(server.port, "POST", "/v1/films", json_body={"path": "clip.mp4", "settings": {"fps": 12}})
               for _ in range(4)]
    statuses = [a[0] for a in answers]
    assert 202 in statuses and 503 in statuses, statuses
    refused = next(a for a in answers if a[0] == 503)
    assert int(refused[1]["retry-after"]) > 0 and "waiting" in _detail(refused[2])
    for status, _, body in answers:
        if status == 202:
            call(server.port, "DELETE", f"/v1/jobs/{json.loads(body)['job']}")


def test_a_photo_past_the_in_flight_bound_gets_503_at_once(server):
    body, ctype = multipart({"file": ("a.png", server.photo)})
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as slow:
        # a slow client: its photo is in flight (headers and half the body sent, the rest held back)
        slow.sendall(f"POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:len(body) // 2])
        time.sleep(0.5)
        started = time.monotonic()
        status, headers, answer = request(server.port, "POST", "/v1/images", files={"file": ("b.png", server.photo)})
        assert status == 503 and time.monotonic() - started < 2, answer
        assert int(headers["retry-after"]) > 0
        assert call(server.port, "GET", "/health")[0] == 200
        slow.sendall(body[len(body) // 2:])
        assert slow.recv(64).startswith(b"HTTP/1.1 200")
    assert call(server.port, "POST", "/v1/images", files={"file": ("c.png", server.photo)})[0] == 200


# ---------------------------------------------------------------- what a crash leaves, privacy, offline docs

def test_uploads_left_by_a_crash_are_removed_at_start_up(server):
    left = sorted(p.name for p in (server.state / "uploads").iterdir())
    assert "deadbeefdeadbeef" not in left and "upload-x1y2" not in left


def test_uploads_records_and_results_are_private(server):
    status, body = call(server.port, "POST", "/v1/films", files={"file": ("private.mp4", server.film)})
    if status == 503:
        pytest.skip("the one queue place is taken by another test's job")
    job = body["job"]
    folder = server.state / "uploads" / job
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.rglob("*") if p.is_file())
    assert stat.S_IMODE((server.state / "jobs" / f"{job}.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(server.state.stat().st_mode) == 0o700
    call(server.port, "DELETE", f"/v1/jobs/{job}")


def test_the_api_reference_works_offline_and_docs_say_they_need_a_network(server):
    status, headers, page = request(server.port, "GET", "/reference")
    assert status == 200 and b"<script" not in page and b"/v1/films" in page and b"http" not in page.split(
        b"<table>")[1]
    spec = call(server.port, "GET", "/openapi.json")[1]
    assert "CDN" in spec["info"]["description"] and "/reference" in spec["info"]["description"]


def test_serve_with_a_state_folder_it_cannot_write_says_so_in_one_line(tmp_path, capsys, model_args):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder should be")
    code = main(["serve", "--state-dir", str(blocker), "--port", "1", *model_args])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "Traceback" not in err and len(err.splitlines()) == 1
    assert "cannot write its state folder" in err and "--state-dir" in err


def test_orphans_are_removed_at_expiry_once_nothing_was_written_for_a_while(tmp_path):
    from emotion.service.jobs import JobStore

    store = JobStore(tmp_path / "state", ttl_s=3600)
    fresh = store.new_upload_dir("aaaa")
    (fresh / "part.mp4").write_bytes(b"1")
    old = store.new_upload_dir("bbbb")
    (old / "part.mp4").write_bytes(b"1")
    then = time.time() - 7200
    for p in (old, old / "part.mp4"):
        os.utime(p, (then, then))
    assert store.remove_orphans(min_age_s=3600) == ["uploads/bbbb"]
    assert fresh.exists() and not old.exists()


def test_an_audience_job_may_ask_for_ray_but_never_name_a_cluster():
    from emotion.errors import SettingsError
    from emotion.service.audience import _ray_address, audience_settings
    from emotion.settings import Settings

    assert audience_settings(Settings(), {"ray": True, "viewers": "seats"})[2].viewers == "seats"
    for bad in ("ray://attacker:10001", "local", 1):
        with pytest.raises(SettingsError, match="ray must be true or false"):
            audience_settings(Settings(), {"ray": bad})
    with pytest.raises(SettingsError, match="viewers"):
        audience_settings(Settings(), {"viewers": "chairs"})
    assert _ray_address({"ray": False}) is None and _ray_address(None) is None
