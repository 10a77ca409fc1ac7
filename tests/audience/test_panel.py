"""The panel checked against values computed by hand on small synthetic reactions.

Film (fake detector): 4 scenes of 2 s; on screen a happy face (valence +0.5), no face, two sad
faces (-0.7), a happy face (+0.5). Labels angry, happy, neutral, sad. Reactions sampled twice a
second: recording A has two viewers from the film's start; recording B one viewer and started
2 s after the film (offset -2). Each viewer's probabilities per scene:

    scene 1: A1 happy .2 (rest neutral), A2 happy .4, B not yet recording
    scene 2: A1 happy .2, A2 happy .4 (looking away: not attentive), B happy .9
    scene 3: A1 face not seen, A2 angry .6 / neutral .4, B sad .8 / neutral .2
    scene 4: A1 sad 1.0 in its first two samples then unseen, A2 neutral, B neutral
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from film_fakes import LABELS, fake_detector
from synth_video import NAVY, RED, WHITE, scene_video

from emotion.audience import AudienceSettings, Reaction, analyze_audience, output
from emotion.audience.panel import t95
from emotion.errors import EmotionError
from emotion.film import FilmSettings, analyze_video

NEUTRAL = [0, 0, 1, 0]


def p(angry=0.0, happy=0.0, sad=0.0):
    return [angry, happy, 1 - angry - happy - sad, sad]


PLAN = {  # viewer -> probabilities per scene (None: face not seen)
    "A1": [p(happy=.2), p(happy=.2), None, p(sad=1.0)],
    "A2": [p(happy=.4), p(happy=.4), p(angry=.6), NEUTRAL],
    "B": [None, p(happy=.9), p(sad=.8), NEUTRAL],
}


def _viewer(name, film_times):
    face, attentive, probs = [], [], []
    for t in film_times:
        scene = int(t // 2)
        value = PLAN[name][scene]
        seen = value is not None and not (name == "A1" and scene == 3 and t >= 7.0)
        face.append(seen)
        attentive.append(seen and not (name == "A2" and scene == 1))
        probs.append(value if seen else [np.nan] * 4)
    return face, attentive, probs


def _reaction(name, viewers, recording_time, offset):
    film_time = np.asarray(recording_time) - offset
    parts = [_viewer(v, film_time) for v in viewers]
    return Reaction(name, LABELS, recording_time, [f for f, _, _ in parts], [a for _, a, _ in parts],
                    [pr for _, _, pr in parts], offset_s=offset)


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    path = scene_video(tmp_path_factory.mktemp("panel") / "film.mp4", [(RED, 50), (NAVY, 50), (WHITE, 50), (RED, 50)],
                       noise=3)
    # one scene per colour
    return analyze_video(path, film=FilmSettings(fps=4, segments="shots"), detector=fake_detector(), cache=False)


@pytest.fixture(scope="module")
def report(film):
    a = _reaction("a.mp4", ["A1", "A2"], np.arange(0, 8, 0.5), 0.0)
    b = _reaction("b.mp4", ["B"], np.arange(0, 6, 0.5), -2.0)
    return analyze_audience(film, [a, b], AudienceSettings(expressive_threshold=0.5, peak_window_s=3))


def _row(report, scene):
    return report.scene_table().set_index("scene").loc[scene]


def test_film_side_is_the_films_own_analysis(film, report):
    assert [(s.start, s.end) for s in report.scenes] == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert [r.screen_valence for r in report.rows][0] == pytest.approx(0.5)
    assert math.isnan(report.rows[1].screen_valence) and report.rows[2].screen_valence == pytest.approx(-0.7)


def test_scene_means_and_bounded_intervals_by_hand(report):
    one, two, three = _row(report, 1), _row(report, 2), _row(report, 3)
    # Scene 1: two viewers, happy .2 and .4: mean .3, and no interval (fewer than 3 viewers: a band on two
    # faces says nothing; Student's t gave -97 % to +157 % here).
    assert (one.viewers, one.watching) == (2, 2)
    assert one.audience_happy == pytest.approx(0.3)
    assert math.isnan(one.audience_happy_lo) and math.isnan(one.audience_happy_hi)
    # Scene 2: .2, .4, .9: mean .5 over 3 viewers -> Wilson (z 1.96): centre .5, half
    # 1.96 / (1 + 1.2805) * sqrt(.25 / 3 + 1.2805 / 12) = .3747.
    assert (two.viewers, two.watching) == (3, 3)
    assert two.audience_happy == pytest.approx(0.5)
    assert (two.audience_happy_lo, two.audience_happy_hi) == pytest.approx((0.1253, 0.8747), abs=1e-4)
    # Scene 3: A1 unseen; angry (.6 + 0) / 2, sad (0 + .8) / 2, neutral (.4 + .2) / 2.
    assert (three.viewers, three.watching) == (2, 3)
    assert (three.audience_angry, three.audience_sad, three.audience_neutral) == pytest.approx((0.3, 0.4, 0.3))
    table = report.scene_table()
    lows = table.filter(like="_lo").to_numpy(float)
    highs = table.filter(like="_hi").to_numpy(float)
    assert np.nanmin(lows) >= 0 and np.nanmax(highs) <= 1, "every interval inside 0-100 %"


@pytest.mark.parametrize("p, n", [(0.0, 3), (1.0, 3), (0.5, 3), (0.02, 50), (0.97, 5), (0.3, 1000)])
def test_wilson_intervals_stay_inside_0_to_1_and_contain_the_mean(p, n):
    from emotion.audience.panel import wilson

    lo, hi = wilson(p, n)
    assert 0.0 <= float(lo) <= p <= float(hi) <= 1.0
    if n == 1000:
        assert float(hi - lo) < 0.07, "narrow with many viewers"


def test_shares_valence_and_correlation_by_hand(report):
    table = report.scene_table().set_index("scene")
    # Expressive (non-neutral > .5) per viewer with a face, averaged: 0, 1/3 (B), 1 (A2, B), 1/3 (A1).
    assert table.expressive_share.tolist() == pytest.approx([0, 1 / 3, 1, 1 / 3], abs=1e-4)
    # Attentive per watching viewer: 1; A2 away -> 2/3; A1 unseen -> 2/3; A1 half its samples -> 2.5/3.
    assert table.attentive_share.tolist() == pytest.approx([1, 2 / 3, 2 / 3, 2.5 / 3], abs=1e-4)
    # Valence: happy - angry - sad of the means.
    assert table.audience_valence.tolist() == pytest.approx([0.3, 0.5, -0.7, -1 / 3], abs=1e-4)
    audience, screen = np.array([0.3, -0.7, -1 / 3]), np.array([0.5, -0.7, 0.5])   # scene 2: no face on screen
    a, s = audience - audience.mean(), screen - screen.mean()
    assert report.valence_correlation == pytest.approx((a @ s) / math.sqrt((a @ a) * (s @ s)))


def test_per_second_table_by_hand(report):
    seconds = report.second_table().set_index("second")
    assert len(seconds) == 8 and seconds.loc[1].watching == 2 and seconds.loc[2].watching == 3
    four = seconds.loc[4]          # A1 unseen, A2 angry .6, B sad .8
    assert (four.viewers, four.audience_angry, four.audience_sad, four.scene) == (2, 0.3, 0.4, 3)
    assert math.isnan(four.audience_angry_lo), "two viewers: no interval"
    three = seconds.loc[2]         # three viewers seen: an interval, inside 0-100 %
    assert three.viewers == 3 and 0 <= three.audience_happy_lo <= three.audience_happy <= three.audience_happy_hi <= 1
    assert seconds.loc[7].viewers == 2, "A1's face is gone after 7 s"


def test_audience_peak_is_the_strongest_rise_within_viewers(report):
    # Sad at 4 s: B rises .8 over the 3 s before, A2 does not (0), A1 is unseen -> mean rise .4, level .4.
    # A1's sad at 6 s rises 1.0 but A2 and B do not (rise 1/3), and it is too close to 4 s anyway.
    (peak,) = report.peaks
    assert (peak.time_s, peak.emotion, peak.scene, peak.viewers) == (4.0, "sad", 3, 2)
    assert (peak.level, peak.rise) == pytest.approx((0.4, 0.4))


def test_exports(report):
    data = json.loads(output.report_json(report))
    assert [(r["name"], r["offset_s"], r["sync"], r["confidence"], r["viewers"]) for r in data["reactions"]] == \
        [("a.mp4", 0.0, "manual", None, 2), ("b.mp4", -2.0, "manual", None, 1)]
    assert len(data["scenes"]) == 4 and data["scenes"][0]["audience_happy"] == pytest.approx(0.3)
    header = output.scenes_csv(report).splitlines()[0].split(",")
    for column in ("start_s", "end_s", "start_timecode", "viewers", "audience_happy", "audience_happy_lo",
                   "audience_happy_hi", "expressive_share", "attentive_share", "audience_valence", "screen_valence"):
        assert column in header
    viewers = report.viewer_table()
    assert viewers.reaction.tolist() == ["a.mp4", "a.mp4", "b.mp4"] and viewers.viewer.tolist() == [1, 2, 3]
    # Whole film, over each viewer's face samples: A1 8 x .2 of 10, A2 8 x .4 of 16, B 4 x .9 of 12.
    assert viewers.mean_happy.tolist() == pytest.approx([1.6 / 10, 3.2 / 16, 3.6 / 12], abs=1e-3)
    assert report.viewer_trace(3).happy.iloc[2] == pytest.approx(0.9) and np.isnan(report.viewer_trace(3).happy[0])
    # Ranked by the share who responded above their own baseline, then by how much faces moved: scene 2
    # (A2 and B smiled, 2 of 3), then scenes 3 and 1 (half each; scene 3's faces moved more), then scene 4.
    assert report.ranking().scene.tolist() == [2, 3, 1, 4]


def test_html_report_is_self_contained(report):
    from emotion.audience.output import report_html

    page = report_html(report)
    import re

    assert "<script" in page and not re.search(r"<script[^>]*\bsrc=", page), "no script is fetched from elsewhere"
    assert "Plotly.newPlot" in page and len(page) > 1_000_000, "plotly.js itself is inside the page"
    assert "Audience peaks" in page and "a.mp4" in page and "expression is not a feeling" in page


def test_t_quantiles():
    assert t95([1, 2, 30]).tolist() == [12.706, 4.303, 2.042]
    assert float(t95(120)) == pytest.approx(1.980, abs=1e-3) and np.isnan(t95(0))


def test_reactions_must_share_labels_and_exist(film):
    a = _reaction("a.mp4", ["A1"], np.arange(0, 8, 0.5), 0.0)
    other = Reaction("c.mp4", ("happy", "sad"), [0.0], [[True]], [[True]], [[[0.5, 0.5]]])
    with pytest.raises(EmotionError, match="same model"):
        analyze_audience(film, [a, other])
    with pytest.raises(EmotionError, match="no reactions"):
        analyze_audience(film, [])


def test_offset_outside_the_film_is_a_warning(film):
    late = _reaction("late.mp4", ["A2"], np.arange(0, 8, 0.5), 0.0).with_offset(100.0)
    assert any("late.mp4" in w and "check the offset" in w for w in analyze_audience(film, [late]).warnings)


@pytest.mark.parametrize("kwargs, message", [
    ({"labels": ("joy",)}, "canonical"),
    ({"face": [[True, True]]}, "face"),
    ({"probs": [[[1.0, 0.0]]]}, "probs"),
    ({"sync": "guess"}, "sync"),
])
def test_reaction_validates(kwargs, message):
    base = {"name": "r", "labels": LABELS, "recording_time": [0.0], "face": [[True]], "attentive": [[True]],
            "probs": [[[0.0, 1.0, 0.0, 0.0]]]}
    with pytest.raises(ValueError, match=message):
        Reaction(**{**base, **kwargs})


def test_the_audience_analysis_is_part_of_the_public_api():
    import emotion
    import emotion.audience

    for name in ("analyze_audience", "analyze_reaction", "sync_offset", "AudienceReport", "Reaction"):
        assert getattr(emotion, name) is getattr(emotion.audience, name) and name in emotion.__all__
    assert emotion.AudienceSettings is emotion.audience.AudienceSettings


def test_each_viewer_is_measured_against_their_own_resting_face(report):
    """Baselines (median per second over the screening): A1 happy .2, A2 happy .2, B nothing; a rise of
    RESPONSE_RISE (0.15) or more is a response."""
    rows = report.scene_table().set_index("scene")
    assert rows.loc[1, "responded_happy"] == pytest.approx(0.5), "A2 (.4 over .2) smiled, A1 (.2 over .2) did not"
    assert rows.loc[2, "responded_happy"] == pytest.approx(2 / 3, abs=1e-4)
    assert rows.loc[2, "rise_happy"] == pytest.approx((0.0 + 0.2 + 0.9) / 3, abs=1e-3)
    assert rows.loc[3, "responded_angry"] == pytest.approx(0.5) and rows.loc[3, "responded_sad"] == pytest.approx(0.5)
    assert rows.loc[4, "responded_sad"] == pytest.approx(1 / 3, abs=1e-4)
    assert rows.loc[2, "headline"] == "67 % of the audience smiled or laughed; 33 % looked away"
    assert rows.loc[4, "headline"] == "33 % of the audience looked sad"
    assert rows.loc[2, "audience_happy"] == pytest.approx((0.2 + 0.4 + 0.9) / 3, abs=1e-3), "raw means stay"
