"""The files a film analysis leaves for the crew, the same for the CLI, the service and batch runs.

``scenes.csv``, ``shots.csv``, ``frames.csv``, ``report.json`` and ``report.html``
(what ``python -m emotion film`` writes with ``--scenes-csv``, ``--shots-csv``,
``--frames-csv``, ``--json`` and ``--report``), plus the headline numbers that
go in a batch index or a job's status.

>>> sorted(RESULT_FILES)
['frames.csv', 'report.html', 'report.json', 'scenes.csv', 'shots.csv']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..io import atomic_write, private_dir

#: file name -> media type of each result file
RESULT_FILES: dict[str, str] = {
    "scenes.csv": "text/csv; charset=utf-8",
    "shots.csv": "text/csv; charset=utf-8",
    "frames.csv": "text/csv; charset=utf-8",
    "report.json": "application/json",
    "report.html": "text/html; charset=utf-8",
}


def render_results(report) -> dict[str, bytes]:
    """Every result file of a :class:`~emotion.film.report.VideoReport`, as ``{name: bytes}``.

    >>> files = render_results(report)          # doctest: +SKIP
    >>> files["scenes.csv"][:5]                 # doctest: +SKIP
    b'scene'
    """
    from ..film.report_html import html_report

    texts = {"scenes.csv": report.scenes_csv(), "shots.csv": report.shots_csv(), "frames.csv": report.frames_csv(),
             "report.json": report.to_json() + "\n", "report.html": html_report(report)}
    return {name: text.encode("utf-8") for name, text in texts.items()}


def headline(report) -> dict[str, Any]:
    """The numbers a producer scans first: length, scenes, shots, faces, the dominant emotion."""
    overall = report.timeline.overall()
    return {"duration_s": round(float(report.info.duration), 3), "scenes": len(report.scenes),
            "shots": len(report.shots), "sampled_frames": overall.get("sampled_frames", 0),
            "faces": overall.get("faces", 0), "face_share": overall.get("face_share", 0.0),
            "dominant_emotion": overall.get("dominant_emotion", ""),
            "dominant_share": overall.get("dominant_share", ""), "valence": overall.get("valence", ""),
            "complete": bool(report.complete)}


def write_atomic(path: str | os.PathLike, data: bytes, private: bool = False) -> None:
    """Write ``data`` so that a reader sees the old file or the new one, never half of it; ``private``: 0600
    (the service's results describe people's faces)."""
    atomic_write(path, data, mode=0o600 if private else None)


def write_results(folder: str | os.PathLike, files: dict[str, bytes], private: bool = False) -> Path:
    """Write :func:`render_results`'s files into ``folder`` (created if missing); returns the folder.

    ``private``: the folder 0700 and the files 0600 (the service's state folder may be shared by local users).
    """
    folder = private_dir(folder) if private else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomic(folder / name, data, private)
    return folder
