"""A new user's walk through every page in a real browser, with the real bundled model and YuNet.

Debian's chromium (Playwright for Python) opens Home, Image, Webcam, Film and Audience on a
``streamlit run app.py`` served on a free localhost port. It uploads shared photos, a file
that is not a film, and the shared trailer; analyses the trailer, cancels it part-way, looks
at the part done, opens the same film in a second session (the part done again), resumes,
and waits for the finished report. After every step the page must show no exception box,
no traceback and no internal path (field report: a traceback after Cancel). Screenshots of
each step go to ``$EMOTION_SCREENSHOTS`` when set (else the test's temporary folder).

Skips without ../shared/data; like the Webcam browser test, a missing chromium or
playwright fails under ``CI=true`` and skips elsewhere.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from test_webcam_browser import CHROMIUM, IN_CI, running_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TRAILER = SHARED / "media" / "videos" / "pjo_teaser_trailer.mp4"
PHOTOS = [SHARED / "media" / "photos" / name for name in ("faceapi_happy.jpg", "facerec_two_people.jpg")]
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"
#: What a user must never read on a page: Python's traceback, an exception's type, a server path.
NEVER_SHOWN = re.compile(r"Traceback \(most recent call last\)|\b[A-Z]\w+Error: |/site-packages/|"
                         + re.escape(str(ROOT)) + "|" + re.escape(str(SHARED)))


@pytest.fixture
def playwright_api():
    missing = [p for p in (TRAILER, YUNET, *PHOTOS) if not p.is_file()]
    if missing:
        pytest.skip(f"needs {missing[0]} (../shared/data is not beside the repo)")
    if not CHROMIUM.is_file():
        (pytest.fail if IN_CI else pytest.skip)(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import TimeoutError, sync_playwright
    except ImportError:
        (pytest.fail if IN_CI else pytest.skip)("playwright for Python is missing: pip install -r requirements-dev.txt")
    return sync_playwright, TimeoutError


@pytest.fixture
def real_app(playwright_api, tmp_path):
    """The app as a user starts it: the bundled model, YuNet from ../shared/data, a private cache folder."""
    log_path = tmp_path / "streamlit.log"
    with running_app(log_path, drop=("EMOTION_MODEL", "EMOTION_MEDIA_DIR"), EMOTION_FACE_MODEL=str(YUNET),
                     EMOTION_CACHE_DIR=str(tmp_path / "cache")) as url:
        yield url, log_path


class Walk:
    """One browser session: go to pages, wait for text, and check after every step that nothing broke."""

    def __init__(self, browser, url: str, shots: Path, log: Path, name: str):
        # Tall: Streamlit scrolls inside its main block, so a full-page screenshot shows what the viewport holds.
        self.context = browser.new_context(viewport={"width": 1400, "height": 2600})
        self.page = self.context.new_page()
        self.url, self.shots, self.log, self.name = url, shots, log, name
        self.step = 0

    def go(self, path: str, wait_for: str, timeout_s: float = 180) -> None:
        self.page.goto(f"{self.url}/{path}", wait_until="domcontentloaded", timeout=60_000)
        self.text(wait_for, timeout_s)

    def text(self, text: str | re.Pattern, timeout_s: float = 120):
        locator = self.page.get_by_text(text).first
        try:
            locator.wait_for(timeout=timeout_s * 1000)
        except Exception:
            self.check(f"waiting for {text!r}")
            raise AssertionError(f"{self.name}: {text!r} not on the page within {timeout_s:.0f} s; "
                                 f"screenshot {self.snap('timeout')}; server log:\n{self._log_tail()}") from None
        return locator

    def idle(self, timeout_s: float = 120) -> None:
        """Wait until Streamlit has stopped running the script."""
        self.page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')",
                                    timeout=timeout_s * 1000)

    def check(self, what: str) -> None:
        """No exception box, no traceback, no internal path on the page (once it has drawn what it has)."""
        self.step += 1
        try:
            self.idle(60)
        except Exception:
            pass                          # still running (an analysis): check what is there now
        self.page.wait_for_timeout(1500)   # charts, tables and images draw after the script stops
        main = self.page.locator("[data-testid=stMain]")
        body = main.inner_text(timeout=30_000) if main.count() else self.page.inner_text("body")
        boxes = self.page.locator("[data-testid=stException]").count()
        bad = NEVER_SHOWN.search(body)
        if boxes or bad:
            raise AssertionError(f"{self.name}, {what}: {boxes} exception box(es), "
                                 f"{'shows ' + repr(bad.group(0)) if bad else ''}; screenshot "
                                 f"{self.snap('broken')}\n{body[:2000]}")
        self.snap(re.sub(r"\W+", "_", what).strip("_")[:40])

    def snap(self, label: str) -> Path:
        path = self.shots / f"{self.name}_{self.step:02d}_{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def close(self) -> None:
        self.context.close()


def _most_samples(page) -> None:
    """Set the Film page's sampling rate to the most it offers (12 a second), as a user would with the keyboard."""
    rate = page.locator("[data-testid=stSlider]").filter(has_text="Frames sampled per second")
    slider = rate.get_by_role("slider")
    deadline = time.monotonic() + 60
    while slider.get_attribute("aria-valuetext") != "12.0":   # a rerun (the upload's) may take the focus away
        assert time.monotonic() < deadline, "the sampling rate could not be set to 12 a second"
        slider.focus()
        page.keyboard.press("End")
        page.wait_for_timeout(500)
    page.wait_for_timeout(1500)      # the page reruns with the new rate before Analyse is pressed


