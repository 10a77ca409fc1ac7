"""Post-processing and cache-hit timings of a film analysis (scenes, summary, charts, exports).

Usage: EMOTION_FACE_MODEL=face_detection_yunet_2026may.onnx python benchmarks/film_postprocess.py [VIDEO]
(default: the shared trailer). The first call analyses the film if the cache does not have it yet; every
timed step after it is post-processing on the cached pass. Writes benchmarks/results/film_postprocess.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRAILER = ROOT.parent / "shared" / "data" / "media" / "videos" / "pjo_teaser_trailer.mp4"


def _timed(rows, what, fn, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    rows.append((what, best))
    return out


def main() -> None:
    from emotion.detector import build_detector
    from emotion.film import FilmSettings, analyze_video
    from emotion.film.charts import arc_figure, scene_bars, scene_heatmap, timeline_figure
    from emotion.film.output import edl, frames_csv, html_report, markers_csv, report_json, scenes_csv, shots_csv
    from emotion.film.summary import summarize
    from emotion.settings import Settings

    video = Path(sys.argv[1]) if len(sys.argv) > 1 else TRAILER
    detector = build_detector(Settings())
    analyze_video(video, detector=detector)                      # fills the cache if needed
    rows: list[tuple[str, float]] = []
    shots = _timed(rows, "cache hit: analyze_video(film=FilmSettings(segments='shots'))",
                   lambda: analyze_video(video, film=FilmSettings(segments="shots"), detector=detector))
    scenes = _timed(rows, "group shots into scenes (resegment)", lambda: shots.resegment("scenes"))
    _timed(rows, "fixed windows every:10 (resegment)", lambda: shots.resegment("every:10"))
    _timed(rows, "summary", lambda: summarize(scenes))
    _timed(rows, "4 charts (timeline, arc, bars, heatmap)",
           lambda: [f(scenes.timeline) for f in (timeline_figure, arc_figure, scene_bars, scene_heatmap)])
    _timed(rows, "CSV + JSON exports", lambda: (scenes_csv(scenes), shots_csv(scenes), frames_csv(scenes),
                                               report_json(scenes)))
    page = _timed(rows, "HTML report", lambda: html_report(scenes), repeat=3)
    _timed(rows, "EDL + marker CSV", lambda: (edl(scenes), markers_csv(scenes)))
    lines = [f"# Film post-processing on {video.name}", "",
             f"{len(shots.shots)} shots -> {len(scenes.scenes)} scenes; HTML report {len(page) / 1e6:.1f} MB", "",
             "| step | best of runs (s) |", "|---|---|"]
    lines += [f"| {what} | {sec:.3f} |" for what, sec in rows]
    text = "\n".join(lines) + "\n"
    out = ROOT / "benchmarks" / "results" / "film_postprocess.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
