"""The Audience page through AppTest: film, reactions synced by sound or by hand, analysis, panel, privacy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the media helpers live in tests/

import audience_media as media  # noqa: E402


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    reason = media.missing()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("audience_page")
    sound = media.decode_sound(media.TRAILER)
    film = media.write_film(folder / "short_film.mp4", 20.0)
    early = media.write_recording(folder / "early.mp4", media.room_sound(sound, 4.0, 16.0, 0.0), 16.0)
    mute = media.write_recording(folder / "mute.mp4", None, 12.0)
    return {p.name: p.read_bytes() for p in (film, early, mute)}


@pytest.fixture
def page(open_page, monkeypatch):
    monkeypatch.setenv("EMOTION_FACE_MODEL", str(media.YUNET))
    return open_page("views/4_Audience.py")


def _texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def test_page_states_consent_and_asks_for_the_film(page):
    info = _texts(page.info)
    assert "consent" in info and "An expression is not a feeling" in info and "numbered, never named" in info
    assert "Choose the film" in info


def test_film_reactions_sync_analysis_and_panel(page, clips):
    page.file_uploader(key="audience.film_file").upload("short_film.mp4", clips["short_film.mp4"], "video/mp4").run()
    assert not page.exception and "short_film.mp4" in _texts(page.caption)
    page.file_uploader(key="audience.files").set_value(
        [("early.mp4", clips["early.mp4"], "video/mp4"), ("mute.mp4", clips["mute.mp4"], "video/mp4")]).run()
    assert not page.exception
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Film starts at"] == "+4.00 s"
    assert "mute.mp4 has no sound track" in _texts(page.warning)
    assert "Give an offset for mute.mp4" in _texts(page.warning)
    assert not [b for b in page.button if b.label == "Analyse reactions"]

    (mute_box,) = [n for n in page.number_input if n.value is None]
    mute_box.set_value(1.5).run()
    next(b for b in page.button if b.label == "Analyse reactions").click().run()
    assert not page.exception and not page.error, _texts(page.error)
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Viewers"] == "2" and metrics["Reactions"] == "2" and metrics["Scenes"] == "4"
    assert len(page.get("plotly_chart")) == 2, "one sync plot (the mute reaction has none) and the panel"
    labels = [d.proto.label for d in page.get("download_button")]
    assert labels == ["Per-scene (CSV)", "Per-second (CSV)", "Per-viewer (CSV)", "Summary (JSON)", "Report (HTML)"]
    stored = page.session_state["audience.stored"]
    assert stored and not any(s.path.exists() for s in stored.values()), "reaction videos deleted once analysed"
    assert "Deleted after analysis" in _texts(page.caption)

    # Correcting an offset re-times the panel from the kept numbers: nothing is analysed again.
    results = dict(page.session_state["audience.results"])
    early_box = next(n for n in page.number_input if n.value is not None and abs(n.value - 4.0) < 0.1)
    early_box.set_value(5.0).run()
    assert not page.exception and not page.error
    assert dict(page.session_state["audience.results"]) == results
    assert not [b for b in page.button if b.label == "Analyse reactions"]

    # Per-viewer traces on demand.
    page.toggle(key="audience.traces").set_value(True).run()
    assert not page.exception and len(page.get("plotly_chart")) == 3


def test_a_file_that_is_no_video_is_refused_at_upload(page, clips):
    page.file_uploader(key="audience.film_file").upload("notes.mp4", b"these are my notes, not a film",
                                                        "video/mp4").run()
    assert not page.exception
    errors = _texts(page.error)
    assert "notes.mp4" in errors and "Choose the film itself" in errors and "/" not in errors.split("notes.mp4")[0]
    assert not [c for c in page.caption if "Film: **notes.mp4**" in str(c.value)]
    page.file_uploader(key="audience.film_file").upload("short_film.mp4", clips["short_film.mp4"], "video/mp4").run()
    page.file_uploader(key="audience.files").set_value(
        [("early.mp4", clips["early.mp4"], "video/mp4"), ("scan.mp4", b"\x00" * 64, "video/mp4")]).run()
    assert not page.exception
    errors = _texts(page.error)
    assert "scan.mp4" in errors and "left out" in errors
    assert len([e for e in page.expander if "Reaction" in e.label]) == 1, "only the real recording is synced"
