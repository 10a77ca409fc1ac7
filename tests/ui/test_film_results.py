"""emotion.ui.film_results: what the results draw at first, what waits for a click, and what is built once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the synthetic-video helpers live in tests/

from synth_video import CUT_COLOURS, scene_video

from emotion.ui.film_results import STRIP_FIRST, STRIP_MAX, STRIP_STEP


def _strip(n_rows: int):
    """AppTest of the key-frame strip alone over ``n_rows`` shots (2 s apart, no thumbnails)."""
    from streamlit.testing.v1 import AppTest

    def script(n: int):
        from types import SimpleNamespace

        from emotion.ui.film_results import _key_frame_strip

        rows = [SimpleNamespace(scene=i, name="", start_s=2.0 * (i - 1), dominant_emotion="happy")
                for i in range(1, n + 1)]
        _key_frame_strip(SimpleNamespace(rows=rows, fps=25.0), [b""] * n, "shot")

    return AppTest.from_function(script, args=(n_rows,), default_timeout=60).run()


def _shown(at) -> list[int]:
    return [int(b.key.removeprefix("film.strip_play")) for b in at.button if b.key.startswith("film.strip_play")]


def test_the_strip_starts_with_its_first_rows_and_grows_on_request():
    at = _strip(30)
    assert _shown(at) == list(range(1, STRIP_FIRST + 1))
    more = at.button(key="film.strip_more")
    assert more.label == f"Show {30 - STRIP_FIRST} more key frames"      # fewer than a step are left
    more.click().run()
    assert _shown(at) == list(range(1, 31)) and not [b for b in at.button if b.key == "film.strip_more"]
    assert not at.slider


def test_a_long_film_shows_more_on_request_up_to_strip_max_and_no_slider():
    # Field report: a "First shot shown" slider (1-81) sat above the key frames; "Show more" is the one way on.
    at = _strip(100)
    assert not at.slider and _shown(at) == list(range(1, STRIP_FIRST + 1))
    at.button(key="film.strip_more").click().run()
    assert _shown(at) == list(range(1, STRIP_FIRST + STRIP_STEP + 1))
    while [b for b in at.button if b.key == "film.strip_more"]:
        at.button(key="film.strip_more").click().run()
    assert _shown(at) == list(range(1, STRIP_MAX + 1)) and not at.exception and not at.slider
    assert f"The first {STRIP_MAX} of 100 shots" in " ".join(c.value for c in at.caption)


def test_each_key_frame_is_one_clickable_tile():
    at = _strip(3)
    labels = [b.label for b in at.button if b.key.startswith("film.strip_play")]
    assert labels == ["Play"] * 3
    assert "st-key-film-tile" in " ".join(h.proto.body for h in at.get("html")), "the tile's play button covers it"


def test_a_key_frames_play_button_reaches_the_player():
    at = _strip(30)
    at.button(key="film.strip_play3").click().run()
    assert at.session_state["film.play_at"] == 4.0 and not at.exception


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    scenes = [(c, 40) for c in CUT_COLOURS[:3]]
    return scene_video(tmp_path_factory.mktemp("results") / "clip.mp4", scenes, noise=3).read_bytes()


@pytest.fixture
def results(open_page, clip_bytes):
    page = open_page("views/3_Film.py")
    page.file_uploader[0].upload("clip.mp4", clip_bytes, "video/mp4").run()
    next(b for b in page.button if b.label == "Analyse").click().run()
    assert not page.exception and not page.error
    return page


def test_figures_are_built_once_per_timeline(results):
    (timeline, made) = next(iter(results.session_state["film.built"].values()))
    assert {"timeline", "bars", "frames"} <= set(made)
    figures = dict(made)
    results.button(key="film.play_film").click().run()                   # a rerun of the whole page
    (_, again) = next(iter(results.session_state["film.built"].values()))
    assert all(again[k] is figures[k] for k in figures), "nothing built again"
    results.radio(key="film.level").set_value("shots").run()
    assert len(results.session_state["film.built"]) == 2                 # the shots' timeline has its own


def test_the_player_waits_for_play_then_plays_from_the_start(results):
    assert not results.get("video")
    results.button(key="film.play_film").click().run()
    (video,) = results.get("video")
    assert video.proto.start_time == 0 and video.proto.autoplay


def test_tables_are_built_only_while_open(results):
    assert not results.dataframe
    results.session_state["film.table_open"] = True
    results.run()
    (table,) = results.dataframe
    assert "dominant_emotion" in table.value.columns and len(table.value) == 1     # one grouped scene
