"""The panel's result: :class:`AudienceReport`, its per-scene, per-second and per-viewer tables, CSV and JSON.

Column meanings (per scene and per second alike):

* ``viewers``: viewers whose face was seen in the scene/second; ``watching``: viewers whose
  recording covers it (face seen or not).
* ``audience_<emotion>``: the mean across viewers of each viewer's mean probability over the
  scene/second; ``_lo``/``_hi``: its 95% confidence interval (Student's t, ``viewers - 1`` degrees
  of freedom; each viewer is one observation, because one viewer's moments are not independent).
  Empty with fewer than two viewers.
* ``expressive_share``: the mean across viewers with a face of the share of their sampled moments
  in which some emotion other than neutral passed the threshold.
* ``attentive_share``: the mean across watching viewers of the share of their sampled moments in
  which their face was seen turned towards the screen.
* ``audience_valence``: positive minus negative emotions of the audience means (-1..1);
  ``screen_valence``: the same for the faces on screen (the film's own analysis).
* ``audience_expression``: the audience means of every emotion but neutral, summed: how much
  the audience's faces moved.
* ``responded_<emotion>``: the share of the viewers seen in the scene whose mean for the emotion
  rose at least :data:`~emotion.audience.panel.RESPONSE_RISE` above their own baseline (their
  median over the screening); ``rise_<emotion>``: the viewers' mean rise above their baseline.
  ``headline``: the largest such share in words ("42 % of the audience smiled or laughed");
  scenes are ranked by that share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..film.shots import Scene
from ..film.timeline import timecode
from ..settings import AudienceSettings


#: What a viewer did, said as a crew says it, per emotion.
ACTIONS = {"happy": "smiled or laughed", "surprise": "looked surprised", "sad": "looked sad",
           "fear": "looked afraid", "angry": "looked angry", "disgust": "looked disgusted",
           "contempt": "looked contemptuous"}
#: A scene's headline says how many looked away when at least this share of the time faces were turned away.
LOOKED_AWAY = 0.25


def found_in_words(reaction: Mapping[str, Any]) -> str:
    """What a reaction's scan found, for a person: viewers and how they were told apart, how well each was
    seen, the smallest face and the size frames were read at (from :meth:`Reaction.summary`)."""
    seen = [float(s) for s in reaction.get("face_share") or []]
    n = int(reaction.get("viewers", 0))
    if not n:
        return f"{reaction['name']}: no viewer's face was found"
    kind = "seat" if reaction.get("viewers_by") == "seats" else "viewer"
    text = (f"{reaction['name']}: {n} {kind}{'s' if n != 1 else ''}, seen {100 * min(seen):.0f}-"
            f"{100 * max(seen):.0f} % of the time ({sum(s >= 0.9 for s in seen)} at least 90 %)") if seen else \
        f"{reaction['name']}: {n} {kind}{'s' if n != 1 else ''}"
    if reaction.get("smallest_face_px"):
        text += (f"; smallest face {reaction['smallest_face_px']:.0f} px, frames read at "
                 f"{reaction.get('detect_side') or 480} px")
    if reaction.get("viewers_by_reason"):
        text += f"; told apart by {reaction['viewers_by_reason']}"
    return text


def _pct(v) -> float | None:
    return None if v is None else round(100 * float(v), 1)


def _num(v, digits: int = 4):
    return None if v is None or not math.isfinite(float(v)) else round(float(v), digits)


@dataclass(frozen=True)
class AudienceSceneRow:
    """One scene's audience numbers; see the module docstring for each."""

    scene: int
    start_s: float
    end_s: float
    viewers: int
    watching: int
    mean: Mapping[str, float]
    lo: Mapping[str, float]
    hi: Mapping[str, float]
    expressive_share: float
    attentive_share: float
    audience_valence: float
    screen_valence: float
    audience_expression: float
    rise: Mapping[str, float] = field(default_factory=dict)        # mean rise above each viewer's baseline
    responded: Mapping[str, float] = field(default_factory=dict)   # share of seen viewers who responded

    @property
    def response(self) -> tuple[str, float] | None:
        """(emotion, share of the viewers) of the scene's strongest response, None where nobody responded."""
        shares = [(lab, v) for lab, v in self.responded.items() if lab != "neutral" and math.isfinite(v) and v > 0]
        return max(shares, key=lambda kv: kv[1]) if shares else None

    def headline(self) -> str:
        """The scene's response in a crew's words: "42 % of the audience smiled or laughed"."""
        if self.viewers == 0:
            return "nobody's face was seen"
        top = self.response
        text = f"{100 * top[1]:.0f} % of the audience {ACTIONS.get(top[0], top[0])}" if top else \
            "no clear response (nobody's face moved beyond their usual)"
        away = 1.0 - self.attentive_share if math.isfinite(self.attentive_share) else 0.0
        if away >= LOOKED_AWAY:
            text += f"; {100 * away:.0f} % looked away"
        return text

    def to_dict(self, fps: float | None = None) -> dict[str, Any]:
        row: dict[str, Any] = {"scene": self.scene, "start_timecode": timecode(self.start_s, fps),
                               "end_timecode": timecode(self.end_s, fps), "start_s": _num(self.start_s, 3),
                               "end_s": _num(self.end_s, 3), "viewers": self.viewers, "watching": self.watching}
        for lab in self.mean:
            row[f"audience_{lab}"] = _num(self.mean[lab])
            row[f"audience_{lab}_lo"] = _num(self.lo[lab])
            row[f"audience_{lab}_hi"] = _num(self.hi[lab])
        row.update({"expressive_share": _num(self.expressive_share), "attentive_share": _num(self.attentive_share),
                    "audience_valence": _num(self.audience_valence), "screen_valence": _num(self.screen_valence),
                    "audience_expression": _num(self.audience_expression)})
        for lab in self.responded:
            row[f"responded_{lab}"] = _num(self.responded[lab])
            row[f"rise_{lab}"] = _num(self.rise.get(lab))
        top = self.response
        row.update({"response": top[0] if top else None, "responded_share": _num(top[1]) if top else 0.0,
                    "headline": self.headline()})
        return row


