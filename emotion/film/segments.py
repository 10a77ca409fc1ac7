"""A film report at another segmentation: scenes from shots, a crew's list, or fixed windows.

:func:`segment_report` is post-processing on a :class:`~emotion.film.report.VideoReport`
(fresh or loaded from the cache): it keeps the shot level as it is, makes the
scene list (:mod:`emotion.film.scenes`), sums the faces per scene
(:func:`emotion.film.timeline.regroup`) and picks each scene's thumbnail from
its shots. No frame is decoded and no model runs, so a crew can switch between
``scenes``, ``shots``, ``every:N`` and its own list at once.

>>> report = analyze_video("trailer.mp4", film=FilmSettings(segments="shots"))  # doctest: +SKIP
>>> len(segment_report(report, "scenes").scenes)                    # doctest: +SKIP
9
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from .scenelist import read_scene_list
from .scenes import (
    SceneGrouping,
    fixed_windows,
    group_shots,
    jpeg_signature,
    listed_scenes,
    parse_segments,
)

log = logging.getLogger(__name__)

SceneList = Sequence[tuple[str, float, float]]


def _key_shot(scene, row, shots, shot_rows, thumbs) -> int | None:
    """Index of the shot whose key frame stands for ``scene``: among shots with a key frame inside the
    scene, the one holding the scene's emotional peak, else the one with the most faces, then the longest."""
    inside = [i for i, r in enumerate(shot_rows)
              if thumbs[i] and math.isfinite(r.key_frame_s) and scene.start <= r.key_frame_s < scene.end]
    for i in inside:
        if row.dominant_emotion and shots[i].start <= row.peak_time_s < shots[i].end:
            return i
    if not inside:
        return None
    return max(inside, key=lambda i: (shot_rows[i].face_share * shot_rows[i].mean_faces, shots[i].duration))


def segment_report(report, segments="scenes", scene_list: str | os.PathLike | SceneList | None = None,
                   grouping: SceneGrouping | None = None):
    """``report`` with its scenes made by ``segments`` (``scenes``, ``shots``, ``every:N``) or ``scene_list``.

    ``scene_list`` (a CSV path, or ``(name, start, end)`` tuples in seconds)
    wins over ``segments``. Raises :class:`~emotion.errors.SettingsError` for
    a bad segmentation or scene list.
    """
    started = time.perf_counter()
    seg = parse_segments(segments)
    film = report.film.replace(segments=str(seg), scene_list=scene_list) if report.film is not None else None
    shots_tl = report.shot_level
    shot_thumbs = report.shot_images
    shots = shots_tl.scenes
    end = shots[-1].end if shots else 0.0
    fps = report.info.fps
    notes: list[str] = []
    names: tuple[str, ...] = ()
    if scene_list is not None:
        if isinstance(scene_list, (str, os.PathLike)):
            label = f"scene list {Path(scene_list).name}"
            scene_list = read_scene_list(scene_list, fps)
        else:
            label = "scene list"
        scenes, names, notes = listed_scenes(scene_list, end, fps)
    elif seg.kind == "shots":
        return replace(report, timeline=shots_tl, thumbnails=shot_thumbs, shot_timeline=None,
                       shot_thumbnails=(), segmentation="shots", film=film)
    elif seg.kind == "every":
        label = str(seg)
        scenes = fixed_windows(seg.every, end, fps)
    else:
        label = "scenes"
        signatures = [jpeg_signature(t) for t in shot_thumbs]
        scenes = group_shots(shots, signatures, grouping)
    from .timeline import regroup

    draft = regroup(shots_tl, scenes, names=names)
    key_times: dict[int, float] = {}
    thumbs: list[bytes] = []
    for scene, row in zip(scenes, draft.rows):
        k = _key_shot(scene, row, shots, shots_tl.rows, shot_thumbs)
        thumbs.append(shot_thumbs[k] if k is not None else b"")
        key_times[scene.number] = shots_tl.rows[k].key_frame_s if k is not None else float("nan")
    timeline = regroup(shots_tl, scenes, key_times, names)
    warnings = tuple(w for w in report.warnings if w not in notes) + tuple(notes)
    log.debug("%s: %d shots -> %d %s in %.3f s", report.source, len(shots), len(scenes), label,
              time.perf_counter() - started)
    return replace(report, timeline=timeline, thumbnails=tuple(thumbs), shot_timeline=shots_tl,
                   shot_thumbnails=shot_thumbs, segmentation=label, warnings=warnings, film=film)


def scene_of_shots(report) -> np.ndarray:
    """The scene number (1-based) each shot starts in."""
    from .shots import scene_numbers

    return scene_numbers(report.scenes, np.array([s.start for s in report.shots], np.float64) + 1e-6)
