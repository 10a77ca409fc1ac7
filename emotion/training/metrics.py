"""Classification metrics: accuracy, macro-F1, per-class precision/recall/support, confusion matrix.

>>> r = classification_report([0, 1, 1], [0, 1, 0], ("a", "b"))
>>> round(r.accuracy, 3), r.confusion.tolist()
(0.667, [[1, 0], [1, 1]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError


@dataclass(frozen=True)
class ClassReport:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassificationReport:
    """Scores of predictions against true labels over ``labels`` (confusion rows = truth, columns = prediction)."""

    labels: tuple[str, ...]
    accuracy: float
    macro_f1: float
    n: int
    per_class: dict[str, ClassReport]
    confusion: np.ndarray

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy, "macro_f1": self.macro_f1, "n": self.n,
            "per_class": {k: vars(v) for k, v in self.per_class.items()},
            "labels": list(self.labels), "confusion": self.confusion.tolist(),
        }

    def table(self) -> str:
        """A plain-text report: per-class rows, then the confusion matrix."""
        w = max(9, *(len(l) for l in self.labels))
        lines = [f"accuracy {self.accuracy:.4f}   macro-F1 {self.macro_f1:.4f}   n {self.n}", "",
                 f"{'class':<{w}} precision  recall      f1  support"]
        for l, c in self.per_class.items():
            lines.append(f"{l:<{w}} {c.precision:9.4f} {c.recall:7.4f} {c.f1:7.4f} {c.support:8d}")
        lines += ["", "confusion (rows: true, columns: predicted)",
                  " " * w + " " + " ".join(f"{l[:7]:>7}" for l in self.labels)]
        for l, row in zip(self.labels, self.confusion):
            lines.append(f"{l:<{w}} " + " ".join(f"{v:7d}" for v in row))
        return "\n".join(lines)


def classification_report(y_true, y_pred, labels: tuple[str, ...]) -> ClassificationReport:
    """Score integer predictions; classes with no support and no predictions get F1 0 and are
    left out of the macro average (they would say nothing about the model)."""
    yt, yp = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    if yt.shape != yp.shape or yt.ndim != 1:
        raise DataError(f"y_true and y_pred must be 1-D of equal length, got {yt.shape} and {yp.shape}")
    if len(yt) == 0:
        raise DataError("nothing to evaluate: no samples")
    k = len(labels)
    if yt.min() < 0 or yt.max() >= k or yp.min() < 0 or yp.max() >= k:
        raise DataError(f"labels must be integers in 0..{k - 1}")
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (yt, yp), 1)
    per, f1s = {}, []
    for i, name in enumerate(labels):
        tp = cm[i, i]
        support, predicted = int(cm[i].sum()), int(cm[:, i].sum())
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per[name] = ClassReport(float(p), float(r), float(f), support)
        if support or predicted:
            f1s.append(f)
    return ClassificationReport(tuple(labels), float(np.trace(cm) / len(yt)), float(np.mean(f1s)) if f1s else 0.0,
                  int(len(yt)), per, cm)


def confusion_figure(report: ClassificationReport, title: str = "Confusion matrix"):
    """A Plotly heatmap of the row-normalised confusion matrix with counts on hover."""
    import plotly.graph_objects as go

    cm = report.confusion
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(
        z=norm, x=list(report.labels), y=list(report.labels), colorscale="Blues", zmin=0, zmax=1,
        customdata=cm, text=[[f"{v:.2f}" for v in row] for row in norm], texttemplate="%{text}",
        hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata} faces (%{z:.1%} of row)<extra></extra>"))
    fig.update_layout(title=f"{title} (accuracy {report.accuracy:.1%}, macro-F1 {report.macro_f1:.3f})",
                      xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                      width=640, height=600)
    return fig
