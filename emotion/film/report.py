"""The result of a film analysis: :class:`VideoReport`, and its tables and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..settings import FilmSettings, Settings
import numpy as np

from .shots import scene_numbers
from .timeline import Timeline, timecode
from .video import VideoInfo

#: How the exports' ``*_timecode`` columns read (the ``*_s`` columns are seconds, for machines).
TIMECODE_NOTE = ("SMPTE HH:MM:SS:FF at video.fps (HH:MM:SS;FF drop-frame at 29.97 and 59.94); "
                 "the *_s fields are seconds")


@dataclass(frozen=True, eq=False)
class VideoReport:
    """The result of :func:`analyze_video`: scenes, per-scene rows, per-frame faces, thumbnails.

    ``complete`` is False when decoding stopped early (``stopped_at`` seconds,
    reason in ``warnings``) or the analysis was cancelled (a partial report).
    ``thumbnails[i]`` is the JPEG key frame of scene ``i + 1`` (``b""`` if the
    scene had no sampled frame). ``from_cache`` says the result was loaded,
    ``resumed_from`` where an interrupted analysis picked up (seconds).

    Two levels: ``timeline`` holds the scenes (rows of the per-scene table, as
    ``segmentation`` made them: grouped shots, a crew's list, fixed windows or
    the shots themselves); ``shot_timeline`` and ``shot_thumbnails`` the shots
    they are made of (None / empty when the scenes *are* the shots).
    :meth:`resegment` regroups without analysing again.
    """

    source: str
    info: VideoInfo
    timeline: Timeline
    thumbnails: tuple[bytes, ...]
    model: str
    detector: str
    backend: str
    settings: Settings
    film: FilmSettings
    complete: bool = True
    stopped_at: float | None = None
    warnings: tuple[str, ...] = ()
    elapsed: float = 0.0
    from_cache: bool = False
    resumed_from: float | None = None
    key: str | None = None
    shot_timeline: Timeline | None = None
    shot_thumbnails: tuple[bytes, ...] = ()
    segmentation: str = "shots"

    def __post_init__(self) -> None:
        if len(self.thumbnails) != len(self.timeline.scenes):
            raise ValueError(f"VideoReport: {len(self.timeline.scenes)} scenes but {len(self.thumbnails)} thumbnails")
        shots = self.shot_timeline
        if shots is not None and len(self.shot_thumbnails) != len(shots.scenes):
            raise ValueError(f"VideoReport: {len(shots.scenes)} shots but {len(self.shot_thumbnails)} shot thumbnails")
        object.__setattr__(self, "warnings", tuple(self.warnings))

    @property
    def scenes(self):
        return self.timeline.scenes

    @property
    def rows(self):
        return self.timeline.rows

    @property
    def labels(self) -> tuple[str, ...]:
        return self.timeline.labels

    @property
    def shots(self):
        """The shots (cut to cut), whatever the scenes are."""
        return self.shot_level.scenes

    @property
    def shot_level(self) -> Timeline:
        """The timeline with one row per shot."""
        return self.shot_timeline if self.shot_timeline is not None else self.timeline

    @property
    def shot_images(self) -> tuple[bytes, ...]:
        """One JPEG key frame per shot (``b""`` for a shot without a sampled frame)."""
        return self.shot_thumbnails if self.shot_timeline is not None else self.thumbnails

    def level(self, which: str) -> tuple[Timeline, tuple[bytes, ...]]:
        """``("scenes" | "shots")`` -> that level's timeline and thumbnails, for charts and tables."""
        if which not in ("scenes", "shots"):
            raise ValueError(f"level: expected 'scenes' or 'shots', got {which!r}")
        return (self.timeline, self.thumbnails) if which == "scenes" else (self.shot_level, self.shot_images)

    def resegment(self, segments="scenes", scene_list=None, grouping=None) -> VideoReport:
        """The same analysis cut into other scenes (see :func:`emotion.film.segments.segment_report`)."""
        from .segments import segment_report

        return segment_report(self, segments, scene_list, grouping)

    @property
    def fps(self) -> float:
        """The film's frame rate: every timecode a person reads is ``HH:MM:SS:FF`` at it."""
        return self.info.fps

    def tc(self, seconds: float | None) -> str:
        """The film's timecode at ``seconds`` (``HH:MM:SS:FF``; ``;`` drop-frame at 29.97)."""
        return timecode(seconds, self.fps)

    def scene_table(self):
        return self.timeline.scene_table()

    def shot_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per shot: ``shot``, the scene it starts in (number, name), then its numbers."""
        starts = np.array([s.start for s in self.shots], np.float64)
        numbers = scene_numbers(self.scenes, starts + 1e-6)
        names = {r.scene: r.name for r in self.rows}
        out = []
        for row, number in zip(self.shot_level.rows, numbers):
            d = row.to_dict(self.fps)
            d.pop("name")
            out.append({"shot": d.pop("scene"), "scene": int(number), "scene_name": names.get(int(number), ""), **d})
        return out

    def shot_table(self):
        """One row per shot (pandas): ``shot``, ``scene``, ``scene_name``, then the per-scene CSV's columns."""
        import pandas as pd

        head = [c for c in self.scene_table().columns if c not in ("scene", "name")]
        return pd.DataFrame(self.shot_records(), columns=["shot", "scene", "scene_name", *head])

    def frame_table(self):
        return self.timeline.frame_table()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: source, video, model, settings, status, whole-film and per-scene numbers."""
        return {
            "source": self.source, "video": self.info.to_dict(), "model": self.model, "detector": self.detector,
            "backend": self.backend, "labels": list(self.labels),
            "settings": {**asdict(self.settings), **self.film.result_fields()},
            "complete": self.complete, "stopped_at": self.stopped_at,
            "stopped_at_timecode": self.tc(self.stopped_at) if self.stopped_at is not None else None,
            "warnings": list(self.warnings), "elapsed_s": round(self.elapsed, 3),
            "from_cache": self.from_cache, "resumed_from": self.resumed_from,
            "resumed_from_timecode": self.tc(self.resumed_from) if self.resumed_from is not None else None,
            "overall": self.timeline.overall(), "segmentation": self.segmentation,
            "timecodes": TIMECODE_NOTE,
            "scenes": [r.to_dict(self.fps) for r in self.rows],
            "shots": self.shot_records(),
        }
