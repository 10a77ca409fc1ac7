"""Per-frame face rows -> tracks, smoothed emotions and the per-scene table.

The film pass collects :class:`Observations`: which frames were sampled, and
for each face its box, detector score and emotion probabilities.
:func:`build_timeline` adds scene numbers and track ids, smooths each track,
and sums every scene into a :class:`SceneRow`; :class:`Timeline` turns both
levels into tables (pandas) for CSV export and charts.

How a scene's numbers are made (the CSV's columns):

* ``face_share``: share of the scene's sampled frames with at least one face;
  ``mean_faces``: faces per sampled frame.
* ``p_<emotion>``: mean probability over every face in the scene, each face
  weighted by its box area times its detector score, so a close-up counts
  more than a face in the crowd and a doubtful detection less.
* ``dominant_emotion`` / ``dominant_share``: the largest of those means and
  its value (its share of the scene's emotion mass).
* ``valence``: sum of the means of positive emotions minus negative ones
  (:data:`emotion.labels.VALENCE`), from -1 to 1.
* ``peak_*``: the strongest non-neutral expression in the scene, on smoothed
  probabilities so one noisy frame does not make a peak.
* ``key_frame_s``: the sampled frame chosen as the scene's thumbnail.

Times a person reads are SMPTE timecodes at the film's frame rate (``HH:MM:SS:FF``, drop-frame
``HH:MM:SS;FF`` at 29.97), as an editor reads them; the ``*_s`` columns keep seconds for machines.

>>> timecode(3725.52, 25)
'01:02:05:13'
>>> timecode(3725.5)          # no frame rate known: milliseconds
'01:02:05.500'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..labels import VALENCE
from .shots import Scene, scene_numbers
from ..tracking import assign_tracks, smooth_tracks
from ..types import Faces
from .observations import Observations
from .smpte import smpte


def timecode(seconds: float | None, fps: float | None = None) -> str:
    """The timecode a crew reads: ``HH:MM:SS:FF`` at ``fps`` (``;`` drop-frame at 29.97/59.94).

    Empty for None/NaN. Without a usable frame rate (None, 0: a still, a stream that does not say),
    ``HH:MM:SS.mmm``.
    """
    if seconds is None or not math.isfinite(seconds):
        return ""
    if fps is not None and math.isfinite(fps) and fps > 0:
        return smpte(seconds, fps)
    ms = round(max(0.0, float(seconds)) * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


@dataclass(frozen=True)
class SceneRow:
    """The per-scene summary; see the module docstring for how each number is made.

    Values that need faces (probabilities, dominant, valence, peak) are NaN /
    empty for a scene without any.
    """

    scene: int
    start_s: float
    end_s: float
    duration_s: float
    sampled_frames: int
    face_share: float
    mean_faces: float
    probabilities: Mapping[str, float]
    dominant_emotion: str
    dominant_share: float
    valence: float
    peak_time_s: float
    peak_emotion: str
    peak_probability: float
    key_frame_s: float
    name: str = ""

    def to_dict(self, fps: float | None = None) -> dict[str, Any]:
        """Flat, JSON-ready row with timecodes (at ``fps``) next to seconds (NaN becomes None)."""
        def tc(t: float) -> str:
            return timecode(t, fps)

        def num(v: float, digits: int = 4):
            return None if v is None or not math.isfinite(v) else round(float(v), digits)

        row: dict[str, Any] = {
            "scene": self.scene, "name": self.name, "start_timecode": tc(self.start_s), "end_timecode": tc(self.end_s),
            "start_s": num(self.start_s, 3), "end_s": num(self.end_s, 3), "duration_s": num(self.duration_s, 3),
            "sampled_frames": self.sampled_frames, "face_share": num(self.face_share),
            "mean_faces": num(self.mean_faces),
        }
        row.update({f"p_{k}": num(v) for k, v in self.probabilities.items()})
        row.update({
            "dominant_emotion": self.dominant_emotion, "dominant_share": num(self.dominant_share),
            "valence": num(self.valence), "peak_time_s": num(self.peak_time_s, 3),
            "peak_timecode": tc(self.peak_time_s), "peak_emotion": self.peak_emotion,
            "peak_probability": num(self.peak_probability), "key_frame_s": num(self.key_frame_s, 3),
            "key_frame_timecode": tc(self.key_frame_s),
        })
        return row


#: Per-scene CSV columns before and after the per-emotion probabilities.
SCENE_COLUMNS_HEAD = ("scene", "name", "start_timecode", "end_timecode", "start_s", "end_s", "duration_s",
                      "sampled_frames", "face_share", "mean_faces")
SCENE_COLUMNS_TAIL = ("dominant_emotion", "dominant_share", "valence", "peak_time_s", "peak_timecode",
                      "peak_emotion", "peak_probability", "key_frame_s", "key_frame_timecode")
#: Per-frame CSV columns before and after the per-emotion probabilities.
FRAME_COLUMNS_HEAD = ("time_s", "timecode", "frame", "scene", "faces", "track", "x1", "y1", "x2", "y2", "score",
                      "emotion")
FRAME_COLUMNS_TAIL = ("smoothed_emotion", "smoothed_probability")


@dataclass(frozen=True, eq=False)
class Timeline:
    """Scenes, per-scene rows, and every sampled frame and face with its scene, track and smoothed emotions."""

    labels: tuple[str, ...]
    scenes: tuple[Scene, ...]
    rows: tuple[SceneRow, ...]
    observations: Observations
    sample_scene: np.ndarray
    face_time: np.ndarray
    face_frame: np.ndarray
    face_scene: np.ndarray
    face_track: np.ndarray
    smoothed: np.ndarray
    weights: np.ndarray = field(repr=False)
    #: The shot of each sampled frame when the rows are scenes made of shots (None: rows are shots).
    sample_shot: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.scenes):
            raise ValueError(f"Timeline: {len(self.scenes)} scenes but {len(self.rows)} rows")
        if self.sample_shot is not None and len(self.sample_shot) != len(self.sample_scene):
            raise ValueError(f"Timeline: {len(self.sample_scene)} samples but {len(self.sample_shot)} shot numbers")

    @property
    def fps(self) -> float:
        """The film's frame rate, for timecodes (0: unknown)."""
        return self.observations.fps

    @property
    def faces(self) -> Faces:
        """Every face of the film as one table, with its track id."""
        return self.observations.faces.with_tracks(self.face_track)

    # ---------------------------------------------------------------- tables

    def scene_table(self):
        """One row per scene (pandas DataFrame), columns as in the per-scene CSV."""
        import pandas as pd

        columns = [*SCENE_COLUMNS_HEAD, *(f"p_{k}" for k in self.labels), *SCENE_COLUMNS_TAIL]
        return pd.DataFrame([r.to_dict(self.fps) for r in self.rows], columns=columns)

    def frame_table(self):
        """One row per face in each sampled frame, plus one row for each sampled frame without a face."""
        import pandas as pd

        obs = self.observations
        per_sample = obs.faces_per_sample
        empty = np.flatnonzero(per_sample == 0)
        n_face, n_empty = len(obs.face_sample), len(empty)
        sample_of_row = np.concatenate([obs.face_sample, empty])
        order = np.argsort(sample_of_row, kind="stable")
        nan_f = np.full(n_empty, np.nan)
        top = obs.probs.argmax(axis=1) if n_face else np.zeros(0, int)
        stop = self.smoothed.argmax(axis=1) if n_face else np.zeros(0, int)
        labels = np.array(self.labels, dtype=object)
        times = obs.sample_time[sample_of_row]
        data = {
            "time_s": np.round(times, 3),
            "timecode": [timecode(t, self.fps) for t in times],
            "frame": obs.sample_frame[sample_of_row],
            "scene": self.sample_scene[sample_of_row],
            **({"shot": self.sample_shot[sample_of_row]} if self.sample_shot is not None else {}),
            "faces": per_sample[sample_of_row],
            "track": pd.array(np.concatenate([self.face_track, np.zeros(n_empty, np.int32)]), dtype="Int64"),
        }
        for i, name in enumerate(("x1", "y1", "x2", "y2")):
            data[name] = np.concatenate([np.round(obs.boxes[:, i], 1), nan_f])
        data["score"] = np.concatenate([np.round(obs.scores, 4), nan_f])
        data["emotion"] = np.concatenate([labels[top], np.full(n_empty, "", dtype=object)])
        for j, lab in enumerate(self.labels):
            data[f"p_{lab}"] = np.concatenate([np.round(obs.probs[:, j], 4), nan_f])
        data["smoothed_emotion"] = np.concatenate([labels[stop], np.full(n_empty, "", dtype=object)])
        data["smoothed_probability"] = np.concatenate(
            [np.round(self.smoothed[np.arange(n_face), stop], 4), nan_f])
        frame = pd.DataFrame(data).iloc[order].reset_index(drop=True)
        frame.loc[frame["faces"] == 0, "track"] = pd.NA
        return frame

    def series(self):
        """Per sampled frame: weighted mean of the faces' smoothed probabilities (NaN without a face).

        Columns ``time_s``, ``scene``, ``faces`` and one per label; the timeline chart plots it.
        """
        import pandas as pd

        obs = self.observations
        n = len(obs.sample_time)
        sums = np.zeros((n, len(self.labels)))
        wsum = np.zeros(n)
        np.add.at(sums, obs.face_sample, self.smoothed * self.weights[:, None])
        np.add.at(wsum, obs.face_sample, self.weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(wsum[:, None] > 0, sums / wsum[:, None], np.nan)
        data = {"time_s": obs.sample_time, "scene": self.sample_scene, "faces": obs.faces_per_sample}
        data.update({lab: means[:, j] for j, lab in enumerate(self.labels)})
        return pd.DataFrame(data)

    def overall(self) -> dict[str, Any]:
        """Whole-film summary: face share, weighted mean probabilities, dominant emotion and valence."""
        obs = self.observations
        n = len(obs.sample_time)
        share = float((obs.faces_per_sample > 0).mean()) if n else 0.0
        probs = _weighted_mean(obs.probs, self.weights)
        out: dict[str, Any] = {"sampled_frames": n, "faces": len(obs.face_sample),
                               "tracks": len(np.unique(self.face_track)), "face_share": round(share, 4)}
        if probs is not None:
            k = int(np.argmax(probs))
            out.update({"probabilities": {lab: round(float(p), 4) for lab, p in zip(self.labels, probs)},
                        "dominant_emotion": self.labels[k], "dominant_share": round(float(probs[k]), 4),
                        "valence": round(_valence(self.labels, probs), 4)})
        return out


def _weighted_mean(probs: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    total = float(weights.sum())
    if len(probs) == 0 or total <= 0:
        return None
    return (probs.astype(np.float64) * weights[:, None]).sum(axis=0) / total


def _valence(labels: Sequence[str], probs: np.ndarray) -> float:
    return float(sum(VALENCE.get(lab, 0) * float(p) for lab, p in zip(labels, probs)))


def face_weights(obs: Observations) -> np.ndarray:
    """Weight of each face: its box area (as a share of the frame) times its detector score."""
    b = obs.boxes.astype(np.float64)
    area = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    return area / float(obs.width * obs.height) * obs.scores.astype(np.float64)


def _scene_row(scene: Scene, labels: tuple[str, ...], obs: Observations, in_scene: np.ndarray,
               faces: np.ndarray, weights: np.ndarray, smoothed: np.ndarray, key_time: float) -> SceneRow:
    n_samples = int(in_scene.sum())
    counts = obs.faces_per_sample[in_scene]
    share = float((counts > 0).mean()) if n_samples else 0.0
    mean_faces = float(counts.mean()) if n_samples else 0.0
    probs = _weighted_mean(obs.probs[faces], weights[faces]) if len(faces) else None
    nan = float("nan")
    if probs is None:
        return SceneRow(scene.number, scene.start, scene.end, scene.duration, n_samples, share, mean_faces,
                        {lab: nan for lab in labels}, "", nan, nan, nan, "", nan, key_time)
    k = int(np.argmax(probs))
    # Peak: strongest smoothed non-neutral probability of any face in the scene.
    cols = [j for j, lab in enumerate(labels) if lab != "neutral"] or list(range(len(labels)))
    block = smoothed[faces][:, cols]
    r, c = np.unravel_index(int(np.argmax(block)), block.shape)
    peak_time = float(obs.sample_time[obs.face_sample[faces[r]]])
    return SceneRow(scene.number, scene.start, scene.end, scene.duration, n_samples, share, mean_faces,
                    {lab: float(p) for lab, p in zip(labels, probs)}, labels[k], float(probs[k]),
                    _valence(labels, probs), peak_time, labels[cols[c]], float(block[r, c]), key_time)


def build_timeline(obs: Observations, scenes: Sequence[Scene], key_times: Mapping[int, float] | None = None,
                   smoothing: float = 0.5, iou: float = 0.3, max_gap: float = 1.0) -> Timeline:
    """Scene numbers, tracks, smoothed probabilities and per-scene rows for one film pass.

    ``key_times`` maps a scene number to its key frame time (missing -> NaN).

    >>> obs = Observations.empty(("happy", "sad"), 640, 360)
    >>> from emotion.film.shots import Scene
    >>> build_timeline(obs, [Scene(1, 0.0, 2.0, 0, 50)]).rows[0].face_share
    0.0
    """
    scenes = tuple(scenes)
    labels = obs.labels
    sample_scene = scene_numbers(scenes, obs.sample_time)
    face_time = obs.sample_time[obs.face_sample]
    face_frame = obs.sample_frame[obs.face_sample]
    face_scene = sample_scene[obs.face_sample]
    tracks = assign_tracks(obs.face_sample, face_time, face_scene, obs.boxes, iou=iou, max_gap=max_gap)
    smoothed = smooth_tracks(tracks, face_time, obs.probs, sigma=smoothing)
    weights = face_weights(obs)
    key_times = dict(key_times or {})
    rows = []
    for scene in scenes:
        in_scene = sample_scene == scene.number
        faces = np.flatnonzero(face_scene == scene.number)
        rows.append(_scene_row(scene, labels, obs, in_scene, faces, weights, smoothed,
                               float(key_times.get(scene.number, float("nan")))))
    return Timeline(labels, scenes, tuple(rows), obs, sample_scene, face_time, face_frame, face_scene, tracks,
                    smoothed, weights)


def regroup(shots: Timeline, scenes: Sequence[Scene], key_times: Mapping[int, float] | None = None,
            names: Sequence[str] = ()) -> Timeline:
    """The same faces summed over other ``scenes`` (each a run of whole shots, or any contiguous spans).

    Tracks and smoothing stay as ``shots`` made them (a track never crosses a
    cut), so only the per-scene sums are redone: cheap, no decoding, no model.
    ``names[i]`` names scene ``i + 1``.

    >>> obs = Observations.empty(("happy", "sad"), 640, 360)
    >>> from emotion.film.shots import Scene
    >>> shots = build_timeline(obs, [Scene(1, 0.0, 1.0, 0, 25), Scene(2, 1.0, 2.0, 25, 50)])
    >>> regroup(shots, [Scene(1, 0.0, 2.0, 0, 50)], names=["Opening"]).rows[0].name
    'Opening'
    """
    scenes = tuple(scenes)
    names = tuple(names) or ("",) * len(scenes)
    if len(names) != len(scenes):
        raise ValueError(f"regroup: {len(scenes)} scenes but {len(names)} names")
    obs = shots.observations
    sample_scene = scene_numbers(scenes, obs.sample_time)
    face_scene = sample_scene[obs.face_sample]
    key_times = dict(key_times or {})
    rows = []
    for scene, name in zip(scenes, names):
        faces = np.flatnonzero(face_scene == scene.number)
        row = _scene_row(scene, shots.labels, obs, sample_scene == scene.number, faces, shots.weights,
                         shots.smoothed, float(key_times.get(scene.number, float("nan"))))
        rows.append(replace(row, name=name))
    return Timeline(shots.labels, scenes, tuple(rows), obs, sample_scene, shots.face_time, shots.face_frame,
                    face_scene, shots.face_track, shots.smoothed, shots.weights, sample_shot=shots.sample_scene)
