"""The labelled face-count set for detector recall: frames of the shared films, counted by eye.

``tests/data/detector_faces.csv`` holds ``video,time_s,faces``: for each sampled frame of a
video in ``../shared/data/media/videos``, the number of *readable* faces a person sees in it
(eyes, nose and mouth visible, turned up to about profile, not a tiny background blur). The
images are not stored (their licences are the studios'); :func:`frames_at` decodes the same
frames again: the first frame whose time is at or after ``time_s``.

Scoring is by face counts, not boxes (the labels have none): per frame,
``matched = min(found, labelled)``; recall = sum(matched) / sum(labelled), precision =
sum(matched) / sum(found). A detector that finds a background blur instead of the labelled
face is not caught by this, and one that finds a face a person would not count is charged
as a false face. Frame-level numbers are also given: the share of labelled frames with a
face where the detector found one.

How the labels were made: 159 frames of the trailer (every 0.35 s from 0.25 s) and 6 of the
LivePortrait clip (every 2 s) were looked at one by one at full size; dark or small faces were
then looked at again cropped, enlarged and brightened (frames 11.45, 16.7-17.4 and 19.15-19.85 s
of the trailer went up by one or two faces; 20.2 s stayed at 0: the mouth is hidden). Creatures
(the chimera, the horses) and faces too dark, blurred or small to show eyes, nose and mouth count 0.
A face with make-up (the Fury) counts. Every labelled frame has at most 3 faces.

>>> s = score([2, 0, 1], [1, 1, 1])
>>> round(s.recall, 3), round(s.precision, 3), s.false_frames
(0.667, 0.667, 0)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
VIDEOS = SHARED / "media" / "videos"
LABELS = Path(__file__).resolve().parent / "data" / "detector_faces.csv"


@dataclass(frozen=True)
class Label:
    video: str
    time_s: float
    faces: int


def load_labels(path: Path = LABELS) -> list[Label]:
    """The labelled frames, in file order."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = [Label(r["video"], float(r["time_s"]), int(r["faces"])) for r in rows]
    if any(l.faces < 0 for l in out):
        raise ValueError(f"{path}: face counts must be 0 or more")
    return out


def frames_at(video: Path, times: list[float], max_side: int | None = None) -> list[np.ndarray]:
    """RGB frames of ``video``: for each time, the first frame at or after it.

    ``max_side`` shrinks them as the film pass does (FFmpeg's scaler, ``Frame.rgb(max_side)``).
    """
    from emotion.film.video import open_video

    want = sorted(set(times))
    got: dict[float, np.ndarray] = {}
    i = 0
    with open_video(video) as reader:
        for frame in reader.frames():
            while i < len(want) and frame.time >= want[i] - 1e-6:
                got[want[i]] = frame.rgb(max_side=max_side)
                i += 1
            if i == len(want):
                break
    missing = [t for t in want if t not in got]
    if missing:
        raise ValueError(f"{video.name} has no frame at {missing[:3]} s (past its end?)")
    return [got[t] for t in times]


def labelled_frames(labels: list[Label] | None = None, max_side: int | None = None) -> list[tuple[Label, np.ndarray]]:
    """Each label with its decoded frame (long side at most ``max_side``); FileNotFoundError when a video is absent."""
    labels = load_labels() if labels is None else labels
    out = []
    for video in dict.fromkeys(l.video for l in labels):
        path = VIDEOS / video
        if not path.is_file():
            raise FileNotFoundError(path)
        mine = [l for l in labels if l.video == video]
        out += list(zip(mine, frames_at(path, [l.time_s for l in mine], max_side)))
    return out


@dataclass(frozen=True)
class Score:
    """Face-count recall and precision, and frame-level recall (labelled frames with a face found)."""

    labelled: int
    found: int
    matched: int
    frames_with_faces: int
    frames_found: int
    false_frames: int

    @property
    def recall(self) -> float:
        return self.matched / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def frame_recall(self) -> float:
        return self.frames_found / self.frames_with_faces if self.frames_with_faces else 1.0


def score(found: list[int], labelled: list[int]) -> Score:
    """:class:`Score` of per-frame face counts ``found`` against ``labelled`` (see the module docstring)."""
    f, l = np.asarray(found, np.int64), np.asarray(labelled, np.int64)
    if f.shape != l.shape:
        raise ValueError(f"{len(f)} counts for {len(l)} labelled frames")
    return Score(int(l.sum()), int(f.sum()), int(np.minimum(f, l).sum()), int((l > 0).sum()),
                 int(((l > 0) & (f > 0)).sum()), int(((l == 0) & (f > 0)).sum()))
