"""What a crew reads first: the film's summary, from a :class:`~emotion.film.report.VideoReport`.

Neutral is what faces show most of the time, in every film, so "overall:
neutral" says nothing. The summary says instead:

* ``dominant``: the strongest **non-neutral** emotion (largest weighted mean
  probability over every face, neutral left out), and ``dominant_share``, its
  share of the non-neutral expression;
* ``face_time``: the share of screen time with at least one readable face
  (sampled frames are evenly spaced, so the share of sampled frames with a
  face is the share of time), and ``expressiveness``: how far from neutral
  those faces are (mean of 1 - p(neutral), faces weighted by size x score);
* ``arc``: valence (positive minus negative emotions, -1..1) per scene, and
  in words how the first third compares with the last;
* ``top_scenes``: scenes by **intensity** = expressiveness x face share
  (a scene where faces are rare and calm scores low);
* ``top_peaks``: the strongest single non-neutral moments, one per shot,
  each with the shot's key frame and timecode.

>>> summary = summarize(report)                                   # doctest: +SKIP
>>> summary.headline()                                            # doctest: +SKIP
'Mostly angry (34% of the expression that is not neutral); faces on screen 28% of the time, ...'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .timeline import Timeline, _weighted_mean, timecode

TOP = 5


@dataclass(frozen=True)
class Moment:
    """A scene or a peak worth a look: where (seconds), what, how strong, and its key frame (JPEG)."""

    kind: str          # "scene" or "peak"
    number: int        # scene or shot number
    name: str
    start: float
    end: float
    emotion: str
    value: float       # intensity (scene) or probability (peak), 0..1
    thumbnail: bytes = field(default=b"", repr=False)
    fps: float = 0.0   # the film's frame rate, for the timecode

    @property
    def timecode(self) -> str:
        return timecode(self.start, self.fps)

    @property
    def label(self) -> str:
        where = f"Scene {self.number}" + (f" · {self.name}" if self.name else "") if self.kind == "scene" \
            else f"Shot {self.number}"
        return f"{where} · {self.timecode} · {self.emotion} {self.value:.0%}"


@dataclass(frozen=True)
class FilmSummary:
    """See the module docstring; fractions are 0..1, NaN / empty where there were no faces."""

    dominant: str
    dominant_share: float
    face_time: float
    expressiveness: float
    valence: float
    arc: tuple[tuple[float, float, float], ...]   # (start, end, valence) per scene with faces
    arc_text: str
    top_scenes: tuple[Moment, ...]
    top_peaks: tuple[Moment, ...]

    def headline(self) -> str:
        if not self.dominant:
            return "No readable face was found, so there are no emotions to report."
        return (f"Mostly {self.dominant} ({self.dominant_share:.0%} of the expression that is not neutral); "
                f"faces on screen {self.face_time:.0%} of the time, {self.expressiveness:.0%} expressive on "
                f"average. {self.arc_text}")

    def to_dict(self) -> dict:
        def num(v):
            return None if not math.isfinite(v) else round(float(v), 4)

        def moment(m: Moment):
            return {"number": m.number, "name": m.name, "start_s": round(m.start, 3), "timecode": m.timecode,
                    "emotion": m.emotion, "value": round(m.value, 4)}

        return {"headline": self.headline(), "dominant_non_neutral": self.dominant,
                "dominant_share": num(self.dominant_share), "face_time_share": num(self.face_time),
                "expressiveness": num(self.expressiveness), "valence": num(self.valence),
                "arc": self.arc_text, "top_scenes": [moment(m) for m in self.top_scenes],
                "top_peaks": [moment(m) for m in self.top_peaks]}


def _non_neutral(labels) -> list[int]:
    return [j for j, lab in enumerate(labels) if lab != "neutral"]


def _expressiveness(labels, probs: np.ndarray | None) -> float:
    if probs is None:
        return float("nan")
    return float(sum(probs[j] for j in _non_neutral(labels)))


def _arc_text(arc) -> str:
    if len(arc) < 2:
        return ""
    total = arc[-1][1] - arc[0][0]
    first = [v for a, b, v in arc if (a + b) / 2 < arc[0][0] + total / 3]
    last = [v for a, b, v in arc if (a + b) / 2 >= arc[0][0] + 2 * total / 3]
    if not first or not last:
        return ""
    a, b = float(np.mean(first)), float(np.mean(last))

    def word(v):
        return "positive" if v > 0.1 else "negative" if v < -0.1 else "balanced"

    return (f"The mood of the faces (valence, from -1 negative to +1 positive) goes from {a:+.2f} ({word(a)}) "
            f"in the first third to {b:+.2f} ({word(b)}) in the last.")


def summarize(report, top: int = TOP) -> FilmSummary:
    """The :class:`FilmSummary` of a report (scenes as the report has them, peaks per shot)."""
    tl: Timeline = report.timeline
    labels = tl.labels
    obs = tl.observations
    probs = _weighted_mean(obs.probs, tl.weights) if len(obs.probs) else None
    n = len(obs.sample_time)
    face_time = float((obs.faces_per_sample > 0).mean()) if n else 0.0
    dominant, share, valence = "", float("nan"), float("nan")
    if probs is not None:
        cols = _non_neutral(labels) or list(range(len(labels)))
        k = max(cols, key=lambda j: probs[j])
        mass = float(sum(probs[j] for j in cols))
        dominant, share = labels[k], float(probs[k]) / mass if mass > 0 else float("nan")
        valence = float(tl.overall().get("valence", float("nan")))
    arc = tuple((r.start_s, r.end_s, r.valence) for r in tl.rows if math.isfinite(r.valence))
    scenes = []
    for r, thumb in zip(tl.rows, report.thumbnails):
        if not r.dominant_emotion:
            continue
        p = np.array([r.probabilities[lab] for lab in labels])
        intensity = _expressiveness(labels, p) * r.face_share
        cols = _non_neutral(labels) or list(range(len(labels)))
        emotion = labels[max(cols, key=lambda j: p[j])]
        scenes.append(Moment("scene", r.scene, r.name, r.start_s, r.end_s, emotion, intensity, thumb, tl.fps))
    scenes.sort(key=lambda m: -m.value)
    shots_tl = report.shot_level
    peaks = [Moment("peak", r.scene, "", r.peak_time_s, r.peak_time_s, r.peak_emotion, r.peak_probability, thumb, tl.fps)
             for r, thumb in zip(shots_tl.rows, report.shot_images) if r.peak_emotion]
    peaks.sort(key=lambda m: -m.value)
    return FilmSummary(dominant, share, face_time, _expressiveness(labels, probs), valence, arc, _arc_text(arc),
                       tuple(scenes[:top]), tuple(peaks[:top]))
