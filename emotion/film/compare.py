"""Two analyses side by side: two cuts of a trailer, or one film at two settings.

:func:`compare_reports` lines analysis B up against analysis A scene by scene
on film time: for each of A's scenes, B's per-scene numbers (``p_<emotion>``
and ``valence``) are averaged over the part of B that plays during that
scene's span, each B scene weighted by how many seconds of it overlap
(scenes of B without a face do not count). The differences are **B − A**.

Both films are aligned on film time from 0: A's scene from 00:00:10.000 to
00:00:14.000 is compared with whatever B shows from 10 s to 14 s. Where B is
shorter (or has no face in that span), B's numbers and the differences are
empty (NaN), and ``b_seconds`` says how much of B with faces overlapped.
B's own segmentation sets how finely it is sampled: pass
``b.resegment("shots")`` for the sharpest alignment.

>>> comparison = compare_reports(first_cut, second_cut)           # doctest: +SKIP
>>> comparison.table()[["scene", "valence_a", "valence_b", "valence_diff"]]  # doctest: +SKIP
>>> comparison.figure().write_html("compare.html")                 # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..annotate import emotion_hex
from ..labels import VALENCE
from .report import VideoReport
from .timeline import Timeline, timecode


def _overlap(starts: np.ndarray, ends: np.ndarray, start: float, end: float) -> np.ndarray:
    return np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0.0, None)


@dataclass(frozen=True, eq=False)
class Comparison:
    """B's numbers over each of A's scenes and the differences (B − A); see the module docstring.

    Arrays have one row per scene of A: ``a_probs`` / ``b_probs`` (scenes × ``labels``),
    ``a_valence`` / ``b_valence``, ``b_seconds`` (seconds of B with faces inside the scene).
    """

    a: VideoReport
    b: VideoReport
    labels: tuple[str, ...]
    a_probs: np.ndarray
    b_probs: np.ndarray
    a_valence: np.ndarray
    b_valence: np.ndarray
    b_seconds: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.a.rows)
        shapes = {"a_probs": (n, len(self.labels)), "b_probs": (n, len(self.labels)), "a_valence": (n,),
                  "b_valence": (n,), "b_seconds": (n,)}
        for name, shape in shapes.items():
            arr = np.array(getattr(self, name), np.float64)
            if arr.shape != shape:
                raise ValueError(f"Comparison.{name}: expected shape {shape}, got {arr.shape}")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def diff(self) -> np.ndarray:
        """B − A per scene and emotion (NaN where either side has no face)."""
        return self.b_probs - self.a_probs

    @property
    def valence_diff(self) -> np.ndarray:
        return self.b_valence - self.a_valence

    def _dominant(self, probs: np.ndarray) -> list[str]:
        return [self.labels[int(np.argmax(p))] if np.all(np.isfinite(p)) else "" for p in probs]

    @property
    def b_dominant(self) -> list[str]:
        """B's dominant emotion over each of A's scenes ("" without faces)."""
        return self._dominant(self.b_probs)

    def table(self):
        """One row per scene of A (pandas): scene, name, timecodes, dominant A/B, valence A/B/diff, per-emotion diffs."""
        import pandas as pd

        def num(v, digits=4):
            return None if not math.isfinite(v) else round(float(v), digits)

        rows = []
        for i, (row, dom_b) in enumerate(zip(self.a.rows, self.b_dominant)):
            d = {"scene": row.scene, "name": row.name, "start_timecode": timecode(row.start_s, self.a.fps),
                 "end_timecode": timecode(row.end_s, self.a.fps), "start_s": round(row.start_s, 3), "end_s": round(row.end_s, 3),
                 "b_seconds": round(float(self.b_seconds[i]), 3),
                 "dominant_a": row.dominant_emotion, "dominant_b": dom_b,
                 "valence_a": num(self.a_valence[i]), "valence_b": num(self.b_valence[i]),
                 "valence_diff": num(self.valence_diff[i])}
            d.update({f"diff_{lab}": num(self.diff[i, j]) for j, lab in enumerate(self.labels)})
            rows.append(d)
        columns = ["scene", "name", "start_timecode", "end_timecode", "start_s", "end_s", "b_seconds", "dominant_a",
                   "dominant_b", "valence_a", "valence_b", "valence_diff", *(f"diff_{lab}" for lab in self.labels)]
        return pd.DataFrame(rows, columns=columns)

    def csv(self) -> str:
        """:meth:`table` as CSV text."""
        return self.table().to_csv(index=False)

    def figure(self, height: int = 420):
        """Two rows on one time axis: A's and B's per-scene valence over their own scene bands.

        Each scene's valence is a step coloured by its dominant emotion; scenes without a face leave a gap.
        """
        from plotly.subplots import make_subplots

        end = max((r.end_s for t in (self.a.timeline, self.b.timeline) for r in t.rows[-1:]), default=1.0)
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                            subplot_titles=(f"A: {self.a.source}", f"B: {self.b.source}"))
        shown: set[str] = set()
        for r, timeline in ((1, self.a.timeline), (2, self.b.timeline)):
            for trace in _valence_steps(timeline, shown):
                fig.add_trace(trace, row=r, col=1)
            fig.add_hline(y=0, line={"color": "#888", "width": 1, "dash": "dot"}, row=r, col=1)
            fig.update_yaxes(title_text="valence", range=[-1.05, 1.05], row=r, col=1)
        fig.update_xaxes(range=[0, end], hoverformat=".2f")
        fig.update_xaxes(title_text="time (s)", row=2, col=1)
        fig.update_layout(height=height, barmode="overlay", bargap=0, margin={"l": 50, "r": 10, "t": 40, "b": 40},
                          legend={"orientation": "h", "y": 1.12, "x": 0})
        return fig


def _valence_steps(timeline: Timeline, shown: set[str]) -> list:
    """Scene bands (one bar trace) and one step trace per dominant emotion (legend entries once)."""
    import plotly.graph_objects as go

    rows = timeline.rows
    bands = go.Bar(x=[(r.start_s + r.end_s) / 2 for r in rows], y=[2.1] * len(rows), base=-1.05,
                   width=[max(r.duration_s, 1e-3) for r in rows], showlegend=False, name="scenes",
                   marker={"color": [("rgba(120,120,120,0.10)", "rgba(120,120,120,0.02)")[i % 2] for i in range(len(rows))],
                           "line": {"width": 0}},
                   customdata=[[r.scene, timecode(r.start_s, timeline.fps), timecode(r.end_s, timeline.fps)] for r in rows],
                   hovertemplate="scene %{customdata[0]}<br>%{customdata[1]} – %{customdata[2]}<extra></extra>")
    traces = [bands]
    for label in dict.fromkeys(r.dominant_emotion for r in rows if r.dominant_emotion):
        xs, ys, text = [], [], []
        for r in rows:
            if r.dominant_emotion == label and math.isfinite(r.valence):
                xs += [r.start_s, r.end_s, None]
                ys += [r.valence, r.valence, None]
                text += [f"scene {r.scene} {r.name}".strip() + f" · {label} {r.dominant_share:.0%}"] * 3
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", name=label, legendgroup=label,
                                 showlegend=label not in shown, line={"color": emotion_hex(label), "width": 4},
                                 customdata=text, hovertemplate="%{customdata}<br>valence %{y:+.2f}<extra></extra>"))
        shown.add(label)
    return traces


def compare_reports(a: VideoReport, b: VideoReport) -> Comparison:
    """Line B up against A's scenes on film time from 0 (see the module docstring) and take B − A.

    Emotions are those both analyses share, in A's order; none in common is an error.

    >>> c = compare_reports(report, report)                        # doctest: +SKIP
    >>> float(abs(c.valence_diff[np.isfinite(c.valence_diff)]).max())  # doctest: +SKIP
    0.0
    """
    labels = tuple(lab for lab in a.labels if lab in b.labels)
    if not labels:
        raise ValueError(f"compare_reports: the two analyses share no emotion ({a.labels} vs {b.labels}); "
                         "compare analyses made with the same kind of model")
    a_probs = np.array([[r.probabilities.get(lab, math.nan) for lab in labels] for r in a.rows],
                       np.float64).reshape(len(a.rows), len(labels))
    a_valence = np.array([r.valence for r in a.rows], np.float64)
    brows = [r for r in b.rows if r.dominant_emotion and math.isfinite(r.valence)]
    starts = np.array([r.start_s for r in brows], np.float64)
    ends = np.array([r.end_s for r in brows], np.float64)
    b_p = np.array([[r.probabilities[lab] for lab in labels] for r in brows], np.float64).reshape(len(brows), len(labels))
    b_v = np.array([sum(VALENCE.get(lab, 0) * r.probabilities[lab] for lab in labels) for r in brows]
                   if labels != b.labels else [r.valence for r in brows], np.float64)
    b_probs = np.full_like(a_probs, math.nan)
    b_valence = np.full(len(a.rows), math.nan)
    seconds = np.zeros(len(a.rows))
    for i, row in enumerate(a.rows):
        w = _overlap(starts, ends, row.start_s, row.end_s)
        seconds[i] = w.sum()
        if seconds[i] > 0:
            b_probs[i] = w @ b_p / seconds[i]
            b_valence[i] = float(w @ b_v) / seconds[i]
    if labels != a.labels:
        a_valence = np.array([sum(VALENCE.get(lab, 0) * p for lab, p in zip(labels, ps)) for ps in a_probs])
    return Comparison(a, b, labels, a_probs, b_probs, a_valence, b_valence, seconds)
