"""The Film page through AppTest: upload, analyse, results, downloads, bad upload, cache and resume."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the synthetic-video helpers live in tests/

from synth_video import NAVY, RED, WHITE, scene_video

from emotion.errors import AnalysisCancelled
from emotion.film import FilmSettings, analyze_video, saved_progress


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    path = scene_video(tmp_path_factory.mktemp("page") / "clip.mp4", [(RED, 40), (NAVY, 40), (WHITE, 40)], noise=3)
    return path.read_bytes()


@pytest.fixture
def page(open_page):
    return open_page("views/3_Film.py")


def _texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def _stats(page) -> dict[str, str]:
    """The page's stats rows (emotion.ui.film_html.stats_html), label -> value, first one of each label."""
    import html
    import re

    found: dict[str, str] = {}
    for element in page.get("html"):
        for label, value in re.findall(r'data-label="([^"]*)" data-value="([^"]*)"', element.proto.body):
            found.setdefault(html.unescape(label), html.unescape(value))
    return found


def test_page_asks_for_a_video(page):
    assert "Choose a video file" in _texts(page.info)
    assert ".mp4" in page.file_uploader[0].allowed_type and ".mkv" in page.file_uploader[0].allowed_type
    assert page.select_slider(key="_w.film.fps").value == 4.0


def test_upload_analyse_and_results(page, clip_bytes):
    page.file_uploader[0].upload("clip.mp4", clip_bytes, "video/mp4").run()
    assert not page.exception and not page.error
    (start,) = [b for b in page.button if b.label == "Analyse"]
    start.click().run()
    assert not page.exception and not page.error, _texts(page.error)
    metrics = _stats(page)
    # Three 1.6 s shots are shorter than a scene's minimum length: one scene.
    assert metrics["Scenes"] == "1" and metrics["Screen time with faces"] == "0%"
    assert metrics["Length"] == "0:05", "three 40-frame shots at 25 fps, as m:ss"
    assert "No face was found" in _texts(page.warning)
    assert len(page.get("plotly_chart")) == 2      # emotions with valence under them; the chart by scene
    downloads = page.get("download_button")
    assert sorted(d.proto.label for d in downloads) == sorted([
        "Per-scene table (CSV)", "Per-shot table (CSV)", "Per-frame table (CSV)", "Summary (JSON)",
        "Report (HTML, offline)", "Markers (EDL)", "Markers (CSV)"])
    assert all(d.proto.deferred_file_id and not d.proto.url for d in downloads), "made on click, not on draw"
    assert len(page.session_state["film.reports"]) == 1
    files = page.session_state["film.downloads"]
    assert not files._made, "drawing the page builds no download"
    assert [name for name, _ in files.names.values()][:2] == ["clip_scenes.csv", "clip_shots.csv"]
    assert all("clip" in name and len(name) < 30 for name, _ in files.names.values()), "the film's name, never a hash"
    assert '"source": "clip.mp4"' in files.content("Summary (JSON)")
    assert files.content("Markers (EDL)").startswith("TITLE: clip")
    html = files.content("Report (HTML, offline)")
    assert html.lstrip().lower().startswith("<!doctype html") and "clip.mp4" in html
    assert files.content("Report (HTML, offline)") is html, "made once, then kept"

    # Shots and fixed windows are post-processing: no new analysis.
    page.radio(key="film.level").set_value("shots").run()
    assert not page.exception and "Shot detail" in _texts(page.subheader)
    page.radio(key="film.segments").set_value("shots").run()
    assert _stats(page)["Scenes"] == "3" and len(page.session_state["film.reports"]) == 1

    # Changing the view re-runs the script without analysing again.
    page.radio(key="film.view").set_value("Heatmap").run()
    assert not page.exception and not [b for b in page.button if b.label in ("Analyse", "Resume analysis")]
    assert '"heatmap"' in page.get("plotly_chart")[1].proto.spec and len(page.session_state["film.reports"]) == 1



def test_switching_pages_keeps_the_film_and_its_results(app_test, bundled, tiny_checkpoint, clip_bytes):
    bundled(tiny_checkpoint)
    at = app_test("app.py").run()
    at.switch_page("views/3_Film.py").run()
    at.file_uploader[0].upload("clip.mp4", clip_bytes, "video/mp4").run()
    next(b for b in at.button if b.label == "Analyse").click().run()
    assert not at.exception and not at.error
    report = next(iter(at.session_state["film.reports"].values()))
    at.switch_page("views/1_Image.py").run()
    at.switch_page("views/3_Film.py").run()
    assert not at.exception
    assert "Showing **clip.mp4**" in _texts(at.caption)
    assert next(iter(at.session_state["film.reports"].values())) is report, "nothing is recomputed"
    assert _stats(at)["Scenes"] == "1"


def test_bad_upload_is_refused_at_once_in_plain_words(page):
    page.file_uploader[0].upload("notes.mp4", b"definitely not a film", "video/mp4").run()
    assert not page.exception
    (error,) = page.error
    assert error.value.startswith("notes.mp4: not a video file") and "/" not in error.value.split("(")[0]
    assert "uploads" not in error.value and "cache" not in error.value       # no internal paths
    assert not [b for b in page.button if b.label == "Analyse"] and not page.get("progress")


