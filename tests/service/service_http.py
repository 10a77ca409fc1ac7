"""A real service in a subprocess, and a small HTTP client (stdlib only) for the service tests and benchmark.

``Server`` starts ``python -m emotion serve`` on 127.0.0.1 at a free port and waits
for ``/health``; ``request`` sends JSON or a multipart file and returns status and body.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m emotion serve`` on 127.0.0.1; ``stop()`` sends SIGTERM (a graceful restart) and waits."""

    def __init__(self, *args: str, env: dict | None = None, log: Path | None = None):
        self.port = free_port()
        self.args = ["--port", str(self.port), *args]
        self.env = {**os.environ, **(env or {})}
        self.log = log
        self.proc = None

    def start(self, timeout: float = 90.0) -> Server:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen([sys.executable, "-m", "emotion", "serve", *self.args], cwd=ROOT, env=self.env,
                                     stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited with {self.proc.returncode}; see {self.log}")
            try:
                if request(self.port, "GET", "/health", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the service did not answer /health within {timeout} s")

    def stop(self, timeout: float = 60.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def multipart(fields: dict[str, tuple[str, bytes] | list[tuple[str, bytes]] | str]) -> tuple[bytes, str]:
    """``{name: (filename, bytes) | [(filename, bytes), ...] | text}`` -> (body, content type)."""
    boundary = uuid.uuid4().hex
    parts = []
    items = [(name, v) for name, value in fields.items() for v in (value if isinstance(value, list) else [value])]
    for name, value in items:
        if isinstance(value, tuple):
            filename, data = value
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n' \
                   "Content-Type: application/octet-stream\r\n\r\n"
        else:
            head, data = f'Content-Disposition: form-data; name="{name}"\r\n\r\n', value.encode()
        parts.append(f"--{boundary}\r\n".encode() + head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def request(port: int, method: str, path: str, *, json_body=None, files: dict | None = None, body=None,
            headers: dict | None = None, timeout: float = 120.0) -> tuple[int, dict, bytes]:
    """One HTTP request to 127.0.0.1:port: ``(status, headers, body)``."""
    headers = dict(headers or {})
    if json_body is not None:
        body, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    elif files is not None:
        body, headers["Content-Type"] = multipart(files)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def call(port: int, method: str, path: str, **kw) -> tuple[int, dict]:
    """Like :func:`request`, the body parsed as JSON."""
    status, _, data = request(port, method, path, **kw)
    return status, json.loads(data) if data else {}


def wait_for(port: int, job: str, until, timeout: float = 180.0, headers: dict | None = None) -> dict:
    """Poll ``GET /v1/jobs/ID`` until ``until(state_dict)``; returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        status, state = call(port, "GET", f"/v1/jobs/{job}", headers=headers)
        assert status == 200, state
        if until(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job} never reached the expected state; last {state}")
        time.sleep(0.05)
