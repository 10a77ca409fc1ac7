"""emotion.film.scenes / scenelist / segments: shots grouped into scenes, crew scene lists, fixed windows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from emotion.errors import SettingsError
from emotion.film.scenelist import parse_scene_list, parse_time, read_scene_list
from emotion.film.scenes import (
    SceneGrouping,
    fixed_windows,
    group_shots,
    listed_scenes,
    parse_segments,
    signature,
    similarity,
)
from emotion.film.shots import Scene

#: Four "looks" as colour signatures (one-hot: a look matches only itself).
A, B, C, D = np.eye(4)


def _shots(durations):
    out, t = [], 0.0
    for i, d in enumerate(durations):
        out.append(Scene(i + 1, t, t + d, round(t * 25), round((t + d) * 25)))
        t += d
    return out


def _spans(scenes, shots):
    starts = [s.start for s in shots]
    return [(starts.index(s.start) + 1, starts.index(s.start) + sum(1 for x in shots if s.start <= x.start < s.end))
            for s in scenes]


NO_MIN = SceneGrouping(similarity=0.5, window=10.0, min_length=0.0)


@pytest.mark.parametrize("pattern, expected", [
    ("ABAB", [(1, 4)]),                       # cross-cutting: one scene
    ("AABB", [(1, 2), (3, 4)]),               # two places, one after the other
    ("ABCABC", [(1, 6)]),                     # three-way cross-cutting
    ("AAB CC", [(1, 2), (3, 3), (4, 4), (5, 6)]),  # lone shots stay alone without a minimum length
    ("ABACDCD", [(1, 3), (4, 7)]),            # A-B-A, then C-D-C-D
])
def test_cut_patterns_group_into_scenes(pattern, expected):
    looks = {"A": A, "B": B, "C": C, "D": D, " ": None}
    shots = _shots([2.0] * len(pattern))
    scenes = group_shots(shots, [looks[c] for c in pattern], NO_MIN)
    assert _spans(scenes, shots) == expected
    assert scenes[0].start == 0.0 and scenes[-1].end == shots[-1].end
    assert all(a.end == b.start for a, b in itertools.pairwise(scenes))       # contiguous, nothing lost


def test_a_match_outside_the_window_does_not_link():
    shots = _shots([2.0] * 8)                  # A B C D C D C A: the last A is 12 s after the first ended
    looks = [A, B, C, D, C, D, C, A]
    assert _spans(group_shots(shots, looks, NO_MIN), shots) == [(1, 1), (2, 2), (3, 7), (8, 8)]
    wide = SceneGrouping(similarity=0.5, window=13.0, min_length=0.0)
    assert _spans(group_shots(shots, looks, wide), shots) == [(1, 8)]


def test_short_scenes_join_the_neighbour_they_resemble_most():
    shots = _shots([3.0, 3.0, 1.0, 3.0, 3.0])
    near_d = 0.8 * D + 0.2 * A                  # the short shot looks like the D scene after it
    looks = [A, A, near_d, D, D]
    grouping = SceneGrouping(similarity=0.9, window=10.0, min_length=4.0)
    scenes = group_shots(shots, looks, grouping)
    assert _spans(scenes, shots) == [(1, 2), (3, 5)]
    assert min(s.duration for s in scenes) >= 4.0


def test_minimum_length_holds_even_for_one_second_montage():
    shots = _shots([1.0] * 20)
    scenes = group_shots(shots, [np.eye(20)[i] for i in range(20)], SceneGrouping(min_length=4.0))
    assert all(s.duration >= 4.0 for s in scenes) and sum(s.duration for s in scenes) == 20.0
    # A film shorter than the minimum is one scene; no shots, no scenes.
    assert len(group_shots(_shots([1.0, 1.0]), [A, B], SceneGrouping(min_length=4.0))) == 1
    assert group_shots([], []) == ()


def test_signatures_of_real_colours():
    red = np.zeros((36, 64, 3), np.uint8)
    red[..., 0] = 200
    red2 = red.copy()
    red2[::2, ::2] = (190, 20, 20)
    blue = np.zeros_like(red)
    blue[..., 2] = 200
    letterboxed = np.zeros((60, 64, 3), np.uint8)
    letterboxed[12:48] = blue                                        # black bars do not count
    s_red, s_red2, s_blue, s_box = map(signature, (red, red2, blue, letterboxed))
    assert s_red.shape == (56,)
    assert similarity(s_red, s_red2) > 0.8
    assert similarity(s_red, s_blue) == pytest.approx(0.5)     # no hue in common, the same brightness
    assert similarity(s_blue, s_box) == pytest.approx(1.0)
    assert similarity(s_red, None) == 0.0


@pytest.mark.parametrize("text, kind, every", [("scenes", "scenes", 0.0), ("shots", "shots", 0.0),
                                                ("every:10", "every", 10.0), ("EVERY:2.5s", "every", 2.5)])
def test_parse_segments(text, kind, every):
    seg = parse_segments(text)
    assert (seg.kind, seg.every) == (kind, every)


@pytest.mark.parametrize("text", ["scene", "every:", "every:0", "every:x", "windows"])
def test_bad_segments_say_what_is_accepted(text):
    with pytest.raises(SettingsError, match="scenes|every:N"):
        parse_segments(text)


def test_fixed_windows_and_listed_scenes_cover_the_film():
    assert [(s.start, s.end) for s in fixed_windows(10, 25, 25)] == [(0.0, 10.0), (10.0, 20.0), (20.0, 25.0)]
    assert [(s.start, s.end) for s in fixed_windows(5, 10, 25)] == [(0.0, 5.0), (5.0, 10.0)]
    scenes, names, notes = listed_scenes([("Open", 0.0, 4.0), ("Chase", 6.0, 9.0), ("Late", 30.0, 40.0)], 10.0, 25)
    assert [(s.start, s.end) for s in scenes] == [(0.0, 4.0), (4.0, 6.0), (6.0, 9.0), (9.0, 10.0)]
    assert names == ("Open", "", "Chase", "") and "Late" in notes[0]


# ------------------------------------------------------------------ scene lists

@pytest.mark.parametrize("text, fps, seconds", [
    ("12", None, 12.0), ("12.5", None, 12.5), ("12,5", None, 12.5),
    ("01:30", None, 90.0), ("00:01:30", None, 90.0), ("01:02:03.250", None, 3723.25), ("00:00:01,5", None, 1.5),
    ("00:00:01:12", 25, 1.48), ("00:00:01:12", 24, 1.5),
    ("00:01:00:00", 24000 / 1001, 60.06), ("00:01:00;02", 30000 / 1001, 60.06),
])
def test_every_time_format(text, fps, seconds):
    assert parse_time(text, fps) == pytest.approx(seconds, abs=1e-6)


@pytest.mark.parametrize("text, fps, message", [
    ("1:2:3:4:5", 25, "not a time"), ("soon", 25, "not a time"), ("00:61:00", None, "up to 59"),
    ("00:00:01:12", None, "needs the film's frame rate"), ("00:00:01:25", 25, "frames to 24"),
    ("00:01:00;00", 30000 / 1001, "does not exist in drop-frame"), ("00:00:01;10", 25, "drop-frame exists only"),
])
def test_bad_times_say_what_to_write(text, fps, message):
    with pytest.raises(SettingsError, match=message):
        parse_time(text, fps)


def test_scene_list_with_header_comments_quotes_and_every_format():
    text = ("\ufeffname,start,end\n# a comment\n\nCold open,0,00:00:04.5\n\"Titles, main\",00:00:05:00,8\n"
            "Finale,00:00:08,00:00:10:12\n")
    assert parse_scene_list(text, fps=25) == (("Cold open", 0.0, 4.5), ("Titles, main", 5.0, 8.0),
                                              ("Finale", 8.0, 10.48))
    assert parse_scene_list("A,0,1\nB,1,2") == (("A", 0.0, 1.0), ("B", 1.0, 2.0))    # no header
    assert parse_scene_list(",0,1")[0][0] == "Scene 1"                               # unnamed rows get a name


@pytest.mark.parametrize("text, message", [
    ("", "is empty"), ("name,start,end\n", "has no scenes"),
    ("A,0,1,extra", "line 1: expected 3 columns"), ("A,0,1\nB,2", "line 2: expected 3 columns"),
    ("A,0,later", "line 1: 'later' is not a time"), ("A,5,3", "line 1: scene 'A' ends"),
    ("A,0,5\nB,4,8", "line 2: scene 'B' starts at 4, before the previous scene 'A' ends"),
])
def test_scene_list_errors_name_the_line(text, message):
    with pytest.raises(SettingsError, match=message):
        parse_scene_list(text, fps=25)


def test_scene_list_files(tmp_path):
    good = tmp_path / "scenes.csv"
    good.write_text("Open,0,2\n", encoding="utf-8")
    assert read_scene_list(good) == (("Open", 0.0, 2.0),)
    with pytest.raises(SettingsError, match="missing.csv does not exist") as err:
        read_scene_list(tmp_path / "missing.csv")
    assert str(tmp_path) not in str(err.value)                                       # no internal paths
    binary = tmp_path / "clip.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(SettingsError, match="not a UTF-8 text file"):
        read_scene_list(binary)


@pytest.mark.parametrize("spans, end, expected, absorbed", [
    # Field report: the last listed scene ends a frame short of a 144.144 s film.
    ([("Open", 0.0, 40.0), ("Chase", 40.0, 95.0), ("Finale", 95.0, 144.1)], 144.144,
     [("Open", 0.0, 40.0), ("Chase", 40.0, 95.0), ("Finale", 95.0, 144.144)], 1),
    ([("A", 0.3, 10.0), ("B", 10.5, 20.0)], 20.0, [("A", 0.0, 10.5), ("B", 10.5, 20.0)], 2),
    ([("A", 0.0, 10.0), ("B", 12.0, 20.0)], 20.0, [("A", 0.0, 10.0), ("", 10.0, 12.0), ("B", 12.0, 20.0)], 0),
])
def test_gaps_under_a_second_join_the_neighbouring_listed_scene(spans, end, expected, absorbed):
    from emotion.film.scenes import listed_scenes

    scenes, names, notes = listed_scenes(spans, end, 25)
    got = [(n, round(s.start, 3), round(s.end, 3)) for s, n in zip(scenes, names)]
    assert got == [(n, round(a, 3), round(b, 3)) for n, a, b in expected]
    assert [s.number for s in scenes] == list(range(1, len(scenes) + 1))
    assert sum("is in no listed scene" in n for n in notes) == absorbed
