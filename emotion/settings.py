"""Every setting a user can choose, validated once, against one table of limits.

:class:`Settings` picks the model and the face detector (every analysis);
:class:`FilmSettings` the sampling and scene options of a film;
:class:`emotion.live.LiveSettings` the webcam's. Every numeric limit lives
in :data:`LIMITS`, so a face-size or threshold range means the same on the
command line, in the app and in the library. Errors say the name, the range,
the unit and the value received.

>>> Settings(detector="haar").detector
'haar'
>>> check_number("threshold", 1.5)
Traceback (most recent call last):
...
emotion.errors.SettingsError: threshold must be a number from 0.01 to 0.99, got 1.5
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from .errors import SettingsError

DETECTORS = ("auto", "yunet", "haar")
#: how the emotion model is run (see :mod:`emotion.runtime`)
BACKENDS = ("auto", "eager", "bf16", "ipex", "onnx-int8")
#: PySceneDetect detectors for shot cuts
SCENE_DETECTORS = ("content", "adaptive")

#: name -> (kind, low, high, unit): the one place a setting's range is written.
LIMITS: dict[str, tuple[type, float, float, str]] = {
    # faces and model (Settings, the face detectors)
    "min_face": (int, 1, 4096, "pixels"),
    "threshold": (float, 0.01, 0.99, ""),
    "max_side": (int, 64, 16384, "pixels"),
    "margin": (float, 0.0, 1.0, "(a fraction of the face size)"),
    # films (FilmSettings, shot detection)
    "fps": (float, 0.1, 30, "samples per second"),
    "scene_threshold": (float, 0.01, 255, "(shot-change threshold)"),
    "min_scene_len": (float, 0, 60, "seconds"),
    "smoothing": (float, 0, 10, "seconds"),
    "track_iou": (float, 0.01, 1, "(box overlap)"),
    "checkpoint_every": (float, 0.5, 3600, "seconds"),
    "batch": (int, 1, 1024, "faces"),
    "thumb_width": (int, 32, 1920, "pixels"),
    "detect_side": (int, 64, 16384, "pixels"),
    "cache_max_mb": (float, 1, 10_000_000, "MB"),
    # webcam (LiveSettings)
    "window_s": (float, 1, 3600, "seconds"),
    "smoothing_s": (float, 0, 10, "seconds"),
    "track_ttl_s": (float, 0.1, 60, "seconds"),
    "queue_size": (int, 1, 100_000, "reports"),
    # audience screenings (AudienceSettings)
    "min_viewer_s": (float, 0, 3600, "seconds"),
    "stitch_gap_s": (float, 0, 36000, "seconds"),
    "attention_yaw": (float, 0.05, 2, "(nose offset / eye distance)"),
    "expressive_threshold": (float, 0.05, 0.99, "(probability)"),
    "peak_window_s": (float, 1, 600, "seconds"),
    # the REST service and batch runs (emotion.service)
    "port": (int, 1, 65535, ""),
    "workers": (int, 1, 256, "analyses at once"),
    "max_upload_mb": (float, 0.001, 1_000_000, "MB"),
    "result_ttl_h": (float, 0.001, 87_600, "hours"),
    "max_photo_mb": (float, 0.001, 10_000, "MB"),
    "max_queued": (int, 1, 100_000, "jobs waiting"),
    "max_photos_at_once": (int, 1, 1024, "photos analysed at once"),
}


def check_number(name: str, value, limit: str | None = None):
    """``value`` as the int or float :data:`LIMITS` gives for ``limit`` (default ``name``), or SettingsError.

    >>> check_number("min_face", 24)
    24
    """
    kind, low, high, unit = LIMITS[limit or name]
    unit = f" {unit}" if unit else ""
    if kind is int:
        ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer)) \
            and low <= int(value) <= high
        if not ok:
            raise SettingsError(f"{name} must be an integer from {low:g} to {high:g}{unit}, got {value!r}")
        return int(value)
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating)) \
        and low <= float(value) <= high
    if not ok:
        raise SettingsError(f"{name} must be a number from {low:g} to {high:g}{unit}, got {value!r}")
    return float(value)


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else SettingsError listing them."""
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def check_cancel(cancel) -> Callable[[], bool]:
    """A long analysis's ``cancel`` argument as a check: None, a ``threading.Event`` or a callable."""
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):
        return cancel.is_set
    if callable(cancel):
        return lambda: bool(cancel())
    raise SettingsError("cancel must be a callable returning True to stop, or a threading.Event")


