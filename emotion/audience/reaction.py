"""A viewer's reaction on the film's clock: :func:`analyze_reaction` -> :class:`Reaction`.

A reaction recording (a webcam, a phone, a screening-room camera) is scanned
once (:mod:`.scan`: faces, landmarks and emotions a few times a second, cached
by content), its faces are grouped into viewers (:mod:`.viewers`), and each
sample is put on the film's clock with the offset found from the sound
(:func:`~emotion.audience.sync.sync_offset`) or given by hand:
film time = recording time - offset.

>>> sync = sync_offset("film.mp4", "row3.mp4")                   # doctest: +SKIP
>>> reaction = analyze_reaction("row3.mp4", sync)                 # doctest: +SKIP
>>> reaction.viewers, reaction.offset_s                           # doctest: +SKIP
(2, 12.48)
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AnalysisCancelled, SettingsError
from ..labels import CANONICAL
from ..paths import cache_dir as _cache_root
from ..settings import AudienceSettings, Settings, check_cancel
from ..film.cache import PassCache
from ..film.state import PassState
from .scan import fit_detect_side, scan_key, scan_recording
from .sync import SyncResult, film_times
from .seats import group_viewers
from .viewers import attention

log = logging.getLogger(__name__)

SYNC_KINDS = ("audio", "manual", "live")


@dataclass(frozen=True, eq=False)
class Reaction:
    """One recording's viewers, sample by sample, on the film's clock.

    ``recording_time`` (T,) are the sampled moments in the recording (s);
    :attr:`film_time` maps them to the film. Per viewer (V) and moment:
    ``face`` (V, T) whether the viewer's face was seen, ``attentive`` (V, T)
    whether it was turned towards the screen, ``probs`` (V, T, L) the
    emotion probabilities over ``labels`` (NaN where no face). ``sync`` is
    ``"audio"`` (offset from the sound, with ``confidence``), ``"manual"``, or
    ``"live"`` (a live screening: ``recording_time`` is the session's clock and
    ``pieces`` its play segments, see :mod:`emotion.audience.live`).

    >>> r = Reaction("v.mp4", ("happy", "neutral"), [0.0, 0.5], [[True, False]], [[True, False]],
    ...              [[[0.9, 0.1], [np.nan, np.nan]]], offset_s=-10.0)
    >>> r.viewers, r.film_time.tolist()
    (1, [10.0, 10.5])
    """

    name: str
    labels: tuple[str, ...]
    recording_time: np.ndarray
    face: np.ndarray
    attentive: np.ndarray
    probs: np.ndarray
    offset_s: float = 0.0
    sync: str = "manual"
    confidence: float | None = None
    pieces: tuple[tuple[float, float], ...] = ()
    recording_duration_s: float = 0.0
    warnings: tuple[str, ...] = ()
    sync_result: SyncResult | None = field(default=None, repr=False)
    grouping: str = "tracks"            # how faces became viewers: "seats" (fixed camera) or "tracks"
    grouping_reason: str = ""
    viewer_boxes: np.ndarray | None = field(default=None, repr=False)   # (viewers, 4) median box, recording px
    frame_size: tuple[int, int] = (0, 0)  # the recording's width and height
    detect_side: int = 0                 # the long side its frames were searched at (0: the default)
    smallest_face_px: float = 0.0        # the smallest face width seen when choosing it (0: none or not chosen)
    still: bytes = field(default=b"", repr=False, compare=False)   # JPEG of the room, faces blurred (seat map)

    def __post_init__(self) -> None:
        labels = tuple(self.labels)
        if not labels or any(lab not in CANONICAL for lab in labels):
            raise ValueError(f"Reaction.labels: expected canonical emotion names, got {labels}")
        t = np.array(self.recording_time, np.float64).reshape(-1)
        n = len(t)
        face = np.array(self.face, dtype=bool)
        if face.size == 0:
            face = np.zeros((0, n), bool)
        if face.ndim != 2 or face.shape[1] != n:
            raise ValueError(f"Reaction.face: expected shape (viewers, {n}), got {face.shape}")
        v = face.shape[0]
        attentive = np.array(self.attentive, dtype=bool)
        if attentive.size == 0:
            attentive = np.zeros(face.shape, bool)
        if attentive.shape != face.shape:
            raise ValueError(f"Reaction.attentive: expected shape {face.shape}, got {attentive.shape}")
        probs = np.array(self.probs, np.float32)
        if probs.size == 0:
            probs = np.zeros((v, n, len(labels)), np.float32)
        if probs.shape != (v, n, len(labels)):
            raise ValueError(f"Reaction.probs: expected shape ({v}, {n}, {len(labels)}), got {probs.shape}")
        if self.sync not in SYNC_KINDS:
            raise ValueError(f"Reaction.sync: expected one of {SYNC_KINDS}, got {self.sync!r}")
        if not math.isfinite(float(self.offset_s)):
            raise ValueError(f"Reaction.offset_s: expected a finite number of seconds, got {self.offset_s}")
        pieces = tuple((float(a), float(b)) for a, b in self.pieces) or ((0.0, float(self.offset_s)),)
        vboxes = np.zeros((v, 4), np.float32) if self.viewer_boxes is None else \
            np.array(self.viewer_boxes, np.float32).reshape(-1, 4)
        if len(vboxes) != v:
            raise ValueError(f"Reaction.viewer_boxes: expected {v} rows, got {len(vboxes)}")
        vboxes.setflags(write=False)
        object.__setattr__(self, "viewer_boxes", vboxes)
        for arr in (t, face, attentive, probs):
            arr.setflags(write=False)
        for name, value in (("labels", labels), ("recording_time", t), ("face", face), ("attentive", attentive),
                            ("probs", probs), ("pieces", pieces), ("offset_s", float(self.offset_s)),
                            ("warnings", tuple(self.warnings))):
            object.__setattr__(self, name, value)

    @property
    def viewers(self) -> int:
        return int(self.face.shape[0])

    @property
    def film_time(self) -> np.ndarray:
        """Film time (s) of each sampled moment; negative or past the film's end where it did not play."""
        return film_times(self.recording_time, self.pieces)

    def with_offset(self, offset: float | SyncResult) -> Reaction:
        """The same reaction on another offset (a number given by hand, or a :class:`SyncResult`)."""
        return replace(self, **_timing(offset))

    def summary(self) -> dict[str, Any]:
        """JSON-ready: name, offset, how it was found, confidence, viewers and how much was seen."""
        return {"name": self.name, "offset_s": round(self.offset_s, 4), "sync": self.sync,
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "viewers": self.viewers, "samples": len(self.recording_time),
                "recording_duration_s": round(self.recording_duration_s, 3),
                "face_share": [round(float(f.mean()), 4) if f.size else 0.0 for f in self.face],
                "pieces": [{"from_s": round(a, 3), "offset_s": round(b, 4)} for a, b in self.pieces],
                "viewers_by": self.grouping, "viewers_by_reason": self.grouping_reason,
                "detect_side": self.detect_side, "smallest_face_px": round(self.smallest_face_px, 1),
                "frame_size": list(self.frame_size),
                "viewer_positions": [{"x": round(float((b[0] + b[2]) / 2)), "y": round(float((b[1] + b[3]) / 2)),
                                      "face_px": round(float(b[2] - b[0]))} for b in self.viewer_boxes],
                "warnings": list(self.warnings)}