def test_an_interrupted_analysis_resumes_from_its_checkpoint(page, clip_bytes, tmp_path):
    from emotion.settings import Settings
    from emotion.ui.loaders import load_detector

    # Interrupt an analysis of the same file with the detector and settings the page uses.
    path = tmp_path / "clip.mp4"
    path.write_bytes(clip_bytes)
    from emotion.film import default_cache_dir

    loaded = load_detector(Settings())

    def cancel():   # stop as soon as the first checkpoint (the first chunk of 16 samples) is saved
        return any(default_cache_dir().glob("*.ckpt"))

    with pytest.raises(AnalysisCancelled) as err:
        analyze_video(path, loaded.settings, FilmSettings(fps=4.0), detector=loaded.detector, cancel=cancel)
    assert saved_progress(err.value.partial.key)[0] == "partial"

    page.file_uploader[0].upload("clip.mp4", clip_bytes, "video/mp4").run()
    assert "starting again resumes from there" in _texts(page.info)
    (resume,) = [b for b in page.button if b.label == "Resume analysis"]
    resume.click().run()
    assert not page.exception and not page.error
    assert "Resumed from" in _texts(page.caption)
    assert _stats(page)["Scenes"] == "1"


def test_a_second_run_of_the_same_job_waits_for_the_first_to_finish():
    # Streamlit's fast reruns start the next run while the interrupted one still writes its checkpoint.
    import threading
    import time

    from emotion.ui.film_page import _acquire, _job_lock

    held = _job_lock("job-a")
    held.acquire()
    threading.Timer(0.6, held.release).start()
    started = time.monotonic()
    lock = _acquire("job-a")
    try:
        assert lock is held and time.monotonic() - started >= 0.5
        assert _job_lock("job-b").acquire(timeout=0.01), "other jobs are not blocked"
        _job_lock("job-b").release()
    finally:
        lock.release()


FACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "media" / "videos" / \
    "liveportrait_d3_expressions.mp4"
YUNET = FACES.parents[2] / "models" / "face_detection_yunet_2026may.onnx"


@pytest.mark.slow
@pytest.mark.skipif(not (FACES.exists() and YUNET.exists()), reason=f"needs {FACES} and {YUNET} (../shared/data)")
def test_a_real_face_film_fills_the_summary_charts_and_tables(page, monkeypatch):
    monkeypatch.setenv("EMOTION_FACE_MODEL", str(YUNET))
    page.select_slider(key="_w.film.fps").set_value(2.0).run()
    page.file_uploader[0].upload("Expressions take 1.mp4", FACES.read_bytes(), "video/mp4").run()
    next(b for b in page.button if b.label == "Analyse").click().run()
    assert not page.exception and not page.error, _texts(page.error)
    metrics = _stats(page)
    assert metrics["Dominant (not neutral)"] not in ("no face", "neutral")
    assert int(metrics["Screen time with faces"].rstrip("%")) >= 80
    assert "Mostly" in _texts(page.markdown)
    (report,) = page.session_state["film.reports"].values()
    assert report.source == "Expressions take 1.mp4" and report.timeline.overall()["faces"] > 10
    assert not page.dataframe, "the faces of the chosen scene wait in a closed expander"
    page.session_state["film.faces_open"] = True
    page.run()
    assert len(page.dataframe) == 1                                     # the faces of the chosen scene
    # No player until the film is played; a peak's play button opens it at that moment, playing.
    assert not page.get("video") and page.button(key="film.play_film").label == "Play the film"
    play = next(b for b in page.button if b.key and b.key.startswith("film.top_peak"))
    play.click().run()
    (video,) = page.get("video")
    assert page.session_state["film.play_at"] > 0 and video.proto.start_time == int(page.session_state["film.play_at"])
    assert video.proto.autoplay


@pytest.mark.slow
@pytest.mark.skipif(not (FACES.exists() and YUNET.exists()), reason=f"needs {FACES} and {YUNET} (../shared/data)")
def test_after_cancel_the_part_done_is_drawn_in_this_and_a_new_session(app_test, monkeypatch):
    """Field report: after Cancel the page promised the part done and showed a traceback instead."""
    from emotion.film import default_cache_dir
    from emotion.settings import Settings
    from emotion.ui.loaders import load_detector

    monkeypatch.setenv("EMOTION_FACE_MODEL", str(YUNET))
    # The real bundled model and YuNet, the thorough search on (the page's default), cancelled part-way.
    loaded = load_detector(Settings())     # as the page makes it: $EMOTION_FACE_MODEL names YuNet
    assert loaded.detector.face_detector.name.startswith("yunet")

    def cancel():
        return any(default_cache_dir().glob("*.ckpt"))

    tmp = default_cache_dir().parent / "Expressions take 1.mp4"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(FACES.read_bytes())
    with pytest.raises(AnalysisCancelled) as err:
        analyze_video(tmp, loaded.settings, FilmSettings(fps=4.0, thorough=True), detector=loaded.detector,
                      cancel=cancel)
    assert err.value.partial is not None and not err.value.partial.complete

    for _session in range(2):          # the session that cancelled, then a new one opening the same film
        page = app_test("views/3_Film.py").run()
        page.file_uploader[0].upload("Expressions take 1.mp4", FACES.read_bytes(), "video/mp4").run()
        assert not page.exception, page.exception
        assert not page.error, _texts(page.error)
        assert "The part done so far is shown below" in _texts(page.info)
        assert [b.label for b in page.button if b.key == "film.start"] == ["Resume analysis"]
        stats = _stats(page)
        assert stats["Scenes"] and int(stats["Screen time with faces"].rstrip("%")) > 0, stats
        assert "stopped" in _texts(page.info) and not any("stopped" in str(w.value) for w in page.warning), \
            "where it stopped is said once, above the part done"
        assert page.get("plotly_chart"), "the partial report's charts are drawn"
        assert not any("Traceback" in str(m.value) for m in page.markdown)
