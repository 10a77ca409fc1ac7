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
    return open_page("pages/3_Film.py")


def _texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


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
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Scenes"] == "3" and metrics["Frames with faces"] == "0%"
    assert "No face was found" in _texts(page.warning)
    assert len(page.get("plotly_chart")) == 2
    downloads = page.get("download_button")
    assert [d.proto.label for d in downloads] == ["Per-scene table (CSV)", "Per-frame table (CSV)", "Summary (JSON)"]
    assert len(page.session_state["film.reports"]) == 1

    # Changing the view re-runs the script without analysing again.
    page.radio(key="film.view").set_value("Heatmap").run()
    assert not page.exception and not [b for b in page.button if b.label in ("Analyse", "Resume analysis")]
    assert '"heatmap"' in page.get("plotly_chart")[1].proto.spec and len(page.session_state["film.reports"]) == 1



def test_switching_pages_keeps_the_film_and_its_results(app_test, bundled, tiny_checkpoint, clip_bytes):
    bundled(tiny_checkpoint)
    at = app_test("app.py").run()
    at.switch_page("pages/3_Film.py").run()
    at.file_uploader[0].upload("clip.mp4", clip_bytes, "video/mp4").run()
    next(b for b in at.button if b.label == "Analyse").click().run()
    assert not at.exception and not at.error
    report = next(iter(at.session_state["film.reports"].values()))
    at.switch_page("pages/1_Image.py").run()
    at.switch_page("pages/3_Film.py").run()
    assert not at.exception
    assert "Showing **clip.mp4**" in _texts(at.caption)
    assert next(iter(at.session_state["film.reports"].values())) is report, "nothing is recomputed"
    assert {m.label: m.value for m in at.metric}["Scenes"] == "3"


def test_bad_upload_shows_an_error(page):
    page.file_uploader[0].upload("notes.mp4", b"definitely not a film", "video/mp4").run()
    next(b for b in page.button if b.label == "Analyse").click().run()
    assert not page.exception
    (error,) = page.error
    assert "notes.mp4" in error.value and "not a video file" in error.value


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
    assert {m.label: m.value for m in page.metric}["Scenes"] == "3"


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