def _timing(offset: float | SyncResult) -> dict[str, Any]:
    if isinstance(offset, SyncResult):
        return {"offset_s": offset.offset_s, "sync": "audio", "confidence": offset.confidence,
                "pieces": offset.pieces, "sync_result": offset}
    try:
        value = float(offset)
    except (TypeError, ValueError):
        raise SettingsError(f"the film offset must be a number of seconds or a SyncResult, got {offset!r}") from None
    if not math.isfinite(value):
        raise SettingsError(f"the film offset must be a finite number of seconds, got {offset!r}")
    return {"offset_s": value, "sync": "manual", "confidence": None, "pieces": ((0.0, value),),
            "sync_result": None}


def reaction_from_scan(name: str, scan: PassState, audience: AudienceSettings,
                       offset: float | SyncResult = 0.0) -> Reaction:
    """Group a scan's faces into viewers and put them on the film's clock."""
    faces = scan.faces.table()
    t = np.asarray(scan.sample_time, np.float64)
    found = group_viewers(t, faces.samples, faces.boxes, fps=audience.fps, grouping=audience.viewers,
                          iou=audience.track_iou, stitch_gap_s=audience.stitch_gap_s,
                          min_viewer_s=audience.min_viewer_s, duration=scan.duration)
    viewer, count = found.viewer, found.count
    labels = tuple(scan.labels)
    face = np.zeros((count, len(t)), bool)
    attentive = np.zeros((count, len(t)), bool)
    probs = np.full((count, len(t), len(labels)), np.nan, np.float32)
    rows = np.flatnonzero(viewer > 0)
    if len(rows):
        v, s = viewer[rows] - 1, faces.samples[rows]
        face[v, s] = True
        if faces.landmarks is not None:   # without landmarks (Haar) every face counts as attentive
            attentive[v, s] = attention(faces.landmarks[rows], audience.attention_yaw)
        else:
            attentive[v, s] = True
        probs[v, s] = faces.probs[rows]
    warnings = []
    if not scan.complete:
        warnings.append(f"{name}: decoding stopped at {t[-1] if len(t) else 0:.1f} s ({scan.reason}); the reaction "
                        "covers what could be read")
    if count == 0:
        warnings.append(f"{name}: no viewer's face was found; check that the camera sees the audience and that the "
                        "faces are large enough (try the YuNet detector or a smaller minimum face size)")
    timing = _timing(offset)
    if timing["sync_result"] is not None:
        warnings.extend(timing["sync_result"].warnings)
    return Reaction(name=name, labels=labels, recording_time=t, face=face, attentive=attentive, probs=probs,
                    recording_duration_s=scan.duration, warnings=tuple(warnings), grouping=found.grouping,
                    grouping_reason=found.reason, viewer_boxes=found.boxes, detect_side=int(scan.detect_side),
                    smallest_face_px=float(scan.smallest_face),
                    frame_size=(int(scan.width), int(scan.height)), **timing)


