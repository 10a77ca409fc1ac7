"""Plotly figures for the live page: the rolling 30-second chart and the recording summary.

Built from the tables in :mod:`emotion.live.rolling` and
:mod:`emotion.live.recorder`, coloured with the same per-emotion colours as
the boxes drawn on the video (:data:`emotion.annotate.EMOTION_COLORS`).
"""

from __future__ import annotations

from ..annotate import emotion_hex

#: Tracks shown at once in the rolling chart (most recently seen first); more would be unreadable.
MAX_TRACKS = 4


def rolling_figure(rolling, window_s: float | None = None, max_tracks: int = MAX_TRACKS):
    """One panel per face track: each emotion's smoothed probability over the last ``window_s`` seconds.

    ``rolling`` is a :class:`~emotion.live.rolling.RollingEmotions`.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    window = float(window_s or rolling.window_s)
    tracks = rolling.tracks[:max_tracks]
    table = rolling.table()
    fig = make_subplots(rows=max(1, len(tracks)), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[f"face {t}" for t in tracks] or None)
    for row, track in enumerate(tracks, start=1):
        part = table[table["track"] == track]
        for label in rolling.labels:
            series = part[part["emotion"] == label]
            fig.add_trace(go.Scatter(x=series["seconds"], y=series["probability"], mode="lines", name=label,
                                     legendgroup=label, showlegend=row == 1,
                                     line={"color": emotion_hex(label), "width": 2}), row=row, col=1)
        fig.update_yaxes(range=[0, 1], title_text="p", row=row, col=1)
    fig.update_xaxes(range=[-window, 0])
    fig.update_xaxes(title_text="seconds (0 = now)", row=max(1, len(tracks)), col=1)
    # legend on the right: above the panels it would cover the "face N" titles
    fig.update_layout(height=max(380, 120 + 200 * len(tracks)), margin={"l": 40, "r": 10, "t": 40, "b": 40},
                      legend={"orientation": "v", "x": 1.01, "y": 1, "yanchor": "top"}, uirevision="live")
    return fig


def summary_title(summary) -> str:
    """``Mean emotion over 21 s (faces in 11 of its 21 seconds)``: one length, in whole seconds, as the page
    says it (:attr:`~emotion.live.recorder.Recording.seconds`).

    >>> summary_title({"duration_s": 21.04, "seconds": 21, "seconds_with_faces": 11})
    'Mean emotion over 21 s (faces in 11 of its 21 seconds)'
    """
    total = int(summary.get("seconds") or max(1, round(float(summary["duration_s"]))))
    seconds = min(int(summary["seconds_with_faces"]), total)
    return f"Mean emotion over {total} s (faces in {seconds} of its {total} seconds)"


def summary_figure(recording):
    """Bar chart of each emotion's mean probability over a :class:`~emotion.live.recorder.Recording`."""
    import plotly.graph_objects as go

    summary = recording.summary()
    labels = list(recording.labels)
    means = [summary["mean"][lab] for lab in labels]
    fig = go.Figure(go.Bar(x=labels, y=means, marker_color=[emotion_hex(lab) for lab in labels],
                           text=[f"{m:.0%}" for m in means], textposition="outside"))
    fig.update_layout(title=summary_title(summary),
                      yaxis={"range": [0, 1], "title": "mean probability"}, height=360,
                      margin={"l": 40, "r": 10, "t": 50, "b": 40})
    return fig


def recording_figure(recording):
    """Per-second mean probability of each emotion across all tracks of a recording."""
    import plotly.graph_objects as go

    table = recording.table()
    faces = table[table["track"] > 0]
    fig = go.Figure()
    if len(faces):
        per_second = faces.groupby("second")[list(recording.labels)].mean()
        for label in recording.labels:
            fig.add_trace(go.Scatter(x=per_second.index, y=per_second[label], mode="lines+markers", name=label,
                                     line={"color": emotion_hex(label)}))
    fig.update_layout(xaxis_title="second of the recording", yaxis={"range": [0, 1], "title": "probability"},
                      height=320, margin={"l": 40, "r": 10, "t": 30, "b": 40})
    return fig
