"""Audience jobs of the REST service: a film and its reaction recordings, analysed as ``python -m emotion audience`` does.

The film is analysed first (or answered from its cache), then each reaction
is aligned to it by sound (or by the offset the client gave) and its
viewers' expressions are read; the panel is summed per second and per scene.
The result files are the CLI's (:func:`emotion.audience.output.result_files`): ``scenes.csv``
(``--scenes-csv``), ``seconds.csv``, ``viewers.csv``, ``report.json`` and ``report.html``.

>>> audience_settings(Settings(detector="haar"), {"fps": 2})[2].fps
2.0
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

from ..errors import SettingsError, SyncError
from ..settings import AudienceSettings, FilmSettings, Settings
from .config import CLIENT_FILM_SETTINGS, CLIENT_SETTINGS

def audience_settings(base: Settings, options: dict[str, Any] | None) -> tuple[Settings, FilmSettings,
                                                                                   AudienceSettings]:
    """``(Settings, FilmSettings, AudienceSettings)`` for an audience job's ``settings``, or SettingsError.

    ``fps`` (default 4, as the CLI's ``--fps``) samples the film and the reactions alike; ``viewers``
    (``auto``, ``seats``, ``tracks``) as the CLI's ``--viewers``; ``ray: true`` reads each recording in
    time spans on Ray workers, as the CLI's ``--ray``: on the Ray the server was told of
    (``$EMOTION_RAY_ADDRESS``; a local Ray when unset). A client never names a cluster address.
    """
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise SettingsError("settings must be a JSON object such as {\"fps\": 2}")
    allowed = (*CLIENT_SETTINGS, *CLIENT_FILM_SETTINGS, "viewers", "ray")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; an audience job accepts {', '.join(allowed)}")
    settings = base.replace(**{k: options[k] for k in CLIENT_SETTINGS if k in options})
    film = FilmSettings(**{k: options[k] for k in CLIENT_FILM_SETTINGS if k in options})
    if not isinstance(options.get("ray", False), bool):
        raise SettingsError("ray must be true or false (the server decides which Ray cluster it uses)")
    return settings, film, AudienceSettings(fps=film.fps, viewers=options.get("viewers", "auto"))


def check_offsets(offsets: Any, names: list[str]) -> dict[str, float]:
    """The client's ``offsets`` object ``{reaction file name: seconds}``, checked; or SettingsError.

    >>> check_offsets({"row1.mp4": 12.5}, ["row1.mp4", "row2.mp4"])
    {'row1.mp4': 12.5}
    """
    if offsets is None:
        return {}
    if not isinstance(offsets, dict):
        raise SettingsError("offsets must be a JSON object {\"reaction.mp4\": SECONDS}: the recording time at "
                            "which the film starts")
    out = {}
    for name, value in offsets.items():
        if name not in names:
            raise SettingsError(f"offsets: {name!r} is not one of the reactions ({', '.join(names)})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SettingsError(f"offsets: {name!r} needs a number of seconds, got {value!r}")
        out[name] = float(value)
    return out


def check_offset_range(offsets: dict[str, float], film_s: float, recordings: dict[str, float]) -> None:
    """SettingsError for an offset that puts the film wholly outside its recording.

    An offset is the recording time at which the film starts: from minus the film's length (the recording
    began just before the film ended) to the recording's length (the film started as it ended).

    >>> check_offset_range({"row1.mp4": 1e308}, 120.0, {"row1.mp4": 95.0})
    Traceback (most recent call last):
    ...
    emotion.errors.SettingsError: offsets: 'row1.mp4' is 1e+308 s, beyond its recording: the film must start between -120.0 s and 95.0 s of it (the recording is 95.0 s long)
    """
    for name, offset in offsets.items():
        length = recordings.get(name)
        if length is None or not (length > 0 and film_s > 0):
            continue
        if not -film_s <= offset <= length:
            raise SettingsError(f"offsets: {name!r} is {offset:g} s, beyond its recording: the film must start "
                                f"between {-film_s:.1f} s and {length:.1f} s of it (the recording is "
                                f"{length:.1f} s long)")


def run_audience(job, base: Settings, *, cancel=None, progress: Callable[[float, float | None], None] | None = None,
                 cache_dir: str | os.PathLike | None = None):
    """Analyse an audience job: ``(AudienceReport, {file name: bytes})``; raises the library's errors.

    ``progress(fraction, eta_s)`` runs over the whole job: the film, then each reaction in turn.
    """
    from ..audience import analyze_audience, analyze_reaction, sync_offset
    from ..audience.output import result_files
    from ..detector import get_detector
    from ..film import analyze_video

    settings, film_settings, audience = audience_settings(base, job.options)
    detector = get_detector(settings)
    stages = 1 + len(job.reactions)

    def stage(i: int):
        if progress is None:
            return None

        def report(p) -> None:
            fraction = min(1.0, max(0.0, p.fraction or 0.0))
            # the ETA of the last stage is the job's; before it, there is no honest estimate
            progress((i + fraction) / stages, p.eta if i == stages - 1 else None)
        return report

    film = analyze_video(job.source, settings, film_settings, detector=detector, progress=stage(0), cancel=cancel,
                         cache=cache_dir or True)
    reactions = []
    for i, r in enumerate(job.reactions, start=1):
        offset = r.get("offset_s")
        if offset is None:
            try:
                offset = sync_offset(job.source, r["path"], name=r["name"])
            except SyncError as exc:
                raise SyncError(f"{exc}: in the request, as offsets {{\"{r['name']}\": SECONDS}}") from exc
        reactions.append(analyze_reaction(r["path"], offset, settings, audience, detector=detector, cancel=cancel,
                                          progress=stage(i), name=r["name"], ray=_ray_address(job.options)))
    report = analyze_audience(film, reactions, audience)
    return report, result_files(report)


def _ray_address(options: dict[str, Any] | None) -> str | None:
    """Where a job asking for ``ray: true`` runs: ``$EMOTION_RAY_ADDRESS``, else a local Ray."""
    if not (options or {}).get("ray"):
        return None
    return os.environ.get("EMOTION_RAY_ADDRESS", "").strip() or "local"
