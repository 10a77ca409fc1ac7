"""A real browser streams a real face video to the Webcam page and sees an emotion come back.

Debian's chromium (driven by Playwright for Python, without Playwright's own
browser download) plays a Y4M file made from
../shared/data/media/videos/liveportrait_d3_expressions.mp4 as its fake
camera. The test starts ``streamlit run app.py`` on a free localhost port with
the tiny random checkpoint as the model and the shared YuNet copy as the face
detector, opens the Webcam page, presses START, and waits for a line such as
"Face 1: happy (31%)" on the page: browser -> WebRTC -> server -> YuNet ->
model -> page, with no network beyond localhost.

Skips when the video, chromium or playwright is missing, except that with
``CI=true`` a missing chromium or playwright fails (CI installs both).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from emotion.labels import CANONICAL

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT.parent / "shared" / "data" / "media" / "videos" / "liveportrait_d3_expressions.mp4"
CHROMIUM = Path(os.environ.get("EMOTION_TEST_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() == "true"
EMOTION_SHOWN = re.compile(r"Face \d+: (" + "|".join(CANONICAL) + r") \(\d+%\)")
#: Seconds to wait for the first emotion (the server loads the model, WebRTC connects, frames flow).
TIMEOUT_S = 90
#: Seconds to wait for the page itself (model loading on the first run).
LOAD_TIMEOUT_S = 180


@pytest.fixture
def browser_api():
    """Playwright's ``sync_playwright`` and its ``TimeoutError``, once chromium and the video are known present."""
    if not CHROMIUM.is_file():
        msg = (f"{CHROMIUM} is missing: install Debian's chromium "
               "(apt-get install -y chromium; .ci/run does this)")
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    try:
        from playwright.sync_api import TimeoutError, sync_playwright
    except ImportError:
        msg = "playwright for Python is missing: pip install -r requirements-dev.txt"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    if not VIDEO.is_file():
        pytest.skip(f"needs {VIDEO} (../shared/data is not beside the repo)")
    return sync_playwright, TimeoutError


def write_y4m(video: Path, out: Path, seconds: float = 4.0, start_s: float = 1.0, size=(640, 480),
              fps: int = 15) -> Path:
    """Decode ``video`` with PyAV and write ``seconds`` of it as a 4:2:0 YUV4MPEG2 file, letterboxed to ``size``."""
    import av
    import cv2

    w, h = size
    with av.open(str(video)) as container, open(out, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        stream = container.streams.video[0]
        written, next_t = 0, start_s
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None else next_t
            if t + 1e-6 < next_t:
                continue
            rgb = frame.to_ndarray(format="rgb24")
            scale = min(w / rgb.shape[1], h / rgb.shape[0])
            nw, nh = int(rgb.shape[1] * scale) // 2 * 2, int(rgb.shape[0] * scale) // 2 * 2
            canvas = np.zeros((h, w, 3), np.uint8)
            top, left = (h - nh) // 2, (w - nw) // 2
            canvas[top:top + nh, left:left + nw] = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
            yuv = av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(format="yuv420p").to_ndarray()
            f.write(b"FRAME\n")
            f.write(np.ascontiguousarray(yuv).tobytes())   # I420: Y plane, then U, then V
            written += 1
            next_t += 1.0 / fps
            if written >= seconds * fps:
                break
    if written == 0:
        raise AssertionError(f"no frames decoded from {video} after {start_s} s")
    return out


def test_y4m_writer_makes_a_valid_file(tmp_path):
    """The fake-camera file: header, then exactly W*H*3/2 bytes per frame."""
    if not VIDEO.is_file():
        pytest.skip(f"needs {VIDEO} (../shared/data is not beside the repo)")
    out = write_y4m(VIDEO, tmp_path / "cam.y4m", seconds=0.5, size=(320, 240), fps=10)
    data = out.read_bytes()
    header, _, body = data.partition(b"\n")
    assert header == b"YUV4MPEG2 W320 H240 F10:1 Ip A1:1 C420jpeg"
    frame_bytes = len(b"FRAME\n") + 320 * 240 * 3 // 2
    assert len(body) == 5 * frame_bytes
    assert body[:6] == b"FRAME\n" and body[frame_bytes:frame_bytes + 6] == b"FRAME\n"
    luma = np.frombuffer(body[6:6 + 320 * 240], np.uint8)
    assert luma.std() > 10      # a picture, not a blank frame


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer at {url} within {timeout:.0f} s")


@contextmanager
def running_app(log_path: Path, drop=(), **env_changes: str):
    """``streamlit run app.py`` on a free localhost port with ``env_changes`` (``drop``: variables removed);
    yields its URL and stops it afterwards. Output goes to ``log_path``."""
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
               **env_changes)
    for name in ("EMOTION_ICE_SERVERS", "EMOTION_RTC_CONFIGURATION", *drop):
        env.pop(name, None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false", "--global.developmentMode", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def streamlit_server(browser_api, tmp_path, tiny_checkpoint, yunet_path):
    """``streamlit run app.py`` on a free localhost port with the tiny model and the shared YuNet."""
    with running_app(tmp_path / "streamlit.log", EMOTION_MODEL=str(tiny_checkpoint),
                     EMOTION_FACE_MODEL=str(yunet_path)) as url:
        yield url, tmp_path / "streamlit.log"


def test_browser_streams_webcam_and_sees_an_emotion(tmp_path, browser_api, streamlit_server):
    sync_playwright, PlaywrightTimeout = browser_api
    y4m = write_y4m(VIDEO, tmp_path / "camera.y4m")
    url, server_log = streamlit_server
    args = ["--headless", "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}", "--disable-background-networking", "--disable-gpu",
            "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        # a persistent context is how Playwright takes a fresh --user-data-dir of our choosing
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=args,
            viewport={"width": 1280, "height": 1000})
        try:
            page = browser.new_page()
            page.goto(f"{url}/Webcam", wait_until="domcontentloaded", timeout=60_000)
            # the first run of the page loads the model and picks a backend: slow on a busy 2-core machine
            page.get_by_text("No video frame is ever written to disk").wait_for(timeout=LOAD_TIMEOUT_S * 1000)
            start = page.frame_locator('iframe[title*="streamlit_webrtc"]').get_by_role(
                "button", name=re.compile(r"^start$", re.I))
            start.click(timeout=60_000)
            try:
                page.get_by_text(EMOTION_SHOWN).first.wait_for(timeout=TIMEOUT_S * 1000)
            except PlaywrightTimeout:
                page.screenshot(path=str(tmp_path / "webcam.png"), full_page=True)
                raise AssertionError(
                    f"no face emotion on the page within {TIMEOUT_S} s; screenshot {tmp_path / 'webcam.png'}; "
                    f"server log tail:\n{server_log.read_text(errors='replace')[-3000:]}") from None
            shown = page.get_by_text(EMOTION_SHOWN).first.inner_text()
            assert EMOTION_SHOWN.search(shown), shown
            # the speed figures go live once two frames were analysed
            fps = page.get_by_test_id("stMetric").filter(has_text="Analysed frames/s").get_by_test_id(
                "stMetricValue")
            deadline = time.monotonic() + 30
            while float(fps.inner_text()) <= 0 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert float(fps.inner_text()) > 0
            page.screenshot(path=str(tmp_path / "webcam.png"), full_page=True)
        finally:
            browser.close()

