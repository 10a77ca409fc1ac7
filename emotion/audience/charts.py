"""Plotly figures of a panel (:class:`~emotion.audience.report.AudienceReport`) and of a sync.

* :func:`panel_figure`: the audience's emotion curves per second of film, each with its 95%
  band, over the film's scenes, and below them the audience's valence beside the on-screen
  valence;
* :func:`viewer_figure`: one viewer's curves, for the per-viewer traces;
* :func:`sync_figure`: the sound correlation around the offset found (a small plot).

>>> panel_figure(report).write_html("panel.html")            # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ..annotate import VALENCE_HEX, emotion_hex
from ..film.timeline import timecode

_BANDS = ("rgba(120,120,120,0.10)", "rgba(120,120,120,0.02)")


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _scene_bands(fig, scenes, row: int | None = None, top: float = 1.0, fps: float = 0.0) -> None:
    import plotly.graph_objects as go

    if not scenes:
        return
    trace = go.Bar(x=[(s.start + s.end) / 2 for s in scenes], y=[top] * len(scenes),
                   width=[max(s.duration, 1e-3) for s in scenes],
                   marker={"color": [_BANDS[i % 2] for i in range(len(scenes))], "line": {"width": 0}},
                   customdata=[[s.number, timecode(s.start, fps), timecode(s.end, fps)] for s in scenes],
                   hovertemplate="scene %{customdata[0]}<br>%{customdata[1]} – %{customdata[2]}<extra></extra>",
                   name="scenes", showlegend=False)
    if row is None:
        fig.add_trace(trace)
    else:
        fig.add_trace(trace, row=row, col=1)


def panel_figure(report, emotions=None, height: int = 560):
    """Audience emotions per second with 95% bands over the scenes; valence, audience vs on screen, below."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    s = report.seconds
    x = np.arange(len(s.viewers)) + 0.5
    emotions = [e for e in (emotions or report.labels) if e in report.labels]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.06,
                        subplot_titles=("Audience expressions (mean across viewers; 95% band where 3 or more are seen)",
                                        "Valence: audience vs faces on screen"))
    _scene_bands(fig, report.scenes, row=1, fps=report.fps)
    for label in emotions:
        j = report.labels.index(label)
        colour = emotion_hex(label)
        fig.add_trace(go.Scatter(x=x, y=s.hi[:, j], mode="lines", line={"width": 0}, hoverinfo="skip",
                                 showlegend=False, legendgroup=label), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=s.lo[:, j], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_rgba(colour, 0.18), hoverinfo="skip", showlegend=False,
                                 legendgroup=label), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=x, y=s.mean[:, j], mode="lines", name=label, legendgroup=label, line={"color": colour, "width": 1.8},
            customdata=np.column_stack([s.scene, s.viewers]),
            hovertemplate=(f"<b>{label}</b> %{{y:.0%}}<br>%{{x:.0f}} s · scene %{{customdata[0]}}"
                           "<br>viewers: %{customdata[1]}<extra></extra>")), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=s.valence, mode="lines", name="audience mood (valence)",
                             line={"color": VALENCE_HEX, "width": 2.5}), row=2, col=1)
    fig.add_trace(go.Scatter(x=x, y=s.screen_valence, mode="lines", name="on-screen mood (valence)",
                             line={"color": "#888888", "width": 1.5, "dash": "dot"}), row=2, col=1)
    fig.update_layout(height=height, barmode="overlay", bargap=0, hovermode="closest",
                      margin={"l": 50, "r": 10, "t": 40, "b": 40}, legend={"orientation": "h", "y": -0.12, "x": 0})
    fig.update_yaxes(range=[0, 1], tickformat=".0%", title_text="probability", row=1, col=1)
    fig.update_yaxes(range=[-1, 1], title_text="valence", row=2, col=1)
    fig.update_xaxes(range=[0, report.duration_s], title_text="film time (s)", row=2, col=1)
    return fig


def viewer_figure(report, viewer: int, height: int = 300):
    """One viewer's mean probabilities per second of film (gaps where the face was not seen)."""
    import plotly.graph_objects as go

    trace = report.viewer_trace(viewer)
    fig = go.Figure()
    _scene_bands(fig, report.scenes, fps=report.fps)
    for label in report.labels:
        fig.add_trace(go.Scatter(x=trace["second"] + 0.5, y=trace[label], mode="lines", name=label,
                                 line={"color": emotion_hex(label), "width": 1.5}, connectgaps=False))
    fig.update_layout(height=height, barmode="overlay", bargap=0, margin={"l": 50, "r": 10, "t": 30, "b": 40},
                      title=f"Viewer {viewer} ({report.viewer_names[viewer - 1]})",
                      legend={"orientation": "h", "y": -0.2, "x": 0},
                      xaxis={"title": "film time (s)", "range": [0, report.duration_s]},
                      yaxis={"range": [0, 1], "tickformat": ".0%"})
    return fig


def sync_figure(sync, height: int = 180):
    """The sound correlation around the offset found, with the offset marked."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=sync.lags_s, y=sync.curve, mode="lines", line={"width": 1, "color": "#1f77b4"},
                               hovertemplate="offset %{x:.2f} s<br>match %{y:.3f}<extra></extra>"))
    fig.add_vline(x=sync.offset_s, line={"color": "#d62728", "width": 1, "dash": "dot"})
    fig.update_layout(height=height, margin={"l": 40, "r": 10, "t": 10, "b": 30}, showlegend=False,
                      xaxis={"title": "offset (s): recording time at which the film starts"},
                      yaxis={"title": "match", "showticklabels": False})
    return fig
