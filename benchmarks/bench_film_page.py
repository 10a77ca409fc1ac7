"""How long the Film page takes to draw a cache hit in a new session (Streamlit AppTest, in this process).

Usage: EMOTION_FACE_MODEL=face_detection_yunet_2026may.onnx python benchmarks/bench_film_page.py [VIDEO] [RUNS]
(default: the shared trailer, 3 runs). The film is analysed once first with the page's own detector and
settings, so every timed session finds it in the cache. Each run starts a new Python process (a freshly
started server) and opens two new AppTest sessions in it:

* ``first session``: the process's first visitor: it pays for loading the model and for the first use of
  the chart and video libraries; the user takes THINK_S seconds to pick the film after the page opens;
* ``next session``: another visitor of the same server, same steps, no waiting.

Steps: ``open page`` (first run, nothing uploaded), ``upload + cache-hit draw`` (the upload is stored and
probed, the result loaded from the cache and drawn: the number the issue sets at 1.5 s or less), and
``rerun (switch to shots)`` (a widget change on the drawn results).

Writes benchmarks/results/film_page.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, SHARED, YUNET

TRAILER = SHARED / "media" / "videos" / "pjo_teaser_trailer.mp4"
#: seconds a user takes to pick a file after the page opened (the page warms its libraries meanwhile)
THINK_S = 3.0


def _analyse_once(video: Path) -> None:
    """Fill the cache with the job the page runs (default sidebar settings, 4 samples/s, content cuts)."""
    from emotion.film import FilmSettings, analyze_video
    from emotion.settings import Settings
    from emotion.ui.loaders import load_detector

    loaded = load_detector(Settings())
    analyze_video(video, loaded.settings, FilmSettings(fps=4.0, scene_detector="content", segments="shots"),
                  detector=loaded.detector)


def _session(video: Path, data: bytes, think: float = 0.0) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "views" / "3_Film.py"), default_timeout=300)
    times = {}
    t = time.perf_counter()
    at.run()
    times["open page"] = time.perf_counter() - t
    time.sleep(think)
    t = time.perf_counter()
    at.file_uploader[0].upload(video.name, data, "video/mp4").run()
    times["upload + cache-hit draw"] = time.perf_counter() - t
    if at.exception or at.error or not [h for h in at.get("html") if "Screen time with faces" in h.proto.body]:
        raise SystemExit(f"the page did not draw a result: {at.exception or [e.value for e in at.error]}")
    t = time.perf_counter()
    at.radio(key="film.level").set_value("shots").run()
    times["rerun (switch to shots)"] = time.perf_counter() - t
    return times


def _child(video: Path) -> None:
    """One fresh process: the first session (after THINK_S), then the next one; JSON on stdout."""
    data = video.read_bytes()
    first = _session(video, data, THINK_S)
    nxt = _session(video, data)
    sys.stdout.write("\n" + json.dumps({"first session": first, "next session": nxt}) + "\n")


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        return _child(Path(sys.argv[2]))
    video = Path(sys.argv[1]) if len(sys.argv) > 1 else TRAILER
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if not video.is_file():
        raise SystemExit(f"{video} not found: pass a video file")
    if "EMOTION_FACE_MODEL" not in os.environ and YUNET.is_file():
        os.environ["EMOTION_FACE_MODEL"] = str(YUNET)
    _analyse_once(video)
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--child", str(video)], capture_output=True, text=True,
                             check=True).stdout
        for who, times in json.loads(out.strip().splitlines()[-1]).items():
            for what, sec in times.items():
                samples.setdefault(f"{who}: {what}", []).append(sec)
    size = video.stat().st_size / 1e6
    lines = [f"# Film page: cache hit in a new session ({video.name}, {size:.1f} MB)", "",
             f"{runs} fresh processes, each with a first session (the user picks the film {THINK_S:.0f} s after "
             "the page opens) and a next session; Streamlit AppTest; seconds. Load average (1 min) at the end: "
             f"{os.getloadavg()[0]:.1f} (2 cores).", "",
             "| step | median (s) | min (s) | max (s) |", "|---|---|---|---|"]
    lines += [f"| {what} | {statistics.median(v):.2f} | {min(v):.2f} | {max(v):.2f} |" for what, v in samples.items()]
    text = "\n".join(lines) + "\n"
    out = ROOT / "benchmarks" / "results" / "film_page.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