@dataclass(frozen=True)
class Peak:
    """A moment the audience's expression rose most: second of film time, emotion, level and rise."""

    time_s: float
    emotion: str
    level: float
    rise: float
    scene: int
    viewers: int

    def to_dict(self, fps: float | None = None) -> dict[str, Any]:
        return {"time_s": _num(self.time_s, 3), "timecode": timecode(self.time_s, fps), "emotion": self.emotion,
                "level": _num(self.level), "rise": _num(self.rise), "scene": self.scene, "viewers": self.viewers}


@dataclass(frozen=True, eq=False)
class SecondStats:
    """Per second of film time (S seconds): the panel's numbers as arrays (see the module docstring)."""

    mean: np.ndarray        # (S, L)
    lo: np.ndarray          # (S, L)
    hi: np.ndarray          # (S, L)
    viewers: np.ndarray     # (S,)
    watching: np.ndarray    # (S,)
    expressive: np.ndarray  # (S,)
    attentive: np.ndarray   # (S,)
    valence: np.ndarray     # (S,)
    screen_valence: np.ndarray  # (S,)
    scene: np.ndarray       # (S,)

    def __post_init__(self) -> None:
        s = len(self.viewers)
        for name in ("mean", "lo", "hi"):
            if getattr(self, name).shape[0] != s:
                raise ValueError(f"SecondStats.{name}: expected {s} rows, got {getattr(self, name).shape[0]}")
        for name in ("watching", "expressive", "attentive", "valence", "screen_valence", "scene"):
            if getattr(self, name).shape != (s,):
                raise ValueError(f"SecondStats.{name}: expected shape ({s},), got {getattr(self, name).shape}")


