"""Film exports: SMPTE timecodes, EDL and marker CSV, the per-shot table, names, the summary, the HTML report."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from film_fakes import fake_detector
from synth_video import NAVY, RED, WHITE, scene_video

from emotion.errors import SettingsError
from emotion.film import FilmSettings, analyze_video
from emotion.film import output
from emotion.film.output import edl, html_report, markers_csv, report_markers
from emotion.film.smpte import (
    film_rate,
    is_drop_frame,
    parse_smpte,
    smpte,
    smpte_from_frame,
)
from emotion.film.summary import summarize

NTSC24, NTSC30 = 24000 / 1001, 30000 / 1001
CHROMIUM = Path(os.environ.get("EMOTION_TEST_CHROMIUM", "/usr/bin/chromium"))


# Hand-checked: drop-frame skips ;00 and ;01 at each minute except every tenth.
@pytest.mark.parametrize("frame, fps, text", [
    (0, 25, "00:00:00:00"), (24, 25, "00:00:00:24"), (25, 25, "00:00:01:00"), (90_000, 25, "01:00:00:00"),
    (23, NTSC24, "00:00:00:23"), (24, NTSC24, "00:00:01:00"), (1440, NTSC24, "00:01:00:00"),
    (86_400, NTSC24, "01:00:00:00"),
    (1799, NTSC30, "00:00:59;29"), (1800, NTSC30, "00:01:00;02"), (3597, NTSC30, "00:01:59;29"),
    (3598, NTSC30, "00:02:00;02"), (17_981, NTSC30, "00:09:59;29"), (17_982, NTSC30, "00:10:00;00"),
    (107_892, NTSC30, "01:00:00;00"),
])
def test_timecode_labels(frame, fps, text):
    assert smpte_from_frame(frame, fps) == text
    assert parse_smpte(text, fps) == frame                          # and back


@pytest.mark.parametrize("seconds, fps, text", [
    (60.0, 25, "00:01:00:00"), (60.0, NTSC24, "00:00:59:23"),      # 1438.56 -> frame 1439
    (60.0, NTSC30, "00:00:59;28"), (600.0, NTSC30, "00:10:00;00"),  # 10 min of 29.97 is 17982 frames exactly
    (3600.0, NTSC30, "01:00:00;00"),
])
def test_timecode_of_seconds(seconds, fps, text):
    assert smpte(seconds, fps) == text


def test_rates_and_drop_frame_choice():
    assert film_rate(23.976024) == film_rate(NTSC24) and film_rate(29.97003).denominator == 1001
    assert [is_drop_frame(f) for f in (NTSC24, 25, NTSC30, 30, 60000 / 1001)] == [False, False, True, False, True]
    assert smpte_from_frame(1800, NTSC30, drop_frame=False) == "00:01:00:00"
    with pytest.raises(SettingsError, match="frame rate"):
        smpte(1.0, 0.0)


# ------------------------------------------------------------------ a film with faces

@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """5 s red (happy face), 2 s navy (none), 3 s white (two sad faces), 2 s red: 4 shots."""
    path = scene_video(tmp_path_factory.mktemp("exports") / "Dailies Day 3.mp4",
                       [(RED, 125), (NAVY, 50), (WHITE, 75), (RED, 50)], noise=3)
    return analyze_video(path, film=FilmSettings(fps=4), detector=fake_detector(), cache=False)


def test_names_and_scene_levels(report):
    assert report.source == "Dailies Day 3.mp4" and json.loads(output.report_json(report))["source"] == "Dailies Day 3.mp4"
    assert len(report.shots) == 4 and report.segmentation == "scenes"
    # red 5 s | navy 2 s joins its more similar neighbour | white, red again within the window
    assert sum(s.duration for s in report.scenes) == pytest.approx(12.0)
    shots = report.shot_table()
    assert list(shots.columns[:3]) == ["shot", "scene", "scene_name"] and list(shots["shot"]) == [1, 2, 3, 4]
    listed = report.resegment(scene_list=[("Meadow", 0.0, 5.0), ("Night", 5.0, 7.0)])
    assert [r.name for r in listed.rows] == ["Meadow", "Night", ""]
    assert list(listed.shot_table()["scene_name"]) == ["Meadow", "Night", "", ""]
    assert listed.rows[0].dominant_emotion == "happy" and listed.rows[1].dominant_emotion == ""
    assert "Meadow" in output.scenes_csv(listed) and listed.scene_table()["name"].tolist()[0] == "Meadow"
    windows = report.resegment("every:4")
    assert [(s.start, s.end) for s in windows.scenes] == [(0.0, 4.0), (4.0, 8.0), (8.0, 12.0)]
    back = windows.resegment("shots")
    assert back.scene_table().equals(report.resegment("shots").scene_table()) and back.shot_timeline is None
    frames = listed.frame_table()
    assert {"scene", "shot"} <= set(frames.columns)


def test_summary_says_something(report):
    s = summarize(report)
    assert s.dominant in ("happy", "sad") and s.dominant != "neutral"
    assert s.face_time == pytest.approx(10 / 12, abs=0.05)           # faces in red and white, not navy
    assert 0.85 < s.expressiveness < 0.95                             # fake faces are 90 % non-neutral
    assert s.top_peaks and all(p.thumbnail[:2] == b"\xff\xd8" for p in s.top_peaks)
    assert s.top_scenes[0].value > 0 and "Mostly" in s.headline()


def test_markers_at_scenes_and_peaks(report):
    markers = report_markers(report)
    scene_starts = [r.start_s for r in report.rows]
    assert [m.time for m in markers if m.colour == "Blue"] == scene_starts
    assert any(m.name.startswith("Peak ") for m in markers)
    rows = list(csv.DictReader(io.StringIO(markers_csv(report))))
    assert list(rows[0]) == ["Marker Name", "Description", "In", "Out", "Duration", "Marker Type", "Color", "Seconds"]
    assert rows[0]["In"] == "00:00:00:00" and len(rows) == len(markers)
    for row in rows:
        assert row["In"] == smpte(float(row["Seconds"]), 25)
    text = edl(report, start="01:00:00:00")
    assert text.startswith("TITLE: Dailies Day 3\nFCM: NON-DROP FRAME\n")
    events = re.findall(r"^(\d{3})  001      V     C        (\S+) (\S+) (\S+) (\S+)$", text, re.MULTILINE)
    assert len(events) == len(markers) and events[0][1:] == ("01:00:00:00", "01:00:00:01") * 2
    assert text.count(" |C:ResolveColor") == len(markers) and "* LOC: 01:00:00:00 blue" in text


def test_html_report_is_self_contained(report):
    page = html_report(report)
    assert "Dailies Day 3" in page and "Mostly" in page and page.count("<tr>") == len(report.rows) + 1
    assert page.count("data:image/jpeg;base64,") >= len(report.rows)
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.DOTALL)      # plotly.js's own strings aside
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", markup), "no network resources"
    assert "<script src" not in page and "<link" not in page
    assert "plotly" in page.lower() and page.count("Plotly.newPlot") == 4
    image = re.search(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", page)[1]
    assert base64.b64decode(image)[:2] == b"\xff\xd8"


@pytest.mark.browser
def test_html_report_opens_offline_in_a_browser(report, tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    target = tmp_path / "report.html"
    target.write_text(html_report(report), encoding="utf-8")
    requested, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        context = browser.new_context(offline=True)

        def block(route):
            url = route.request.url
            if url == target.as_uri() or url.startswith("data:"):
                route.continue_()
            else:
                requested.append(url)
                route.abort()
        context.route("**/*", block)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(target.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        plots = page.locator(".js-plotly-plot").count()
        images_loaded = page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        browser.close()
    assert requested == [], f"the report asked the network for {requested}"
    assert errors == [] and plots == 4 and images_loaded


SMPTE_TC = re.compile(r"^\d{2}:\d{2}:\d{2}[:;]\d{2}$")


def test_every_time_a_person_reads_is_a_frame_timecode(report):
    """Field report: CSVs and the page used milliseconds, the EDL and HTML frames; one format now."""
    scenes = report.scene_table()
    for column in ("start_timecode", "end_timecode", "key_frame_timecode"):
        assert all(SMPTE_TC.match(v) for v in scenes[column]), scenes[column].tolist()
    assert scenes["start_timecode"].tolist() == [smpte(t, 25) for t in scenes["start_s"]]
    assert all(SMPTE_TC.match(v) for v in report.frame_table()["timecode"])
    assert all(SMPTE_TC.match(v) for v in report.shot_table()["start_timecode"])
    data = json.loads(output.report_json(report))
    assert all(SMPTE_TC.match(s["start_timecode"]) for s in data["scenes"]) and "SMPTE" in data["timecodes"]
    summary = summarize(report)
    assert all(SMPTE_TC.match(m.timecode) for m in summary.top_peaks)
    assert all(SMPTE_TC.match(m["timecode"]) for m in summary.to_dict()["top_peaks"])
    page = re.sub(r"<script.*?</script>", "", html_report(report), flags=re.S)   # the text, not Plotly's code
    assert re.search(r"\d{2}:\d{2}:\d{2}:\d{2}", page)
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{3}", page), "no millisecond timecode anywhere in the report"
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{3}", output.scenes_csv(report) + output.frames_csv(report))


def test_drop_frame_timecodes_at_29_97(tmp_path):
    from fractions import Fraction

    path = scene_video(tmp_path / "ntsc.mp4", [(RED, 70)], fps=Fraction(30000, 1001))
    report = analyze_video(path, film=FilmSettings(fps=4), detector=fake_detector(), cache=False)
    assert report.fps == pytest.approx(NTSC30, abs=1e-3)
    assert report.tc(60.0) == "00:00:59;28" and ";" in report.scene_table()["end_timecode"][0]
