"""emotion.film.charts: the film figures carry the right traces, colours and hover text."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.annotate import emotion_hex
from emotion.film.charts import WEBGL_POINTS, arc_figure, scene_bars, scene_heatmap, timeline_figure, timeline_with_arc
from emotion.film.shots import Cut, scenes_from_cuts
from emotion.film.observations import Observations
from emotion.film.timeline import build_timeline

LABELS = ("happy", "neutral", "sad")


def _timeline(n_samples=8, faces=True):
    times = np.arange(n_samples) * 0.25
    face_sample = np.arange(n_samples) if faces else []
    probs = np.tile([[0.6, 0.3, 0.1]], (n_samples, 1)) if faces else []
    boxes = np.tile([[10, 10, 40, 40]], (n_samples, 1)) if faces else []
    obs = Observations.from_columns(LABELS, 100, 100, times, np.arange(n_samples) * 6, face_sample, boxes,
                                    np.ones(n_samples) if faces else [], probs)
    end = n_samples * 0.25
    return build_timeline(obs, scenes_from_cuts([Cut(end / 2, n_samples * 3)], end, n_samples * 6))


def test_timeline_has_scene_bands_and_one_line_per_emotion_with_scene_hover():
    fig = timeline_figure(_timeline())
    assert fig.layout.hovermode == "x unified"          # one hover box listing every emotion
    bands, header, *lines = fig.data
    assert bands.type == "bar" and len(bands.x) == 2
    assert list(bands.width) == [1.0, 1.0] and bands.hoverinfo == "skip"
    assert [t.name for t in lines] == list(LABELS)
    assert [t.line.color for t in lines] == [emotion_hex(k) for k in LABELS]
    happy = lines[0]
    np.testing.assert_allclose(happy.y, 0.6, atol=1e-6)
    # Field report: "scene 4 · 00:00:51.760 faces: 1" repeated under every emotion. One header line, then
    # one short line per emotion.
    assert happy.hovertemplate == "happy %{y:.0%}<extra></extra>" and happy.customdata is None
    assert header.showlegend is False and header.marker.opacity == 0
    assert "scene %{customdata[0]}" in header.hovertemplate and "<br>" not in header.hovertemplate
    assert [str(v) for v in header.customdata[5]] == ["2", "00:00:01.250", "1 face"]   # no frame rate known: milliseconds
    assert fig.layout.xaxis.range == (0, 2.0)
    assert fig.layout.xaxis.tickvals is None, "Plotly ticks the timeline itself, so a zoomed view gets finer ticks"


def test_legends_sit_above_the_plot_and_never_cover_it():
    for fig in (timeline_figure(_timeline()), scene_bars(_timeline()), timeline_with_arc(_timeline())):
        assert fig.layout.legend.yanchor == "bottom" and fig.layout.legend.y >= 1.0


def test_long_films_switch_to_webgl():
    fig = timeline_figure(_timeline(n_samples=WEBGL_POINTS + 10))
    assert fig.data[2].type == "scattergl"
    assert timeline_figure(_timeline()).data[2].type == "scatter"


def test_scene_bars_stack_per_scene_with_duration_widths():
    fig = scene_bars(_timeline())
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == list(LABELS)
    np.testing.assert_allclose(fig.data[0].y, [0.6, 0.6], atol=1e-6)
    assert list(fig.data[0].width) == [1.0, 1.0] and list(fig.data[0].x) == [0.5, 1.5]


def test_scenes_without_faces_get_a_grey_no_face_bar():
    fig = scene_bars(_timeline(faces=False))
    assert fig.data[-1].name == "no face" and list(fig.data[-1].y) == [1.0, 1.0]
    assert all(list(t.y) == [0.0, 0.0] for t in fig.data[:-1])


@pytest.mark.parametrize("faces", [True, False])
def test_heatmap_is_emotions_by_scene(faces):
    fig = scene_heatmap(_timeline(faces=faces))
    heat = fig.data[0]
    # Columns are scenes on the film's time axis: cell edges at the scene bounds, in seconds.
    assert list(heat.y) == list(LABELS) and list(heat.x) == [0.0, 1.0, 2.0]
    assert fig.layout.xaxis.title.text == "film time (hh:mm:ss)" and fig.layout.xaxis.range == (0, 2.0)
    assert list(fig.layout.xaxis.ticktext) == ["00:00:00", "00:00:01", "00:00:02"], "a crew reads the film's clock"
    z = np.array(heat.z, dtype=float)
    assert z.shape == (3, 2)
    if faces:
        np.testing.assert_allclose(z[0], 0.6, atol=1e-6)
        assert len(fig.data) == 1
    else:
        assert np.isnan(z).all()
        no_face = fig.data[1]
        assert no_face.name == "no face" and list(no_face.x) == [0.5, 1.5] and no_face.marker.pattern.shape == "/"


def test_moments_without_faces_are_hatched_grey_not_an_emotion():
    n = 8
    times = np.arange(n) * 0.25
    probs = np.tile([[0.6, 0.3, 0.1]], (4, 1))
    obs = Observations.from_columns(LABELS, 100, 100, times, np.arange(n) * 6, [0, 1, 2, 3],
                                    np.tile([[10, 10, 40, 40]], (4, 1)), np.ones(4), probs)
    fig = timeline_figure(build_timeline(obs, scenes_from_cuts([], 2.0, 48)))
    no_face = fig.data[-1]
    assert no_face.name == "no face" and no_face.marker.pattern.shape == "/"
    np.testing.assert_allclose(no_face.x, times[4:] + 0.125)          # only the four empty samples
    assert no_face.marker.color not in {emotion_hex(k) for k in LABELS}


def test_arc_is_valence_over_time_per_scene():
    fig = arc_figure(_timeline())
    moments, scenes = fig.data
    np.testing.assert_allclose(np.array(moments.y, float), 0.6 - 0.1, atol=1e-6)   # happy minus sad
    assert list(scenes.x) == [0.0, 1.0, None, 1.0, 2.0, None]
    assert fig.layout.xaxis.range == (0, 2.0) and fig.layout.yaxis.range == (-1, 1)


@pytest.mark.parametrize("faces", [True, False])
@pytest.mark.parametrize("build", [timeline_figure, arc_figure, timeline_with_arc, scene_bars, scene_heatmap])
def test_figures_written_as_dicts_pass_plotlys_validation(build, faces):
    # The figures skip plotly's per-property validation when built; here they go through it.
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    fig = build(_timeline(faces=faces))
    checked = go.Figure(fig.to_dict())                 # raises on a property or value plotly does not accept
    as_built, as_checked = (json.loads(pio.to_json(f, validate=False)) for f in (fig, checked))
    for spec in (as_built, as_checked):               # plotly names Viridis; validation spells it out
        for trace in spec["data"]:
            trace.pop("colorscale", None)
    assert as_built == as_checked


def test_timeline_with_arc_puts_valence_under_the_emotions_on_one_time_axis():
    timeline = _timeline()
    fig = timeline_with_arc(timeline)
    alone, arc = timeline_figure(timeline), arc_figure(timeline)
    assert len(fig.data) == len(alone.data) + len(arc.data)
    emotions, valence = fig.data[:len(alone.data)], fig.data[len(alone.data):]
    assert [t.name for t in emotions] == [t.name for t in alone.data] and all(t.yaxis in (None, "y") for t in emotions)
    assert [t.name for t in valence] == ["moment", "scene"]
    assert all(t.yaxis == "y2" and t.showlegend is False for t in valence)
    np.testing.assert_allclose(np.array(valence[0].y, float), np.array(arc.data[0].y, float))
    assert fig.layout.hovermode == "x unified" and fig.layout.xaxis.anchor == "y2"
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1], "valence sits under the emotions"
    assert fig.layout.shapes[0].yref == "y2" and fig.layout.xaxis.range == (0, 2.0)
