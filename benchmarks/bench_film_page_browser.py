"""Film page in a real browser: how long a cache hit takes to show, session after session.

Starts the app (``streamlit run app.py``) on a free local port, then in Debian's Chromium (Playwright)
opens the Film page in fresh sessions, uploads the film and measures, from the upload:

* ``summary``: the headline summary is on screen (the first thing a crew reads);
* ``page done``: Streamlit has stopped running and every image on the page has loaded.

The film is analysed once first (the first session, if the cache does not have it yet), so the
sessions after it measure cache hits. Prints a table and writes ``benchmarks/results/film_page_browser.md``.

    EMOTION_FACE_MODEL=../shared/data/models/face_detection_yunet_2026may.onnx \\
        python benchmarks/bench_film_page_browser.py [--film F] [--sessions 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILM = ROOT.parent / "shared" / "data" / "media" / "videos" / "pjo_teaser_trailer.mp4"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(page, test, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if test():
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError("the page did not get there in time")


def _session(browser, url: str, film: Path) -> tuple[float, float]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("input[type=file]", state="attached", timeout=300_000)
    time.sleep(2)  # the user finds the file
    start = time.monotonic()
    page.locator("input[type=file]").first.set_input_files(str(film))

    def summary_or_click() -> bool:
        if page.get_by_text("Most intense scenes").count():
            return True
        button = page.get_by_role("button", name="Analyse")
        if button.count():
            button.first.click()
        return False

    summary = _wait_for(page, summary_or_click, 900) - start

    def done() -> bool:
        running = page.locator("[data-testid='stStatusWidget']").count()
        images = page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        return not running and images and page.evaluate("document.images.length") > 0

    finished = _wait_for(page, done, 300) - start
    page.close()
    return summary, finished


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--film", type=Path, default=FILM)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "film_page_browser.md")
    args = parser.parse_args()
    if not args.film.is_file():
        print(f"needs {args.film}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        time.sleep(8)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for n in range(args.sessions):
                summary, finished = _session(browser, f"http://127.0.0.1:{port}/Film", args.film)
                rows.append((n + 1, summary, finished))
                print(f"session {n + 1}: summary {summary:.2f} s, page done {finished:.2f} s", flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [f"# Film page in Chromium: {args.film.name}", "",
             f"`python benchmarks/bench_film_page_browser.py --sessions {args.sessions}`: fresh browser sessions, "
             "seconds from the upload (a cache hit once the film was analysed). Load average at the end: "
             f"{os.getloadavg()[0]:.1f}.", "", "| session | summary on screen (s) | page done (s) |", "|---|---|---|"]
    lines += [f"| {n} | {s:.2f} | {f:.2f} |" for n, s, f in rows]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