def test_a_new_user_walks_every_page_cancels_and_resumes_a_film(playwright_api, real_app, tmp_path):
    sync_playwright, _ = playwright_api
    url, log = real_app
    shots = Path(os.environ.get("EMOTION_SCREENSHOTS") or tmp_path / "screens")
    shots.mkdir(parents=True, exist_ok=True)
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            one = Walk(browser, url, shots, log, "session1")
            # Home: what the tool is, and what runs here, in words.
            one.go("", "What is loaded")
            one.text("Speed-up")
            one.check("home")

            # Image: two real photos, every face with its emotion; then downloads.
            one.go("Image", "Upload one or more photos")
            one.page.locator("input[type=file]").first.set_input_files([str(p) for p in PHOTOS])
            one.text("Results (CSV)", 180)
            one.idle()
            one.check("image results")

            # Webcam: the page opens (the camera itself is the Webcam browser test's).
            one.go("Webcam", "No video frame is ever written to disk")
            one.check("webcam")

            # Film: a file that is not a film is refused in plain words.
            one.go("Film", "Choose a video file to start")
            notes = tmp_path / "notes.mp4"
            notes.write_text("not a film at all")
            one.page.locator("input[type=file]").first.set_input_files(str(notes))
            one.text("not a video file")
            one.check("bad film")

            # The trailer: analyse, cancel part-way, look at the part done. At the default 4 samples a second
            # the 56 s trailer takes about 4 s here, too quick to cancel by hand: 12 a second (the most the
            # page offers) gives the walk time to press Cancel while it runs.
            one.page.locator("input[type=file]").first.set_input_files(str(TRAILER))
            _most_samples(one.page)
            one.page.get_by_role("button", name="Analyse").click(timeout=120_000)
            one.text(re.compile(r"\d\d:\d\d:\d\d:\d\d of \d\d:\d\d:\d\d:\d\d"), 180)   # the progress line
            one.page.wait_for_timeout(1500)
            one.page.get_by_role("button", name="Cancel").click()
            one.text("The part done so far is shown below", 120)
            one.text("Screen time with faces", 60)
            one.idle()
            one.check("film cancelled, part done")

            # A second session opening the same film sees the part done too, and resumes it.
            two = Walk(browser, url, shots, log, "session2")
            two.go("Film", "Choose a video file to start")
            two.page.locator("input[type=file]").first.set_input_files(str(TRAILER))
            _most_samples(two.page)      # the same settings: the same analysis, so its part done
            two.text("The part done so far is shown below", 120)
            two.text("Screen time with faces", 60)
            two.idle()
            two.check("second session, part done")
            two.page.get_by_role("button", name="Resume analysis").click()
            two.text("Resumed from", 600)
            two.text("Most intense scenes", 60)
            two.idle(180)
            assert two.page.get_by_text("part done so far").count() == 0
            two.check("film finished")
            # Key frames and moments are clickable: a click on a picture plays the film from there.
            two.page.locator("[class*=st-key-film-tile]").last.click()    # the picture: the play button covers it
            two.page.locator("video").first.wait_for(timeout=60_000)
            two.check("played from a key frame")
            two.close()

            # Audience: the page opens and asks for the film.
            one.go("Audience", "Audience: how viewers reacted")
            one.idle()
            one.check("audience")
            one.close()
        finally:
            browser.close()
