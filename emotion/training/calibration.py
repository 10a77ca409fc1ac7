"""Calibration of a classifier's probabilities: expected calibration error, reliability, temperature.

A model is *calibrated* when, among the faces it answers with top probability 0.8, about 80 % of
the answers are right. Averages of probabilities (per scene, per film) only mean something if
they are. Two tools:

* :func:`reliability`: faces binned by their top-1 confidence into :data:`BINS` equal-width bins
  over [0, 1] (a confidence on a bin edge goes to the lower bin; 0 goes to the first). The
  **expected calibration error** (ECE) is the support-weighted mean of
  |accuracy - mean confidence| over the bins (Guo et al., 2017, "On calibration of modern
  neural networks"). "Right" means the top-1 class equals the true label.
* :func:`fit_temperature`: the one number T that minimises the negative log-likelihood of the
  true labels under softmax(logits / T) (temperature scaling). It never changes which class
  wins, so accuracy is untouched.

>>> import numpy as np
>>> r = reliability(np.array([[0.9, 0.1], [0.6, 0.4]]), np.array([0, 1]))
>>> round(r.ece, 3)
0.35
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError

#: Equal-width confidence bins of the reliability diagram and the ECE.
BINS = 15


@dataclass(frozen=True)
class Reliability:
    """Per-bin ``counts``, mean ``confidence`` and ``accuracy`` (NaN for empty bins) and the ``ece``."""

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    ece: float

    def __post_init__(self):
        k = len(self.counts)
        if len(self.edges) != k + 1 or len(self.confidence) != k or len(self.accuracy) != k:
            raise ValueError(f"reliability bins disagree: {len(self.edges)} edges for {k} counts")
        if not 0.0 <= self.ece <= 1.0:
            raise ValueError(f"ECE must be within [0, 1], got {self.ece}")

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def reliability(probs: np.ndarray, truth: np.ndarray, bins: int = BINS) -> Reliability:
    """Reliability of ``probs`` (N, L) against integer ``truth`` (N,) over ``bins`` equal-width bins.

    >>> round(reliability(np.array([[0.7, 0.3]]), np.array([0])).ece, 3)
    0.3
    """
    p, y = np.asarray(probs, np.float64), np.asarray(truth)
    if p.ndim != 2 or y.shape != (len(p),):
        raise DataError(f"probabilities (N, L) and labels (N,) expected, got {p.shape} and {y.shape}")
    if len(p) == 0:
        raise DataError("nothing to calibrate: no faces")
    if bins < 1:
        raise DataError(f"bins must be 1 or more, got {bins}")
    conf, right = p.max(1), (p.argmax(1) == y)
    index = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, conf, bins) / counts
        accuracy = np.bincount(index, right.astype(np.float64), bins) / counts
    gap = np.where(counts > 0, np.abs(np.nan_to_num(accuracy) - np.nan_to_num(mean_conf)), 0.0)
    ece = float(np.sum(counts * gap) / len(p))
    return Reliability(np.linspace(0.0, 1.0, bins + 1), counts, mean_conf, accuracy, ece)


def expected_calibration_error(probs: np.ndarray, truth: np.ndarray, bins: int = BINS) -> float:
    """ECE of top-1 confidence over ``bins`` equal-width bins (see the module docstring)."""
    return reliability(probs, truth, bins).ece


def _nll(views: np.ndarray, truth: np.ndarray, temperature: float) -> float:
    from ..model import views_to_probabilities

    p = views_to_probabilities(views, temperature)
    return float(-np.mean(np.log(p[np.arange(len(truth)), truth] + 1e-12)))


def fit_temperature(logits: np.ndarray, truth: np.ndarray, lo: float = 0.05, hi: float = 20.0) -> float:
    """The temperature in [lo, hi] that minimises the NLL of ``truth`` under softmax(logits / T).

    ``logits`` is (N, L), or (views, N, L) as :meth:`emotion.model.EmotionModel.logits` gives
    them (the probabilities of the views are averaged after scaling, as the model does).
    Golden-section search on log T: the NLL of temperature scaling has one minimum for a single
    view, and 80 steps narrow [0.05, 20] far below the 3 decimals stored.

    >>> z = np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    >>> round(fit_temperature(z, np.array([0, 0, 1, 1])), 2)   # 3 of 4 right: softmax(2 / T) = 0.75
    1.82
    """
    z = np.asarray(logits, np.float64)
    z = z[None] if z.ndim == 2 else z
    y = np.asarray(truth, np.int64)
    if z.ndim != 3 or y.shape != (z.shape[1],) or len(y) == 0:
        raise DataError(f"logits (N, L) or (views, N, L) and labels (N,) expected, got {z.shape} and {y.shape}")
    if y.min() < 0 or y.max() >= z.shape[2]:
        raise DataError(f"labels must be class indices 0..{z.shape[2] - 1}")
    a, b = np.log(lo), np.log(hi)
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = _nll(z, y, np.exp(c)), _nll(z, y, np.exp(d))
    for _ in range(80):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = _nll(z, y, np.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = _nll(z, y, np.exp(d))
    return float(np.exp((a + b) / 2))


def reliability_figure(curves: dict[str, Reliability], title: str = "Reliability"):
    """A Plotly reliability diagram: accuracy against confidence per bin, one line per curve.

    ``curves`` maps a legend name (e.g. "uncalibrated", "temperature 0.55") to its
    :class:`Reliability`; the diagonal is perfect calibration, and hover shows each bin's faces.
    """
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                               line={"dash": "dot", "color": "grey"}, hoverinfo="skip"))
    for name, r in curves.items():
        keep = r.counts > 0
        fig.add_trace(go.Scatter(
            x=r.confidence[keep], y=r.accuracy[keep], mode="lines+markers", name=f"{name} (ECE {r.ece:.3f})",
            customdata=np.stack([r.counts[keep], r.edges[:-1][keep], r.edges[1:][keep]], axis=1),
            hovertemplate="confidence %{customdata[1]:.2f}-%{customdata[2]:.2f}: %{customdata[0]} faces<br>"
                          "mean confidence %{x:.1%}, right %{y:.1%}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=f"top-1 confidence ({len(next(iter(curves.values())).counts)} "
                      "equal-width bins, mean per bin)" if curves else "top-1 confidence",
                      yaxis_title="share of top-1 answers that are right", xaxis_range=[0, 1], yaxis_range=[0, 1],
                      width=640, height=600, legend={"x": 0.02, "y": 0.98})
    return fig
