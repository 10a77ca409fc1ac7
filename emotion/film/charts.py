"""Plotly figures of a film's emotions, built from a :class:`~emotion.film.timeline.Timeline`.

* :func:`timeline_figure`: each emotion's probability over time (faces of a
  sampled frame averaged by size and score, smoothed per track), scenes as
  alternating bands behind, moments without a face hatched grey; hovering
  shows the timecode and every emotion's value in %.
* :func:`scene_bars`: one stacked bar per scene, as wide as the scene lasts,
  so the x axis is still time; scenes without faces show a grey bar.
* :func:`scene_heatmap`: emotions by scene, each cell as wide as its scene on
  the same time axis; scenes without faces hatched grey.
* :func:`arc_figure`: valence (positive minus negative emotions) over time.
* :func:`timeline_with_arc`: the first two in one figure, valence in a strip under the emotions on
  the same time axis (one chart for the browser to draw instead of two; zooming one zooms both).

Every chart's x axis is the film's time in seconds, from 0 to its end, so
they line up one under another; "no face" is grey and hatched, never a colour
an emotion uses, and is not neutral (neutral is an emotion a face shows).

Colours are the per-emotion colours of the boxes drawn on images
(:data:`emotion.annotate.EMOTION_COLORS`).

The figures are written as plain dicts and wrapped without plotly's per-property validation, which
took most of the time the Film page spent building them (50-120 ms for the three, against a few ms);
``tests/film/test_charts.py`` checks every figure against plotly's validators instead.

>>> fig = timeline_figure(report.timeline)                       # doctest: +SKIP
>>> fig.write_html("timeline.html")                              # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ..annotate import VALENCE_HEX, emotion_hex
from .timeline import Timeline, timecode

#: Above this many points a trace is drawn with WebGL (a feature film at 4 samples/s has ~30,000).
WEBGL_POINTS = 5000
_BAND_COLOURS = ("rgba(120,120,120,0.10)", "rgba(120,120,120,0.02)")
_NO_FACE = "#d0d0d0"
_NO_FACE_PATTERN = {"shape": "/", "fgcolor": "#a0a0a0", "bgcolor": "#ececec", "solidity": 0.3}


#: Tick spacings (s) for a time axis: the first that gives at most 8 ticks is used.
_TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def clock_ticks(end: float) -> dict:
    """Tick positions (seconds) and labels (``HH:MM:SS`` of the film) for a time axis from 0 to ``end``.

    >>> clock_ticks(95)["ticktext"]
    ['00:00:00', '00:00:15', '00:00:30', '00:00:45', '00:01:00', '00:01:15', '00:01:30']
    """
    end = max(float(end), 1e-3)
    step = next((s for s in _TICK_STEPS if end / s <= 8), _TICK_STEPS[-1] * max(1, round(end / 3600 / 8)))
    ticks = [i * step for i in range(int(end // step) + 1)]
    return {"tickvals": ticks,
            "ticktext": [f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}" for t in (int(t) for t in ticks)]}


def _time_axis(end: float) -> dict:
    """Film time in seconds, ticked by Plotly (so a zoomed view gets finer ticks); hovers carry the timecodes."""
    return {"title": {"text": "film time (s)"}, "range": [0, end], "hoverformat": ".2f"}


def _scene_axis(end: float) -> dict:
    """The per-scene charts' axis, ticked on the film's clock (``HH:MM:SS``) at round steps: Plotly's own ticks
    for bars as wide as their scenes fell at odd places (3.17, 9.03, 14.89 s on the shared trailer)."""
    return {"title": {"text": "film time (hh:mm:ss)"}, "range": [0, end], "hoverformat": ".2f", **clock_ticks(end)}


def _figure(data: list[dict], layout: dict):
    """A plotly ``Figure`` of trace and layout dicts, as written (no per-property validation)."""
    import plotly.graph_objects as go

    return go.Figure({"data": [t for t in data if t is not None], "layout": layout}, _validate=False)


def _no_face_bands(timeline: Timeline, series):
    """Hatched grey bands over the sampled moments without any face (one bar trace)."""
    times = series["time_s"].to_numpy()
    if len(times) < 1:
        return None
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    empty = series["faces"].to_numpy() == 0
    if not empty.any():
        return None
    return {"type": "bar", "x": times[empty] + step / 2, "y": [1.0] * int(empty.sum()), "width": step,
            "name": "no face", "marker": {"color": "#ececec", "pattern": _NO_FACE_PATTERN, "line": {"width": 0}},
            "customdata": [timecode(t, timeline.fps) for t in times[empty]],
            "hovertemplate": "no face %{customdata}<extra></extra>", "opacity": 0.8}


def _scene_bands(timeline: Timeline):
    """One bar trace drawing every scene as a full-height band (cheaper than a shape per scene)."""
    scenes = timeline.scenes
    return {
        "type": "bar", "x": [(s.start + s.end) / 2 for s in scenes], "y": [1.0] * len(scenes),
        "width": [max(s.duration, 1e-3) for s in scenes],
        "marker": {"color": [_BAND_COLOURS[i % 2] for i in range(len(scenes))], "line": {"width": 0}},
        "customdata": [[s.number, timecode(s.start, timeline.fps), timecode(s.end, timeline.fps)] for s in scenes],
        "hovertemplate": "scene %{customdata[0]}<br>%{customdata[1]} – %{customdata[2]}<extra></extra>",
        "name": "scenes", "showlegend": False,
    }


def _hover_header(timeline: Timeline, series, kind: str) -> dict | None:
    """An invisible trace whose hover line heads the unified hover box: scene, timecode, faces (once)."""
    if not len(series):
        return None
    codes = np.array([timecode(t, timeline.fps) for t in series["time_s"]], dtype=object)
    faces = series["faces"].to_numpy()
    custom = np.column_stack([series["scene"].to_numpy(), codes,
                              np.where(faces == 1, "1 face", np.char.add(faces.astype(str), " faces"))])
    return {"type": kind, "x": series["time_s"].to_numpy(), "y": np.zeros(len(series)), "mode": "markers",
            "marker": {"size": 0.1, "opacity": 0}, "showlegend": False, "name": "",
            "customdata": custom, "hovertemplate": "<b>scene %{customdata[0]}</b> · %{customdata[1]} · "
                                                   "%{customdata[2]}<extra></extra>"}


def _emotion_lines(timeline: Timeline, series) -> list[dict]:
    """Scene bands, one line per emotion (gaps where no face was seen), hatched moments without a face.

    The unified hover box reads: one header line (scene, timecode, faces), then one line per emotion.
    """
    kind = "scattergl" if len(series) > WEBGL_POINTS else "scatter"
    times = series["time_s"].to_numpy()
    lines = [{
        "type": kind, "x": times, "y": series[label].to_numpy(), "mode": "lines", "name": label,
        "connectgaps": False, "line": {"color": emotion_hex(label), "width": 1.8},
        "hovertemplate": f"{label} %{{y:.0%}}<extra></extra>",
    } for label in timeline.labels]
    bands = {**_scene_bands(timeline), "hoverinfo": "skip"}
    bands.pop("hovertemplate")
    return [bands, _hover_header(timeline, series, kind), *lines, _no_face_bands(timeline, series)]


def _valence(timeline: Timeline, series, yaxis: str = "y") -> tuple[list[dict], dict]:
    """Valence per sampled frame (dots) and per scene (steps) on ``yaxis``, and its dotted zero line."""
    from ..labels import VALENCE

    valence = sum(series[lab].to_numpy() * VALENCE.get(lab, 0) for lab in timeline.labels)
    moments = {"type": "scatter", "x": series["time_s"].to_numpy(), "y": valence, "mode": "markers",
               "name": "moment", "marker": {"size": 4, "color": "rgba(90,90,90,0.45)"},
               "hovertemplate": "mood (valence) %{y:+.2f}<extra></extra>"}
    xs, ys, names = [], [], []
    for r in timeline.rows:
        xs += [r.start_s, r.end_s, None]
        ys += [r.valence, r.valence, None] if np.isfinite(r.valence) else [None, None, None]
        names += [f"scene {r.scene} {r.name}".strip()] * 3
    scenes = {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "scene",
              "line": {"color": VALENCE_HEX, "width": 3}, "customdata": names,
              "hovertemplate": "%{customdata}: mood %{y:+.2f}<extra></extra>"}
    traces = [moments, scenes]
    if yaxis != "y":
        for t in traces:
            t.update(yaxis=yaxis, showlegend=False)
    zero = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": yaxis, "y0": 0, "y1": 0,
            "line": {"color": "#888", "width": 1, "dash": "dot"}}
    return traces, zero


_PROBABILITY = {"title": {"text": "probability"}, "range": [0, 1], "tickformat": ".0%"}
#: Legends sit above the plotting area (anchored at their bottom), so they never cover bars or lines; in the
#: emotions' own order (Plotly lists a stack's traces reversed by default).
_LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "traceorder": "normal"}
#: Valence in a crew's words: the mood of the faces, from negative (-1) to positive (+1).
_MOOD_AXIS = {"title": {"text": "mood (valence)"}, "range": [-1, 1], "domain": [0, 0.27], "anchor": "x",
              "tickvals": [-1, 0, 1], "ticktext": ["−1 negative", "0", "+1 positive"]}


def timeline_figure(timeline: Timeline, height: int = 380):
    """Emotion probabilities over time with scene bands; gaps where no face was seen."""
    series = timeline.series()
    end = timeline.scenes[-1].end if timeline.scenes else 1.0
    # "x unified": one hover box per moment listing every emotion's value.
    return _figure(_emotion_lines(timeline, series), {
        "height": height, "barmode": "overlay", "bargap": 0, "hovermode": "x unified",
        "margin": {"l": 50, "r": 10, "t": 70, "b": 40}, "legend": _LEGEND_ABOVE,
        "xaxis": _time_axis(end), "yaxis": _PROBABILITY})


def timeline_with_arc(timeline: Timeline, height: int = 560):
    """:func:`timeline_figure` over a strip of :func:`arc_figure`'s valence, sharing one time axis."""
    series = timeline.series()
    end = timeline.scenes[-1].end if timeline.scenes else 1.0
    valence, zero = _valence(timeline, series, yaxis="y2")
    return _figure([*_emotion_lines(timeline, series), *valence], {
        "height": height, "barmode": "overlay", "bargap": 0, "hovermode": "x unified",
        "margin": {"l": 50, "r": 10, "t": 70, "b": 40}, "legend": _LEGEND_ABOVE,
        "xaxis": {**_time_axis(end), "anchor": "y2"}, "yaxis": {**_PROBABILITY, "domain": [0.36, 1]},
        "yaxis2": _MOOD_AXIS,
        "shapes": [zero]})


