"""The frozen settings the live (webcam) pipeline reads.

The frame callback runs on a WebRTC worker thread, not in the Streamlit
script, so it must never read page globals or widgets. It reads one
:class:`LiveSettings` value instead; the page swaps in a new value when the
user changes something (see :meth:`emotion.live.session.LiveSession.configure`).

>>> LiveSettings(window_s=10).window_s
10.0
>>> LiveSettings(smoothing_s=-1)
Traceback (most recent call last):
...
emotion.errors.SettingsError: smoothing_s must be a number from 0 to 10 seconds, got -1
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import SettingsError
from ..settings import Settings, check_number




@dataclass(frozen=True)
class LiveSettings:
    """What the live pipeline needs besides the model and face detector.

    ``analysis``: the :class:`~emotion.settings.Settings` the detector was built for
    (model, detector, minimum face, threshold); kept here so a report says what
    produced it.
    ``window_s``: how much history the rolling chart keeps (seconds).
    ``smoothing_s``: time constant of the exponential smoothing per face track
    (0 = none). Measured in seconds, not frames, so it means the same at 5 fps
    and at 30 fps.
    ``track_iou``: minimum box overlap (IoU) for a face to keep its track id
    from one analysed frame to the next.
    ``track_ttl_s``: a track unseen for this long is forgotten; a face that
    comes back later gets a new id.
    ``queue_size``: capacity of the results queue to the page; when the page
    falls behind, the oldest reports are dropped, never the newest.
    ``show_score``: draw the top emotion's probability next to its label.
    ``detect_side``: faces are searched on a copy of the frame scaled down to
    this long side (boxes are mapped back). Webcam faces are large, and YuNet
    works natively at 320 px: at 640x480 this makes face detection about 4x
    cheaper with the same boxes (benchmarks/bench_live.py). See
    :meth:`detection_settings`.
    """

    analysis: Settings = field(default_factory=Settings)
    window_s: float = 30.0
    smoothing_s: float = 1.0
    track_iou: float = 0.3
    track_ttl_s: float = 2.0
    queue_size: int = 256
    show_score: bool = True
    detect_side: int = 320

    def __post_init__(self) -> None:
        if not isinstance(self.analysis, Settings):
            raise SettingsError(f"analysis must be an emotion.settings.Settings, got {type(self.analysis).__name__}")
        object.__setattr__(self, "window_s", check_number("window_s", self.window_s))
        object.__setattr__(self, "smoothing_s", check_number("smoothing_s", self.smoothing_s))
        object.__setattr__(self, "track_iou", check_number("track_iou", self.track_iou))
        object.__setattr__(self, "track_ttl_s", check_number("track_ttl_s", self.track_ttl_s))
        object.__setattr__(self, "queue_size", check_number("queue_size", self.queue_size))
        object.__setattr__(self, "detect_side", check_number("detect_side", self.detect_side))
        if not isinstance(self.show_score, bool):
            raise SettingsError(f"show_score must be True or False, got {self.show_score!r}")

    def detection_settings(self) -> Settings:
        """The analysis settings to build the live face detector with (``max_side`` capped at ``detect_side``).

        >>> LiveSettings().detection_settings().max_side
        320
        """
        return self.analysis.replace(max_side=min(self.analysis.max_side, self.detect_side))

    def replace(self, **changes) -> LiveSettings:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)
