"""The result of a film analysis: :class:`VideoReport`, and its tables and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ..settings import FilmSettings, Settings
from .timeline import Timeline, timecode
from .video import VideoInfo


@dataclass(frozen=True, eq=False)
class VideoReport:
    """The result of :func:`analyze_video`: scenes, per-scene rows, per-frame faces, thumbnails.

    ``complete`` is False when decoding stopped early (``stopped_at`` seconds,
    reason in ``warnings``) or the analysis was cancelled (a partial report).
    ``thumbnails[i]`` is the JPEG key frame of scene ``i + 1`` (``b""`` if the
    scene had no sampled frame). ``from_cache`` says the result was loaded,
    ``resumed_from`` where an interrupted analysis picked up (seconds).
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

    def __post_init__(self) -> None:
        if len(self.thumbnails) != len(self.timeline.scenes):
            raise ValueError(f"VideoReport: {len(self.timeline.scenes)} scenes but {len(self.thumbnails)} thumbnails")
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

    def scene_table(self):
        return self.timeline.scene_table()

    def frame_table(self):
        return self.timeline.frame_table()

    def scenes_csv(self) -> str:
        """The per-scene table as CSV text (the headline export)."""
        return self.scene_table().to_csv(index=False)

    def frames_csv(self) -> str:
        """Every sampled frame and face as CSV text."""
        return self.frame_table().to_csv(index=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: source, video, model, settings, status, whole-film and per-scene numbers."""
        return {
            "source": self.source, "video": self.info.to_dict(), "model": self.model, "detector": self.detector,
            "backend": self.backend, "labels": list(self.labels),
            "settings": {**asdict(self.settings), **self.film.result_fields()},
            "complete": self.complete, "stopped_at": self.stopped_at,
            "stopped_at_timecode": timecode(self.stopped_at) if self.stopped_at is not None else None,
            "warnings": list(self.warnings), "elapsed_s": round(self.elapsed, 3),
            "from_cache": self.from_cache, "resumed_from": self.resumed_from,
            "resumed_from_timecode": timecode(self.resumed_from) if self.resumed_from is not None else None,
            "overall": self.timeline.overall(), "scenes": [r.to_dict() for r in self.rows],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)