def _drop_old_scans(root: Path) -> None:
    """Remove reaction scans saved as ``.npz`` by versions before scans and films shared one cache format
    (never read again; the scan is made anew once)."""
    for old in root.glob("*.npz"):
        try:
            old.unlink(missing_ok=True)
        except OSError:
            pass


def default_cache_dir() -> Path:
    """Where reaction scans live: ``<emotion cache>/audience/reactions``."""
    return _cache_root("audience") / "reactions"


def analyze_reaction(recording: str | os.PathLike, film_offset_s: float | SyncResult, settings: Settings | None = None,
                     audience: AudienceSettings | None = None, *, fps: float | None = None, detector=None,
                     progress=None, cancel=None, cache: bool = True, cache_dir: str | os.PathLike | None = None,
                     content_hash: str | None = None, name: str | None = None, ray: str | None = None,
                     workers: int = 2) -> Reaction:
    """Every viewer's expressions in a reaction recording, on the film's clock.

    ``film_offset_s`` is the recording time at which the film starts (a
    number given by hand) or the :class:`SyncResult` of
    :func:`~emotion.audience.sync.sync_offset` (then a paused screening is
    aligned piece by piece). ``settings`` picks model and face detector,
    ``audience`` the sampling and viewer options (``fps`` overrides its rate).
    ``progress(Progress)`` is called a few times a second; ``cancel`` stops
    with :class:`~emotion.errors.AnalysisCancelled`. With ``cache`` the scan
    (which does not depend on the offset) is kept under ``cache_dir``
    (default :func:`default_cache_dir`) and an interrupted one resumes.
    ``ray`` (``"local"``, or a cluster's address) reads the recording in time
    spans on Ray workers (``workers`` of them on a local Ray) and joins them:
    the same numbers as one pass (:mod:`emotion.audience.chunks`).

    >>> reaction = analyze_reaction("viewer1.mp4", 12.5, fps=4)     # doctest: +SKIP
    >>> reaction.viewers                                             # doctest: +SKIP
    1
    """
    from ..film.cache import file_hash
    from ..film.video import open_video

    settings = settings or Settings()
    audience = audience or AudienceSettings()
    if fps is not None:
        audience = audience.replace(fps=fps)
    _timing(film_offset_s)  # a bad offset fails before minutes of work
    cancelled = check_cancel(cancel)
    with open_video(recording) as video:
        if detector is None:
            from ..detector import get_detector

            detector = get_detector(settings)
        label = name or video.name
        store = key = None
        if cache and isinstance(recording, (str, os.PathLike)):
            key = scan_key(content_hash or file_hash(recording), detector, settings, audience)
            store = PassCache(cache_dir or default_cache_dir(), keep=256)
            _drop_old_scans(store.root)
        state = store.load(key) if store else None
        if state is not None and state.labels != tuple(detector.model.labels):
            state = None
        if state is None or not state.done:
            if state is None:
                state = PassState.for_reactions(tuple(detector.model.labels), video.info.width, video.info.height,
                                                video.info.duration)
                if audience.fit_faces and isinstance(recording, (str, os.PathLike)):
                    state.detect_side, state.smallest_face = fit_detect_side(recording, detector, settings, audience)
                    log.info("%s: faces read at %d px (smallest face seen %.0f px)", label, state.detect_side,
                             state.smallest_face)
            else:
                log.info("%s: resuming the reaction scan at %.1f s", label, state.last_sample)
            save = (lambda s: store.save(key, s)) if store else None
            try:
                if ray is not None and isinstance(recording, (str, os.PathLike)):
                    state = _scan_with_ray(recording, state, settings, audience, ray, workers, progress)
                    if save is not None:
                        save(state)
                else:
                    scan_recording(video, detector, settings, audience, state, progress=progress,
                                   cancelled=cancelled, save=save)
            except AnalysisCancelled as exc:
                exc.partial = reaction_from_scan(label, state, audience, film_offset_s)
                raise
        else:
            log.info("%s: loaded the finished reaction scan from %s", label, store.path(key))
    reaction = reaction_from_scan(label, state, audience, film_offset_s)
    if reaction.viewers and isinstance(recording, (str, os.PathLike)):
        reaction = replace(reaction, still=_still(recording, state, reaction, audience))
    return reaction