def _validate(obj, *names: str) -> None:
    """Check and normalise the named fields of a frozen dataclass in place."""
    for name in names:
        object.__setattr__(obj, name, check_number(name, getattr(obj, name)))


@dataclass(frozen=True)
class Settings:
    """Everything a user can choose for an analysis, validated once.

    ``model``: ``"bundled"``, a checkpoint directory or a hub id.
    ``detector``: ``auto`` (YuNet when available, else Haar), ``yunet`` or ``haar``.
    ``face_model``: a local YuNet ``.onnx`` (else ``$EMOTION_FACE_MODEL`` or a cached download).
    ``min_face``: smallest face side kept, in image pixels.
    ``threshold``: minimum YuNet score (Haar has no calibrated score and ignores it).
    ``backend``: how the emotion model runs (see :mod:`emotion.runtime`).
    ``max_side``: frames larger than this are downscaled for face detection only.
    ``margin``: extra context around each face crop, as a fraction of the face size.
    ``mirror``: average each face with its mirror image; ``None`` does what the checkpoint asks.

    >>> Settings(min_face=0)
    Traceback (most recent call last):
    ...
    emotion.errors.SettingsError: min_face must be an integer from 1 to 4096 pixels, got 0
    """

    model: str = "bundled"
    detector: str = "auto"
    face_model: str | None = None
    min_face: int = 20
    threshold: float = 0.6
    backend: str = "auto"
    max_side: int = 1280
    margin: float = 0.15
    mirror: bool | None = None

    def __post_init__(self) -> None:
        model = str(self.model).strip() if self.model is not None else ""
        if not model:
            raise SettingsError("model must be 'bundled', a checkpoint directory or a hub id, got an empty value")
        object.__setattr__(self, "model", model)
        check_choice("detector", self.detector, DETECTORS)
        check_choice("backend", self.backend, BACKENDS)
        if self.face_model is not None:
            object.__setattr__(self, "face_model", str(self.face_model))
        _validate(self, "min_face", "threshold", "max_side", "margin")
        if self.mirror is not None and not isinstance(self.mirror, (bool, np.bool_)):
            raise SettingsError(f"mirror must be True, False or None (as the model asks), got {self.mirror!r}")
        if self.mirror is not None:
            object.__setattr__(self, "mirror", bool(self.mirror))

    def replace(self, **changes) -> Settings:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_args(cls, args, **overrides) -> Settings:
        """Build from an ``argparse.Namespace``; attributes it lacks keep their defaults.

        ``--face-model`` arrives as ``args.face_model``; ``--min-face`` as ``args.min_face``.
        """
        kw = {}
        for f in fields(cls):
            if getattr(args, f.name, None) is not None:
                kw[f.name] = getattr(args, f.name)
        kw.update(overrides)
        return cls(**kw)


#: How a film's report is cut into rows (see :mod:`emotion.film.segments`).
SEGMENT_KINDS = ("scenes", "shots", "every")
_EVERY = re.compile(r"^every:(\d+(?:\.\d+)?)(?:s)?$")


@dataclass(frozen=True)
class Segments:
    """How a film is cut into the rows of its per-scene table: ``scenes``, ``shots`` or ``every`` N seconds.

    A crew's scene list is given separately (it is a file, not a word).
    """

    kind: str = "scenes"
    every: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in SEGMENT_KINDS:
            raise SettingsError(f"segments must be scenes, shots or every:N, got {self.kind!r}")
        if self.kind == "every" and not 0.5 <= self.every <= 3600:
            raise SettingsError(f"every:N needs N from 0.5 to 3600 seconds, got {self.every}")

    def __str__(self) -> str:
        return f"every:{self.every:g}" if self.kind == "every" else self.kind


