"""The Film page's "Compare with another analysis" section through AppTest: a second cut, another rate."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the synthetic-video helpers live in tests/

from synth_video import GREEN, NAVY, RED, WHITE, scene_video


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    a = scene_video(folder / "cut_a.mp4", [(RED, 40), (NAVY, 40), (WHITE, 40)], noise=3)
    b = scene_video(folder / "cut_b.mp4", [(GREEN, 30), (RED, 40), (NAVY, 30)], noise=3)
    return a.read_bytes(), b.read_bytes()


def _analysed(open_page, clip: bytes):
    page = open_page("views/3_Film.py")
    page.file_uploader(key="film.file").upload("cut_a.mp4", clip, "video/mp4").run()
    next(b for b in page.button if b.label == "Analyse").click().run()
    assert not page.exception and not page.error
    return page


def test_compare_with_a_second_cut(open_page, clips):
    import pandas as pd

    page = _analysed(open_page, clips[0])
    assert page.radio(key="film.compare.what").value == "another film"
    assert "Choose the second film" in " ".join(str(c.value) for c in page.caption)
    page.file_uploader(key="film.compare.file").upload("cut_b.mp4", clips[1], "video/mp4").run()
    assert not page.exception and not page.error
    assert len(page.session_state["film.reports"]) == 1, "nothing analysed before Compare is clicked"
    page.button(key="film.compare.start").click().run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    assert len(page.session_state["film.reports"]) == 2
    (a, b) = page.session_state["film.reports"].values()
    assert (a.source, b.source) == ("cut_a.mp4", "cut_b.mp4")
    charts = page.get("plotly_chart")
    assert len(charts) == 3 and '"xaxis2"' in charts[-1].proto.spec and "cut_b.mp4" in charts[-1].proto.spec
    table = page.dataframe[-1].value
    assert len(table) == 1 and {"valence_diff", "dominant_b", "b_seconds"} <= set(table.columns)
    (download,) = [d for d in page.get("download_button") if d.proto.label == "Comparison (CSV)"]
    csv = pd.read_csv(io.StringIO(_csv(page)))
    assert list(csv["scene"]) == list(table["scene"]) and list(csv.columns) == list(table.columns)

    # A rerun keeps the comparison on screen without analysing again.
    page.radio(key="film.view").set_value("Heatmap").run()
    assert not page.exception and len(page.get("plotly_chart")) == 3 and len(page.session_state["film.reports"]) == 2


def test_compare_with_the_same_film_at_another_rate(open_page, clips):
    page = _analysed(open_page, clips[0])
    page.radio(key="film.compare.what").set_value("this film at another sampling rate").run()
    page.select_slider(key="film.compare.fps").set_value(2.0).run()
    page.button(key="film.compare.start").click().run()
    assert not page.exception and not page.error
    reports = list(page.session_state["film.reports"].values())
    assert [r.film.fps for r in reports] == [4.0, 2.0] and reports[0].source == reports[1].source
    table = page.dataframe[-1].value
    assert list(table["b_seconds"]) == [0.0], "the clips have no readable face: nothing of B to compare"
    assert "this film at another" not in " ".join(str(e.value) for e in page.error)


def _csv(page) -> str:
    from emotion.film.compare import compare_reports

    a, b = page.session_state["film.reports"].values()
    return compare_reports(a.resegment("scenes"), b.resegment("scenes")).csv()