def _scan_with_ray(recording, state: PassState, settings, audience, address: str, workers: int,
                   progress) -> PassState:
    """A fresh scan of ``recording`` made in spans on Ray (an unfinished one is started again there)."""
    from ..film.sampling import Progress
    from .chunks import scan_on_ray

    fresh = PassState.for_reactions(state.labels, state.width, state.height, state.duration)
    fresh.detect_side, fresh.smallest_face = state.detect_side, state.smallest_face

    def told(fraction: float) -> None:
        if progress is not None:
            progress(Progress(fraction=fraction, position=fraction * state.duration, duration=state.duration,
                              frames=0, samples=0, faces=0, shots=0, elapsed=0.0, eta=None,
                              stage="analysing on Ray"))

    scan_on_ray(recording, fresh, settings, audience, address, workers, progress=told)
    return fresh


def _still(recording, state: PassState, reaction: Reaction, audience: AudienceSettings) -> bytes:
    """The room at the recording's middle, as :func:`~emotion.audience.seatmap.room_still` keeps it: every
    viewer's place and every face the scan saw within a second of that moment blurred (unless
    ``audience.blur_faces`` is off)."""
    from .seatmap import room_still

    middle = state.duration / 2
    boxes = np.zeros((0, 4), np.float32)
    if audience.blur_faces:
        faces = state.faces.table()
        times = np.asarray(state.sample_time, np.float64)
        near = np.abs(times[faces.samples] - middle) <= 1.0 if len(faces) else np.zeros(0, bool)
        boxes = np.concatenate([reaction.viewer_boxes, faces.boxes[near]])
    try:
        return room_still(recording, middle, boxes, reaction.frame_size)
    except Exception as exc:  # noqa: BLE001 - a missing picture must not lose the analysis
        log.warning("%s: no still of the room for the seat map (%s)", reaction.name, exc)
        return b""