def scene_bars(timeline: Timeline, height: int = 320):
    """Stacked mean probabilities per scene; bar width = scene duration, x = time."""
    rows = timeline.rows
    x = [(r.start_s + r.end_s) / 2 for r in rows]
    width = [max(r.duration_s, 1e-3) for r in rows]
    custom = [[r.scene, timecode(r.start_s, timeline.fps), timecode(r.end_s, timeline.fps), r.face_share] for r in rows]
    bars = [{
        "type": "bar", "x": x, "y": [0.0 if not np.isfinite(r.probabilities[label]) else r.probabilities[label]
                                     for r in rows],
        "width": width, "name": label, "marker": {"color": emotion_hex(label), "line": {"width": 0}},
        "customdata": custom,
        "hovertemplate": (f"<b>{label}</b> %{{y:.0%}}<br>scene %{{customdata[0]}}: %{{customdata[1]}} – "
                          "%{customdata[2]}<br>faces in %{customdata[3]:.0%} of frames<extra></extra>"),
    } for label in timeline.labels]
    no_face = [1.0 if not r.dominant_emotion else 0.0 for r in rows]
    if any(no_face):
        bars.append({"type": "bar", "x": x, "y": no_face, "width": width, "name": "no face", "customdata": custom,
                     "marker": {"color": _NO_FACE, "pattern": _NO_FACE_PATTERN, "line": {"width": 0}},
                     "hovertemplate": "scene %{customdata[0]}: %{customdata[1]} – %{customdata[2]}"
                                      "<br>no face<extra></extra>"})
    end = timeline.scenes[-1].end if timeline.scenes else 1.0
    return _figure(bars, {
        "barmode": "stack", "bargap": 0, "height": height, "margin": {"l": 50, "r": 10, "t": 70, "b": 40},
        "legend": _LEGEND_ABOVE, "xaxis": _scene_axis(end),
        "yaxis": {"title": {"text": "mean probability"}, "range": [0, 1], "tickformat": ".0%"}})


