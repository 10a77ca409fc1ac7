"""emotion.film.compare: two analyses lined up on film time, per-scene differences B − A."""

from __future__ import annotations

import math

import numpy as np
import pytest
from film_fakes import LABELS, fake_detector
from synth_video import NAVY, RED, WHITE, scene_video

from emotion.film import FilmSettings, analyze_video
from emotion.film.compare import compare_reports

#: 8 s at 25 fps: red (one face, happy), navy (no face), white (two faces, sad), red again.
CUT_A = [(RED, 50), (NAVY, 50), (WHITE, 50), (RED, 50)]
#: The same cut with one second of navy (no face) put in front: everything plays 1 s later.
CUT_B = [(NAVY, 25), *CUT_A]


def _analyse(path, fps=4.0):
    return analyze_video(path, film=FilmSettings(fps=fps, segments="shots"), detector=fake_detector(), cache=False)


@pytest.fixture(scope="module")
def cuts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cuts")
    return (_analyse(scene_video(folder / "cut_a.mp4", CUT_A, noise=3)),
            _analyse(scene_video(folder / "cut_b.mp4", CUT_B, noise=3)))


def test_identical_analyses_differ_by_nothing(cuts):
    a, _ = cuts
    c = compare_reports(a, a)
    table = c.table()
    assert len(table) == len(a.rows) == 4
    faces = [r.dominant_emotion != "" for r in a.rows]
    assert faces == [True, False, True, True]
    diffs = table[[f"diff_{lab}" for lab in LABELS] + ["valence_diff"]]
    assert diffs[faces].abs().to_numpy().max() == pytest.approx(0.0, abs=1e-12)
    assert diffs[[not f for f in faces]].isna().all().all(), "a scene without faces has no difference"
    assert list(table["dominant_a"]) == list(table["dominant_b"]) == ["happy", "", "sad", "happy"]


def test_same_film_at_another_sampling_rate(cuts, tmp_path):
    a, _ = cuts
    b = _analyse(scene_video(tmp_path / "cut_a.mp4", CUT_A, noise=3), fps=2.0)
    c = compare_reports(a, b)
    assert len(c.table()) == 4 and c.b.info.duration == pytest.approx(a.info.duration, abs=0.05)
    finite = np.isfinite(c.diff)
    assert finite.sum() == 3 * len(LABELS) and np.abs(c.diff[finite]).max() < 1e-6


def test_a_known_one_second_shift(cuts):
    a, b = cuts
    assert [(round(s.start, 2), round(s.end, 2)) for s in b.scenes] == [(0, 1), (1, 3), (3, 5), (5, 7), (7, 9)]
    c = compare_reports(a, b)
    table = c.table().set_index("scene")
    # A scene 1 (0-2 s, happy): B shows navy 0-1 (no face) and red 1-3: happy over 1 s of faces.
    assert table.loc[1, "b_seconds"] == pytest.approx(1.0, abs=1e-3)
    assert table.loc[1, "diff_happy"] == pytest.approx(0.0, abs=1e-6)
    # A scene 2 (2-4 s) has no face: its numbers stay empty, though B has red 2-3.
    assert math.isnan(c.a_valence[1]) and math.isnan(table.loc[2, "valence_diff"]) and table.loc[2, "dominant_b"] == "happy"
    # A scene 4 (6-8 s, happy, valence 0.7 - 0.2 = 0.5): B has white (sad) 6-7 and red (happy) 7-8, half each.
    assert table.loc[4, "b_seconds"] == pytest.approx(2.0, abs=1e-3)
    assert table.loc[4, "diff_happy"] == pytest.approx(0.4 - 0.7, abs=1e-3)
    assert table.loc[4, "diff_sad"] == pytest.approx(0.4 - 0.1, abs=1e-3)
    assert table.loc[4, "valence_a"] == pytest.approx(0.5, abs=1e-3)
    assert table.loc[4, "valence_b"] == pytest.approx(0.4 - 0.5, abs=1e-3)
    assert table.loc[4, "valence_diff"] == pytest.approx(-0.6, abs=1e-3)
    # Reversed, B's scenes are the rows: one per scene of B; B's last second (8-9 s) has nothing of A.
    back = compare_reports(b, a).table()
    assert len(back) == len(b.rows) == 5 and back["b_seconds"].iloc[-1] == pytest.approx(1.0, abs=1e-3)


def test_a_shorter_second_film_leaves_the_rest_empty(cuts, tmp_path):
    a, _ = cuts
    short = _analyse(scene_video(tmp_path / "short.mp4", [(WHITE, 50)], noise=3))
    table = compare_reports(a, short).table()
    assert list(table["b_seconds"]) == pytest.approx([2.0, 0.0, 0.0, 0.0], abs=1e-3)
    assert table["valence_b"].iloc[1:].isna().all() and table["dominant_b"].tolist() == ["sad", "", "", ""]
    assert table.loc[0, "diff_sad"] == pytest.approx(0.6, abs=1e-3)
    assert "scene,name,start_timecode" in compare_reports(a, short).csv().splitlines()[0]


def test_figure_has_two_rows_on_one_time_axis(cuts):
    a, b = cuts
    fig = compare_reports(a, b).figure()
    assert fig.layout.xaxis.matches == "x2" or fig.layout.xaxis2.matches == "x"
    assert list(fig.layout.xaxis.range) == pytest.approx([0, 9.0], abs=0.05)
    steps = [t for t in fig.data if t.type == "scatter"]
    assert {t.name for t in steps} == {"happy", "sad"}
    assert sum(t.showlegend for t in steps) == 2, "each emotion once in the legend"
    from emotion.annotate import emotion_hex

    assert all(t.line.color == emotion_hex(t.name) for t in steps)


def test_no_shared_emotion_is_a_clear_error(cuts):
    from dataclasses import replace

    a, _ = cuts
    other = replace(a, timeline=replace(a.timeline, labels=("fear",)))
    with pytest.raises(ValueError, match="share no emotion"):
        compare_reports(a, other)
