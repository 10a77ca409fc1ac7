"""A crew's own scene list: CSV rows of ``name,start,end``.

Times may be written as

* seconds: ``12``, ``12.5``;
* clock time: ``MM:SS``, ``HH:MM:SS`` or ``HH:MM:SS.mmm`` (``,`` works for ``.``);
* SMPTE timecode: ``HH:MM:SS:FF``, or ``HH:MM:SS;FF`` (drop-frame, 29.97 only),
  which needs the film's frame rate.

A first row whose start and end are not times is taken as a header and
skipped; blank lines and lines starting with ``#`` are ignored. Scenes must
not overlap; they may leave gaps (those parts become unnamed scenes). Every
mistake is reported with its line number and what to write instead.

>>> parse_scene_list("name,start,end\\nCold open,0,00:00:12.5\\nTitles,00:00:12:13,20", fps=25)
(('Cold open', 0.0, 12.5), ('Titles', 12.52, 20.0))
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

from ..errors import SettingsError
from .smpte import seconds_from_smpte

_SECONDS = re.compile(r"^\d+(?:[.,]\d+)?$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)$")
_SMPTE = re.compile(r"^\d{1,2}:\d{2}:\d{2}[:;]\d{2,3}$")
FORMATS = "seconds (12.5), HH:MM:SS[.mmm] or HH:MM:SS:FF"
#: Largest scene list read (a feature has a few hundred scenes).
MAX_BYTES = 2_000_000


def parse_time(text: str, fps: float | None = None) -> float:
    """Seconds for one time in any of the accepted formats; SettingsError says what is accepted.

    >>> parse_time("01:02:03.5"), parse_time("90"), parse_time("00:00:01:12", fps=24)
    (3723.5, 90.0, 1.5)
    """
    value = text.strip()
    if _SECONDS.match(value):
        return float(value.replace(",", "."))
    if _SMPTE.match(value):
        if not fps:
            raise SettingsError(f"'{value}' is a timecode with frames, which needs the film's frame rate; "
                                "give times in seconds or HH:MM:SS.mmm instead")
        return round(seconds_from_smpte(value, fps), 6)
    match = _CLOCK.match(value)
    if match:
        hours, minutes, seconds = int(match[1] or 0), int(match[2]), float(match[3].replace(",", "."))
        if minutes > 59 or seconds >= 60:
            raise SettingsError(f"'{value}' is not a valid time: minutes and seconds go up to 59")
        return hours * 3600 + minutes * 60 + seconds
    raise SettingsError(f"'{value}' is not a time: write {FORMATS}")


def _is_time(text: str) -> bool:
    value = text.strip()
    return bool(_SECONDS.match(value) or _SMPTE.match(value) or _CLOCK.match(value))


def parse_scene_list(text: str, fps: float | None = None,
                     source: str = "scene list") -> tuple[tuple[str, float, float], ...]:
    """``(name, start, end)`` per scene, in order; SettingsError for any mistake, naming the line."""
    if not text.strip():
        raise SettingsError(f"{source} is empty: write one scene per line as name,start,end")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    out: list[tuple[str, float, float]] = []
    first = True
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if first and len(cells) >= 3 and not _is_time(cells[1]) and not _is_time(cells[2]):
            first = False
            continue  # a header such as name,start,end
        first = False
        if len(cells) != 3:
            raise SettingsError(f"{source}, line {number}: expected 3 columns name,start,end, got {len(cells)}"
                                " (put a name with a comma in double quotes)")
        name, start_text, end_text = cells
        try:
            start, end = parse_time(start_text, fps), parse_time(end_text, fps)
        except SettingsError as exc:
            raise SettingsError(f"{source}, line {number}: {exc}") from None
        if end <= start:
            raise SettingsError(f"{source}, line {number}: scene '{name}' ends ({end_text}) before or when it "
                                f"starts ({start_text})")
        if out and start < out[-1][2] - 1e-6:
            raise SettingsError(f"{source}, line {number}: scene '{name}' starts at {start_text}, before the "
                                f"previous scene '{out[-1][0]}' ends; scenes must be in order and not overlap")
        out.append((name or f"Scene {len(out) + 1}", start, end))
    if not out:
        raise SettingsError(f"{source} has no scenes: write one scene per line as name,start,end")
    return tuple(out)


def read_scene_list(path: str | os.PathLike, fps: float | None = None) -> tuple[tuple[str, float, float], ...]:
    """:func:`parse_scene_list` of a file (UTF-8), with plain errors for a missing or unreadable file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SettingsError(f"the scene list {path.name} is larger than {MAX_BYTES // 1_000_000} MB; "
                                "is it the right file?")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SettingsError(f"the scene list {path.name} does not exist; check the path") from None
    except UnicodeDecodeError:
        raise SettingsError(f"the scene list {path.name} is not a UTF-8 text file; save it as CSV") from None
    except OSError as exc:
        raise SettingsError(f"the scene list {path.name} could not be read ({exc.strerror or 'error'})") from None
    return parse_scene_list(text, fps, source=path.name)