def parse_segments(text: str | Segments) -> Segments:
    """``"scenes"``, ``"shots"`` or ``"every:N"`` (N seconds) -> :class:`Segments`, else a clear error."""
    if isinstance(text, Segments):
        return text
    value = str(text).strip().lower()
    if value in ("scenes", "shots"):
        return Segments(value)
    match = _EVERY.match(value)
    if match:
        return Segments("every", float(match[1]))
    raise SettingsError(f"segments must be 'scenes', 'shots' or 'every:N' (N seconds, e.g. every:10), got {text!r}")


@dataclass(frozen=True)
class FilmSettings:
    """Choices specific to films, validated on construction.

    ``fps``: frames sampled per second for faces (the cost driver).
    ``scene_detector``: ``content`` (hard cuts) or ``adaptive`` (steadier on camera motion);
    ``scene_threshold``: its threshold (None: PySceneDetect's default);
    ``min_scene_len``: shortest shot in seconds.
    ``smoothing``: Gaussian sigma in seconds over each face track (0: off);
    ``track_iou``: box overlap that continues a track.
    ``batch``: face crops per model call; ``threaded``: score faces while decoding goes on;
    ``thumb_width``: key-frame thumbnail width; ``checkpoint_every``: seconds between checkpoints (the
    first is saved with the first 16 samples).
    ``detect_side``: sampled frames are shrunk to this long side for face detection (and
    ``Settings.max_side`` if smaller); the minimum face size is scaled with them. On the shared
    trailer (640x360, 4 samples/s, YuNet) 480 found 65 faces, 640 found 60 and 320 found 53,
    while YuNet costs about a quarter at 480 of what it costs at 1280; faces smaller than about
    4% of the frame height are missed (raise it for crowd shots). On 165 frames of the shared films
    labelled by eye (tests/data/detector_faces.csv, benchmarks/bench_detector_recall.py), 480 finds
    49 of 60 readable faces with 2 false ones; 640 and 960 find fewer and more false ones.
    ``thorough``: YuNet looks at each sampled frame brightened and at it shrunk to 2/3, and the faces
    are merged (:class:`~emotion.face_search.ThoroughDetector`): 53 of 60 on that set, still 2 false ones.
    ``segments``: the report's rows: ``scenes`` (shots grouped), ``shots`` or ``every:N`` seconds;
    ``scene_list``: a crew's own scenes (a CSV path or ``(name, start, end)`` rows in seconds), which wins
    over ``segments``. Neither changes the analysis, only how it is cut (:mod:`emotion.film.segments`),
    so a cached analysis answers for any of them.

    >>> FilmSettings(fps=0)
    Traceback (most recent call last):
    ...
    emotion.errors.SettingsError: fps must be a number from 0.1 to 30 samples per second, got 0
    """

    fps: float = 4.0
    scene_detector: str = "content"
    scene_threshold: float | None = None
    min_scene_len: float = 0.5
    smoothing: float = 0.5
    track_iou: float = 0.3
    batch: int = 32
    threaded: bool = True
    thumb_width: int = 320
    checkpoint_every: float = 10.0
    detect_side: int = 480
    thorough: bool = True
    segments: str = "scenes"
    scene_list: str | tuple[tuple[str, float, float], ...] | None = None

    def __post_init__(self) -> None:
        check_choice("scene_detector", self.scene_detector, SCENE_DETECTORS)
        object.__setattr__(self, "segments", str(parse_segments(self.segments)))
        object.__setattr__(self, "scene_list", _scene_list(self.scene_list))
        names = ["fps", "min_scene_len", "smoothing", "track_iou", "checkpoint_every", "batch", "thumb_width",
                 "detect_side"]
        if self.scene_threshold is not None:
            names.append("scene_threshold")
        _validate(self, *names)
        for name in ("threaded", "thorough"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def replace(self, **changes) -> FilmSettings:
        return replace(self, **changes)

    def result_fields(self) -> dict[str, Any]:
        """The settings that change results (threads and checkpoint timing do not; the batch size can,
        by a rounding step, with reduced-precision backends)."""
        d = asdict(self)
        for name in ("threaded", "checkpoint_every", "segments", "scene_list"):  # rows are cut after the pass
            d.pop(name)
        return d


def _scene_list(value) -> str | tuple[tuple[str, float, float], ...] | None:
    """A crew's scene list as a CSV path (str) or hashable ``(name, start, end)`` rows; checked against the
    film (its length, its frame rate) when the report is cut (:func:`emotion.film.segments.segment_report`)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if not isinstance(value, Sequence):
        raise SettingsError(f"scene_list must be a CSV path or (name, start, end) rows, got {type(value).__name__}")
    rows = []
    for row in value:
        try:
            name, start, end = row
            rows.append((str(name), float(start), float(end)))
        except (TypeError, ValueError):
            raise SettingsError(f"scene_list rows must be (name, start seconds, end seconds), got {row!r}") from None
    return tuple(rows)


@dataclass(frozen=True)
class AudienceSettings:
    """How reaction recordings are read and a panel is summed (see :mod:`emotion.audience`).

    ``fps``: frames of each recording sampled per second; ``detect_side``: sampled frames are
    shrunk to this long side for face detection; ``batch``: face crops per model call.
    ``track_iou``: box overlap that continues a viewer's track between samples;
    ``stitch_gap_s``: a track that ends may be continued by one that starts near it up to this
    much later (a viewer who looked down or left the room); ``min_viewer_s``: face tracks shorter
    than this (or than a quarter of the recording, if that is less) are not viewers.
    ``attention_yaw``: how far the nose may sit from the eyes' midpoint, in eye distances, for a
    face to count as turned towards the screen. ``expressive_threshold``: a viewer is expressive
    when the mean probability of some emotion other than neutral passes it.
    ``peak_window_s``: audience peaks are rises over this many seconds. ``threaded``: score faces
    while decoding goes on (the same numbers either way). ``viewers``: ``seats`` (a fixed camera on
    a room: a viewer is a place where a face keeps coming back), ``tracks`` (face tracks stitched
    together: a camera held by hand, a laptop viewer) or ``auto`` (seats where a sample shows two
    faces or more and they sit still; see :mod:`emotion.audience.seats`). ``fit_faces``: before a
    recording is read, faces are looked for at full size in its first seconds, and ``detect_side``
    is raised until the smallest of them is :data:`~emotion.audience.scan.SMALLEST_DETECTED` px wide
    where they are detected (small faces at the back of a room; ``Settings.max_side`` caps it).
    ``blur_faces``: the still of the room kept for the seat map has its faces blurred.

    >>> AudienceSettings(fps=4).fps
    4.0
    """

    fps: float = 4.0
    detect_side: int = 480
    batch: int = 32
    track_iou: float = 0.3
    stitch_gap_s: float = 600.0
    min_viewer_s: float = 10.0
    attention_yaw: float = 0.4
    expressive_threshold: float = 0.5
    peak_window_s: float = 3.0
    checkpoint_every: float = 10.0
    threaded: bool = True
    viewers: str = "auto"
    fit_faces: bool = True
    blur_faces: bool = True

    def __post_init__(self) -> None:
        _validate(self, "fps", "detect_side", "batch", "track_iou", "stitch_gap_s", "min_viewer_s",
                  "attention_yaw", "expressive_threshold", "peak_window_s", "checkpoint_every")
        check_choice("viewers", self.viewers, ("auto", "seats", "tracks"))
        for name in ("fit_faces", "blur_faces"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.threaded, bool):
            raise SettingsError(f"threaded must be True or False, got {self.threaded!r}")

    def replace(self, **changes) -> AudienceSettings:
        return replace(self, **changes)

    def scan_fields(self) -> dict[str, Any]:
        """The settings that change what is read from a recording (the rest only change the summing)."""
        return {"fps": self.fps, "detect_side": self.detect_side, "fit_faces": self.fit_faces}
