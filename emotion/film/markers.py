"""Editor markers at scene starts and emotional peaks: a CMX3600 EDL and a marker CSV.

Both use SMPTE timecode at the film's own frame rate (:mod:`emotion.film.smpte`;
drop-frame ``HH:MM:SS;FF`` at 29.97). Times are the film's own, from
``00:00:00:00``; ``start`` moves them (e.g. ``"01:00:00:00"`` for a timeline
that starts at one hour).

* :func:`edl`: one single-frame event per marker, with the marker in two
  dialects: a ``* LOC:`` locator comment (Avid, Premiere) and DaVinci
  Resolve's ``|C:ResolveColorBlue |M:name |D:1`` line right under the event, which Resolve reads with *Timeline >
  Import > Timeline Markers from EDL*.
* :func:`markers_csv`: the columns of Premiere Pro's marker list (``Marker
  Name, Description, In, Out, Duration, Marker Type``) plus ``Color`` and
  ``Seconds``, for scripts, spreadsheets and Resolve/Premiere marker importers.

>>> print(edl(report).splitlines()[0])                              # doctest: +SKIP
TITLE: pjo_teaser_trailer
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .smpte import frame_at, is_drop_frame, parse_smpte, smpte_from_frame
from .summary import summarize

#: Marker colours: scene starts blue, peaks by emotion (Resolve's marker colour names).
SCENE_COLOUR = "Blue"
PEAK_COLOURS = {"happy": "Yellow", "surprise": "Cyan", "sad": "Purple", "angry": "Red", "fear": "Green",
                "disgust": "Cocoa", "contempt": "Sand", "neutral": "Cream"}


@dataclass(frozen=True)
class Marker:
    """One marker: ``time`` in seconds, a short ``name``, a longer ``note`` and a colour."""

    time: float
    name: str
    note: str
    colour: str


def report_markers(report, peaks: int = 5) -> list[Marker]:
    """A marker at each scene start (its name, dominant emotion) and at the top ``peaks`` peaks, in time order."""
    out = []
    for r in report.rows:
        title = f"Scene {r.scene}" + (f" {r.name}" if r.name else "")
        note = f"{r.dominant_emotion} {r.dominant_share:.0%}, faces in {r.face_share:.0%} of frames" \
            if r.dominant_emotion else "no face"
        out.append(Marker(r.start_s, title, note, SCENE_COLOUR))
    for m in summarize(report, top=peaks).top_peaks:
        out.append(Marker(m.start, f"Peak {m.emotion} {m.value:.0%}", f"strongest {m.emotion} in shot {m.number}",
                          PEAK_COLOURS.get(m.emotion, "Pink")))
    return sorted(out, key=lambda m: (m.time, m.colour != SCENE_COLOUR))


def _clean(text: str) -> str:
    return " ".join(str(text).replace("|", "/").split())


def _frames(report, start: str | None) -> tuple[float, int]:
    fps = report.info.fps
    return fps, (parse_smpte(start, fps) if start else 0)


def edl(report, start: str | None = None, peaks: int = 5) -> str:
    """The CMX3600 EDL text of :func:`report_markers` (one event per marker, one frame long)."""
    fps, offset = _frames(report, start)
    drop = is_drop_frame(fps)
    title = Path(report.source).stem or "film"
    lines = [f"TITLE: {_clean(title)}", f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}", ""]
    for i, m in enumerate(report_markers(report, peaks), start=1):
        f = offset + frame_at(m.time, fps)
        a, b = smpte_from_frame(f, fps), smpte_from_frame(f + 1, fps)
        lines.append(f"{i:03d}  001      V     C        {a} {b} {a} {b}")
        lines.append(f" |C:ResolveColor{m.colour} |M:{_clean(m.name)} |D:1")
        lines.append(f"* LOC: {a} {m.colour.lower():<7} {_clean(m.name)}: {_clean(m.note)}")
        lines.append(f"* FROM CLIP NAME: {_clean(report.source)}")
        lines.append("")
    return "\n".join(lines)


def markers_csv(report, start: str | None = None, peaks: int = 5) -> str:
    """The marker list as CSV (Premiere's marker columns plus colour and seconds)."""
    fps, offset = _frames(report, start)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["Marker Name", "Description", "In", "Out", "Duration", "Marker Type", "Color", "Seconds"])
    zero = smpte_from_frame(0, fps)
    for m in report_markers(report, peaks):
        tc = smpte_from_frame(offset + frame_at(m.time, fps), fps)
        writer.writerow([m.name, m.note, tc, tc, zero, "Comment", m.colour, f"{m.time:.3f}"])
    return buf.getvalue()
