"""Film page in a real browser: how long a cache hit takes to show, session after session.

Starts the app (``streamlit run app.py``) on a free local port, then in Debian's Chromium (Playwright)
opens the Film page in fresh sessions (a new browser context each: nothing cached in the browser),
uploads the film and measures, from the upload, with a timer inside the page (every 20 ms):

* ``summary``: the headline summary is on screen: its figures ("Screen time with faces") and the
  "Most intense scenes" title (the first thing a crew reads);
* ``charts``: every Plotly chart on the page has drawn its traces;
* ``page done``: Streamlit has stopped running, every image on the page has loaded, every chart is
  drawn and the download buttons are there, and it stays so (the last moment it became true).

Also the CPU seconds the browser (all its processes) and the server spent from the upload to page done:
unlike the times, they hardly depend on what else the machine runs. The film is analysed once first
(the first session, if the cache does not have it yet; marked in the table), so the sessions after it
measure cache hits. Prints a table and writes ``benchmarks/results/film_page_browser.md``.

    EMOTION_FACE_MODEL=../shared/data/models/face_detection_yunet_2026may.onnx \\
        python benchmarks/bench_film_page_browser.py [--film F] [--sessions 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILM = ROOT.parent / "shared" / "data" / "media" / "videos" / "pjo_teaser_trailer.mp4"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
#: seconds the user takes to find the file once the page is open
THINK_S = 2.0

# Milestones, timed in the page: `first` keeps when a test first held, `held` when it last became true.
TIMER = r"""
window.__bench = {t0: null, first: {}, held: {}};
setInterval(() => {
  const b = window.__bench, main = document.querySelector('[data-testid=stMain]');
  if (b.t0 === null || !main) return;
  const now = performance.now();
  const first = (k, ok) => { if (ok && !(k in b.first)) b.first[k] = now; };
  const held = (k, ok) => { if (!ok) delete b.held[k]; else if (!(k in b.held)) b.held[k] = now; };
  const text = main.textContent;
  first('summary', text.includes('Screen time with faces') && text.includes('Most intense scenes'));
  const charts = Array.from(main.querySelectorAll('[data-testid=stPlotlyChart]'));
  const drawn = charts.length > 0 && charts.every(c => c.querySelector('.trace'));
  first('charts', drawn);
  const images = Array.from(main.querySelectorAll('img'));
  const loaded = images.length > 0 && images.every(i => i.complete && i.naturalWidth > 0);
  const downloads = main.querySelectorAll('[data-testid=stDownloadButton]').length > 0;
  const running = document.querySelector('[data-testid=stStatusWidget]') !== null;
  held('done', 'summary' in b.first && !running && loaded && drawn && downloads);
}, 20);
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pids: list[int]) -> float | None:
    """CPU seconds (user + system) of ``pids`` and all their descendants (Linux /proc), else None."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    except (OSError, ValueError, AttributeError):
        return None
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, list(pids)
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo += children.get(pid, [])
    return total


def _browser_pids(marker: str) -> list[int]:
    """The browser's main process: the one whose command line carries ``marker`` and whose parent does not."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            if entry.isdigit() and marker in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="ignore"):
                found.append(int(entry))
        except OSError:
            continue
    return [p for p in found if _parent(p) not in found]


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _session(browser, url: str, film: Path, browser_pids: list[int], server_pid: int) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_init_script(TIMER)
    page.goto(url)
    page.wait_for_selector("input[type=file]", state="attached", timeout=300_000)
    time.sleep(THINK_S)
    cpu0 = _cpu_seconds(browser_pids), _cpu_seconds([server_pid])
    page.evaluate("window.__bench.t0 = performance.now()")
    page.locator("input[type=file]").first.set_input_files(str(film))
    analysed, started = False, time.monotonic()
    while time.monotonic() - started < 900:
        b = page.evaluate("[window.__bench.held.done, performance.now()]")
        if b[0] is not None and b[1] - b[0] > 1000:    # done, and still done a second later
            break
        button = page.get_by_role("button", name="Analyse")
        if button.count():
            button.first.click()
            analysed = True
        time.sleep(0.1)
    else:
        raise TimeoutError("the page did not get there in time")
    bench = page.evaluate("window.__bench")
    cpu1 = _cpu_seconds(browser_pids), _cpu_seconds([server_pid])
    page.close()
    t0 = bench["t0"]
    row = {k: (v - t0) / 1000 for k, v in bench["first"].items()}
    row["done"] = (bench["held"]["done"] - t0) / 1000
    row["analysed"] = analysed
    # CPU until now: includes the second of waiting after page done (an idle page costs little).
    row["cpu_browser"] = None if None in (cpu0[0], cpu1[0]) else cpu1[0] - cpu0[0]
    row["cpu_server"] = None if None in (cpu0[1], cpu1[1]) else cpu1[1] - cpu0[1]
    return row


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--film", type=Path, default=FILM)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "film_page_browser.md")
    args = parser.parse_args()
    if not args.film.is_file():
        print(f"needs {args.film}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    port = _free_port()
    load_start = os.getloadavg()[0]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        time.sleep(8)
        with sync_playwright() as p:
            marker = f"--bench-film-page={port}"      # finds this browser's processes for their CPU time
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS + [marker])
            pids = _browser_pids(marker)
            for n in range(args.sessions):
                row = _session(browser, f"http://127.0.0.1:{port}/Film", args.film, pids, server.pid)
                row["session"] = n + 1
                rows.append(row)
                print(f"session {n + 1}: summary {_fmt(row.get('summary'))} s, charts {_fmt(row.get('charts'))} s, "
                      f"page done {_fmt(row['done'])} s{' (analysed first)' if row['analysed'] else ''}", flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_end = os.getloadavg()[0]
    hits = [r for r in rows if not r["analysed"]]

    def median(key):
        values = [r[key] for r in hits if r.get(key) is not None]
        return statistics.median(values) if values else None

    lines = [f"# Film page in Chromium: {args.film.name}", "",
             f"`python benchmarks/bench_film_page_browser.py --sessions {args.sessions}`: fresh browser sessions "
             "(nothing cached in the browser), seconds from the upload; a cache hit unless the film was analysed "
             f"first. CPU: seconds of CPU the browser and the server used from the upload until a second after "
             f"page done. Load average (1 min): {load_start:.1f} at the start, {load_end:.1f} at the end "
             f"(2 cores).", "",
             "| session | summary on screen (s) | last chart drawn (s) | page done (s) | browser CPU (s) | "
             "server CPU (s) |", "|---|---|---|---|---|---|"]
    for r in rows:
        name = f"{r['session']} (analysed first)" if r["analysed"] else str(r["session"])
        lines.append(f"| {name} | {_fmt(r.get('summary'))} | {_fmt(r.get('charts'))} | {_fmt(r['done'])} | "
                     f"{_fmt(r['cpu_browser'])} | {_fmt(r['cpu_server'])} |")
    if hits:
        lines.append(f"| median of {len(hits)} cache hits | {_fmt(median('summary'))} | {_fmt(median('charts'))} | "
                     f"{_fmt(median('done'))} | {_fmt(median('cpu_browser'))} | {_fmt(median('cpu_server'))} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