def scene_heatmap(timeline: Timeline, height: int = 300):
    """Mean probability of each emotion (rows) in each scene (columns, as wide as the scene, x in seconds).

    Scenes without faces are blank cells over a hatched grey "no face" band.
    """
    rows = timeline.rows
    edges = [r.start_s for r in rows] + ([rows[-1].end_s] if rows else [])
    z = np.array([[r.probabilities[label] for r in rows] for label in timeline.labels], dtype=float)
    text = [[f"scene {r.scene}{' ' + r.name if r.name else ''} · {timecode(r.start_s, timeline.fps)}" for r in rows]
            for _ in timeline.labels]
    traces = [{
        "type": "heatmap", "z": z, "x": edges, "y": list(timeline.labels), "text": text, "colorscale": "Viridis",
        "zmin": 0, "zmax": 1, "hoverongaps": False,
        "colorbar": {"title": {"text": "p"}, "tickformat": ".0%"},
        "hovertemplate": "%{text}<br>%{y}: %{z:.0%}<extra></extra>",
    }]
    empty = [r for r in rows if not r.dominant_emotion]
    if empty:
        traces.append({"type": "bar", "x": [(r.start_s + r.end_s) / 2 for r in empty],
                       "y": [len(timeline.labels)] * len(empty), "base": -0.5,
                       "width": [max(r.duration_s, 1e-3) for r in empty], "name": "no face",
                       "marker": {"color": "#ececec", "pattern": _NO_FACE_PATTERN, "line": {"width": 0}},
                       "customdata": [[r.scene, timecode(r.start_s, timeline.fps)] for r in empty], "showlegend": False,
                       "hovertemplate": "scene %{customdata[0]} · %{customdata[1]}<br>no face<extra></extra>"})
    end = rows[-1].end_s if rows else 1.0
    return _figure(traces, {"height": height, "margin": {"l": 70, "r": 10, "t": 30, "b": 40}, "bargap": 0,
                            "xaxis": _scene_axis(end)})


def arc_figure(timeline: Timeline, height: int = 240):
    """Valence over time: per sampled frame with faces (dots), and per scene (steps); 0 is balanced."""
    series = timeline.series()
    traces, zero = _valence(timeline, series)
    end = timeline.scenes[-1].end if timeline.scenes else 1.0
    return _figure(traces, {
        "height": height, "margin": {"l": 50, "r": 10, "t": 20, "b": 40}, "showlegend": False,
        "xaxis": _time_axis(end), "yaxis": {"title": {"text": "valence"}, "range": [-1, 1]}, "shapes": [zero]})
