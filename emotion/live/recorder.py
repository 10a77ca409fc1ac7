"""Recording a live session as a per-second table of emotions (never video).

While recording, every analysed frame's faces are averaged into one row per
second and face track. Stopping gives a frozen :class:`Recording` with a CSV
export and a summary. Only numbers are kept: no frame, crop or image is ever
stored, in memory or on disk.

>>> rec = SessionRecorder()
>>> rec.start(100.0)
>>> rec.add(report_at(100.2))                               # doctest: +SKIP
>>> recording = rec.stop(103.0)
>>> recording.duration_s
3.0
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from ..labels import CANONICAL
from .rolling import probability_vector

NO_FACE = ""


@dataclass(frozen=True)
class SecondRow:
    """One second of a recording for one face track (``track`` 0: frames in which no face was found)."""

    second: int
    track: int
    frames: int
    probabilities: tuple[float, ...]   # mean per label, empty for track 0

    @property
    def has_face(self) -> bool:
        return self.track > 0


@dataclass(frozen=True)
class Recording:
    """A finished recording: when it started, how long it ran, and its per-second rows."""

    started: float           # wall clock, seconds since the epoch
    duration_s: float
    labels: tuple[str, ...]
    rows: tuple[SecondRow, ...]

    def __post_init__(self) -> None:
        if self.duration_s < 0:
            raise ValueError(f"Recording.duration_s: expected >= 0, got {self.duration_s}")
        if self.rows and max(r.second for r in self.rows) >= self.seconds:
            raise ValueError(f"Recording: a row for second {max(r.second for r in self.rows)} in a "
                             f"{self.seconds}-second recording")
        for row in self.rows:
            if row.has_face and len(row.probabilities) != len(self.labels):
                raise ValueError(f"Recording: row for second {row.second} has {len(row.probabilities)} "
                                 f"probabilities, expected {len(self.labels)} ({self.labels})")

    @property
    def seconds(self) -> int:
        """Whole seconds the recording lasted (its length rounded, at least 1): what the page says and counts."""
        return max(1, round(self.duration_s))

    @property
    def face_rows(self) -> tuple[SecondRow, ...]:
        return tuple(r for r in self.rows if r.has_face)

    def dominant(self, row: SecondRow) -> str:
        return self.labels[int(np.argmax(row.probabilities))] if row.has_face else NO_FACE

    def to_csv(self) -> str:
        """CSV text: ``second, time_utc, track, frames, <one column per label>, dominant``.

        Seconds where no face was found have ``track`` 0 and empty probabilities.
        """
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["second", "time_utc", "track", "frames", *self.labels, "dominant"])
        for row in self.rows:
            stamp = datetime.fromtimestamp(self.started + row.second, timezone.utc).isoformat(timespec="seconds")
            probs = [f"{p:.4f}" for p in row.probabilities] if row.has_face else [""] * len(self.labels)
            writer.writerow([row.second, stamp, row.track, row.frames, *probs, self.dominant(row)])
        return buf.getvalue()

    def table(self):
        """The rows as a pandas DataFrame (same columns as the CSV, probabilities as floats)."""
        import pandas as pd

        return pd.read_csv(io.StringIO(self.to_csv()), keep_default_na=True)

    def summary(self) -> dict:
        """Totals for the page: seconds, tracks, frames, mean probability and share of dominant seconds per label.

        Means are weighted by frames, so a second with 20 analysed frames
        counts more than one with 2. ``dominant_share`` is the fraction of
        face-seconds in which each emotion was the most probable.
        """
        faces = self.face_rows
        frames = np.array([r.frames for r in faces], np.float64)
        mean = {lab: 0.0 for lab in self.labels}
        share = {lab: 0.0 for lab in self.labels}
        if len(faces):
            probs = np.array([r.probabilities for r in faces], np.float64)
            weighted = (probs * frames[:, None]).sum(axis=0) / frames.sum()
            mean = {lab: float(p) for lab, p in zip(self.labels, weighted)}
            for r in faces:
                share[self.dominant(r)] += 1.0 / len(faces)
        top = max(mean, key=mean.get) if len(faces) else NO_FACE
        return {"duration_s": self.duration_s, "seconds": self.seconds,
                "seconds_with_faces": len({r.second for r in faces}),
                "tracks": len({r.track for r in faces}), "frames": int(sum(r.frames for r in self.rows)),
                "mean": mean, "dominant_share": share, "dominant": top}


class SessionRecorder:
    """Collects a per-second table while recording; not thread-safe (the page owns it)."""

    def __init__(self):
        self._started: float | None = None
        self._labels: tuple[str, ...] = ()
        self._sums: dict[tuple[int, int], list] = {}   # (second, track) -> [frames, sum of probs]

    @property
    def recording(self) -> bool:
        return self._started is not None

    @property
    def started(self) -> float | None:
        return self._started

    def start(self, now: float) -> None:
        """Begin a new recording at wall-clock time ``now``; anything not stopped is discarded."""
        self._started = float(now)
        self._labels = ()
        self._sums = {}

    def add(self, report) -> bool:
        """Count one frame's faces; returns False (and ignores it) when not recording or from before the start."""
        if self._started is None or report.time < self._started:
            return False
        labels = tuple(lab for lab in CANONICAL if lab in report.result.labels)
        if not self._labels:
            self._labels = labels
        second = int(report.time - self._started)
        if not report.result.faces:
            self._sums.setdefault((second, 0), [0, None])[0] += 1
            return True
        for track, face in zip(report.tracks, report.result.faces):
            probs = probability_vector(face.probabilities, self._labels)
            entry = self._sums.setdefault((second, track), [0, np.zeros(len(self._labels))])
            entry[0] += 1
            entry[1] = entry[1] + probs
        return True

    def rows_so_far(self) -> int:
        return len(self._sums)

    def stop(self, now: float) -> Recording:
        """End the recording at ``now`` and return it; the recorder is idle afterwards."""
        if self._started is None:
            raise RuntimeError("stop() called while not recording; call start() first")
        duration = max(0.0, float(now) - self._started)
        # A recording of 21.04 s is 21 seconds long: frames of its last, partial second join second 20, so the
        # length said and the seconds counted agree.
        last = max(1, round(duration)) - 1
        sums: dict[tuple[int, int], list] = {}
        for (second, track), (frames, total) in sorted(self._sums.items()):
            entry = sums.setdefault((min(second, last), track), [0, None])
            entry[0] += frames
            entry[1] = total if entry[1] is None else (entry[1] + total if total is not None else entry[1])
        rows = []
        for (second, track), (frames, total) in sorted(sums.items()):
            probs = tuple(float(p) for p in total / frames) if track else ()
            rows.append(SecondRow(second, track, frames, probs))
        recording = Recording(self._started, duration, self._labels, tuple(rows))
        self._started, self._sums = None, {}
        return recording