@dataclass(frozen=True, eq=False)
class AudienceReport:
    """The result of :func:`~emotion.audience.analyze_audience`: the panel per scene, per second and per viewer.

    ``viewer_names[k]`` says which reaction (and which face in it) viewer
    ``k + 1`` is; ``viewer_seconds`` (V, S, L) holds each viewer's mean
    probabilities per second of film (NaN where the face was not seen).
    """

    film: str
    duration_s: float
    labels: tuple[str, ...]
    scenes: tuple[Scene, ...]
    rows: tuple[AudienceSceneRow, ...]
    seconds: SecondStats
    reactions: tuple[dict, ...]
    viewer_names: tuple[str, ...]
    viewer_seconds: np.ndarray
    viewer_summary: tuple[dict, ...]
    peaks: tuple[Peak, ...]
    valence_correlation: float | None
    settings: AudienceSettings
    warnings: tuple[str, ...] = ()
    #: The film's frame rate: timecodes are ``HH:MM:SS:FF`` at it (0: unknown, milliseconds).
    fps: float = 0.0
    #: Per reaction, how its offset was found from the sound (a SyncResult), or None (given by hand, live).
    syncs: tuple = field(default=(), repr=False)
    #: Per reaction, a JPEG of the room with faces blurred (for the seat map), or empty bytes.
    stills: tuple = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.scenes):
            raise ValueError(f"AudienceReport: {len(self.scenes)} scenes but {len(self.rows)} rows")
        v = len(self.viewer_names)
        if self.viewer_seconds.shape != (v, len(self.seconds.viewers), len(self.labels)):
            raise ValueError(f"AudienceReport.viewer_seconds: expected ({v}, {len(self.seconds.viewers)}, "
                             f"{len(self.labels)}), got {self.viewer_seconds.shape}")
        for name in ("rows", "reactions", "viewer_names", "viewer_summary", "peaks", "warnings", "scenes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def viewers(self) -> int:
        return len(self.viewer_names)

    # ---------------------------------------------------------------- tables

    def scene_table(self):
        """One row per scene (pandas DataFrame), the per-scene CSV's columns."""
        import pandas as pd

        return pd.DataFrame([r.to_dict(self.fps) for r in self.rows])

    def tc(self, seconds: float | None) -> str:
        """The film's timecode at ``seconds``."""
        return timecode(seconds, self.fps)

    def second_table(self):
        """One row per second of film time."""
        import pandas as pd

        s = self.seconds
        n = len(s.viewers)
        data: dict[str, Any] = {"second": np.arange(n), "timecode": [self.tc(float(t)) for t in range(n)],
                                "scene": s.scene, "viewers": s.viewers, "watching": s.watching}
        for j, lab in enumerate(self.labels):
            data[f"audience_{lab}"] = np.round(s.mean[:, j], 4)
            data[f"audience_{lab}_lo"] = np.round(s.lo[:, j], 4)
            data[f"audience_{lab}_hi"] = np.round(s.hi[:, j], 4)
        data.update({"expressive_share": np.round(s.expressive, 4), "attentive_share": np.round(s.attentive, 4),
                     "audience_valence": np.round(s.valence, 4), "screen_valence": np.round(s.screen_valence, 4)})
        return pd.DataFrame(data)

    def viewer_table(self):
        """One row per viewer: which reaction, how much was seen, mean emotions, shares, valence."""
        import pandas as pd

        return pd.DataFrame(list(self.viewer_summary))

    def viewers_in_words(self):
        """The per-viewer table as a crew reads it: where each viewer sits, how much they were seen and
        facing the screen, what their face showed most (shares in %, no column names of the CSV)."""
        import pandas as pd

        rows = []
        for v in self.viewer_summary:
            means = {lab: v.get(f"mean_{lab}") for lab in self.labels if lab != "neutral"}
            known = {lab: m for lab, m in means.items() if m is not None}
            top = max(known, key=known.get) if known else None
            where = (f"seat at x {v['position_x']}, y {v['position_y']}" if v.get("viewers_by") == "seats"
                     else f"face {v['face_in_reaction']}")
            rows.append({"Viewer": v["viewer"], "Recording": v["reaction"], "Where": where,
                         "Seen (%)": _pct(v.get("face_share")), "Facing the screen (%)": _pct(v.get("attentive_share")),
                         "Expressive (%)": _pct(v.get("expressive_share")),
                         "Showed most": f"{top} {_pct(known[top]):.0f}%" if top else "not seen",
                         "Mood": "" if v.get("valence") is None else f"{v['valence']:+.2f}"})
        return pd.DataFrame(rows)

    def viewer_trace(self, viewer: int):
        """Viewer ``viewer`` (from 1) per second: time and mean probability of each emotion (NaN unseen)."""
        import pandas as pd

        if not 1 <= viewer <= self.viewers:
            raise ValueError(f"viewer must be 1 to {self.viewers}, got {viewer}")
        data = {"second": np.arange(self.viewer_seconds.shape[1])}
        data.update({lab: self.viewer_seconds[viewer - 1, :, j] for j, lab in enumerate(self.labels)})
        return pd.DataFrame(data)

    def ranking(self):
        """Scenes ranked by the share of the audience who responded (then ``audience_expression``), strongest first."""
        table = self.scene_table()
        return table.sort_values(["responded_share", "audience_expression"], ascending=False, na_position="last",
                                 kind="stable")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: film, settings, reactions (name, offset_s, sync, confidence, viewers, ...), peaks, scenes."""
        return {"film": self.film, "duration_s": _num(self.duration_s, 3), "labels": list(self.labels),
                "settings": asdict(self.settings), "viewers": self.viewers,
                "reactions": [dict(r) for r in self.reactions], "peaks": [p.to_dict(self.fps) for p in self.peaks],
                "valence_correlation": _num(self.valence_correlation), "warnings": list(self.warnings),
                "viewer_summary": [dict(v) for v in self.viewer_summary],
                "scenes": [r.to_dict(self.fps) for r in self.rows]}
