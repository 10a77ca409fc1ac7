"""Every file a film analysis gives a crew: free functions over a :class:`~emotion.film.report.VideoReport`.

The CLI (``python -m emotion film``), the Film page's downloads, the service and
batch runs all call these, so a file is the same wherever it is made:

* :func:`scenes_csv`, :func:`shots_csv`, :func:`frames_csv`: the per-scene table (the headline
  export), one row per shot, every sampled frame and face;
* :func:`report_json`: the summary and every number above, as JSON;
* :func:`html_report`: a self-contained page to email to the crew (below);
* :func:`edl`, :func:`markers_csv`: editor markers at scene starts and emotional peaks (below);
* :func:`result_files`: the bundle a job or batch run leaves (``RESULT_FILES``), and
  :func:`headline`: the numbers a producer scans first.

**Markers.** Both use SMPTE timecode at the film's own frame rate (:mod:`emotion.film.smpte`;
drop-frame ``HH:MM:SS;FF`` at 29.97). Times are the film's own, from ``00:00:00:00``; ``start``
moves them (e.g. ``"01:00:00:00"`` for a timeline that starts at one hour). :func:`edl` writes one
single-frame event per marker, with the marker in two dialects: a ``* LOC:`` locator comment (Avid,
Premiere) and DaVinci Resolve's ``|C:ResolveColorBlue |M:name |D:1`` line right under the event,
which Resolve reads with *Timeline > Import > Timeline Markers from EDL*. :func:`markers_csv` has
the columns of Premiere Pro's marker list (``Marker Name, Description, In, Out, Duration, Marker
Type``) plus ``Color`` and ``Seconds``, for scripts, spreadsheets and marker importers.

**The HTML report** opens offline in any browser: the summary (dominant non-neutral emotion,
screen time with faces, expressiveness, the emotional arc), the top scenes and peaks with their key
frames and timecodes, the charts (Plotly, its JavaScript embedded once), and the per-scene table
with thumbnails. Images are ``data:`` URIs; the page loads nothing from the network (a strict
Content-Security-Policy says so to the browser, too).

>>> open("scenes.csv", "w").write(scenes_csv(report))                 # doctest: +SKIP
>>> print(edl(report).splitlines()[0])                              # doctest: +SKIP
TITLE: pjo_teaser_trailer
>>> sorted(RESULT_FILES)
['frames.csv', 'report.html', 'report.json', 'scenes.csv', 'shots.csv']
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .charts import arc_figure, scene_bars, scene_heatmap, timeline_figure
from .smpte import frame_at, is_drop_frame, parse_smpte, smpte_from_frame
from .summary import Moment, summarize
from .timeline import timecode

#: file name -> media type of each file :func:`result_files` makes
RESULT_FILES: dict[str, str] = {
    "scenes.csv": "text/csv; charset=utf-8",
    "shots.csv": "text/csv; charset=utf-8",
    "frames.csv": "text/csv; charset=utf-8",
    "report.json": "application/json",
    "report.html": "text/html; charset=utf-8",
}


# ------------------------------------------------------------------ tables and JSON

def scenes_csv(report) -> str:
    """The per-scene table as CSV text (the headline export)."""
    return report.scene_table().to_csv(index=False)


def shots_csv(report) -> str:
    """The per-shot table as CSV text."""
    return report.shot_table().to_csv(index=False)


def frames_csv(report) -> str:
    """Every sampled frame and face as CSV text."""
    return report.frame_table().to_csv(index=False)


def report_json(report, indent: int | None = 2) -> str:
    """:meth:`~emotion.film.report.VideoReport.to_dict` as JSON text (no NaN: missing numbers are null)."""
    return json.dumps(report.to_dict(), indent=indent, allow_nan=False)


def result_files(report) -> dict[str, bytes]:
    """Every file of :data:`RESULT_FILES` for ``report``, as ``{name: bytes}``."""
    texts = {"scenes.csv": scenes_csv(report), "shots.csv": shots_csv(report), "frames.csv": frames_csv(report),
             "report.json": report_json(report) + "\n", "report.html": html_report(report)}
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


# ------------------------------------------------------------------ editor markers

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


# ------------------------------------------------------------------ the HTML report

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;
padding:0 1em}
h1{margin-bottom:.2em} .sub{color:#666;margin-top:0} .warn{background:#fff4d6;padding:.6em 1em;border-radius:6px}
.metrics{display:flex;gap:2em;flex-wrap:wrap;margin:1em 0}.metric b{display:block;font-size:1.6em}
.moments{display:flex;gap:1em;flex-wrap:wrap}.moment{width:220px;font-size:.9em}
.moment img,td img{width:100%;border-radius:4px} td img{width:120px}
table{border-collapse:collapse;width:100%;font-size:.88em} th,td{border-bottom:1px solid #ddd;padding:4px 6px;
text-align:left;vertical-align:top} th{background:#f4f4f4;position:sticky;top:0}
.noface{color:#888;font-style:italic}
"""
_CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
        "img-src data:; font-src data:")


def _img(jpeg: bytes, alt: str) -> str:
    if not jpeg:
        return '<div class="noface">no key frame</div>'
    data = base64.b64encode(jpeg).decode("ascii")
    return f'<img src="data:image/jpeg;base64,{data}" alt="{html.escape(alt)}">'


def _moment(m: Moment, fps: float) -> str:
    return f'<div class="moment">{_img(m.thumbnail, m.label)}<div><b>{html.escape(m.label)}</b></div></div>' 


def _pct(v: float) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.0%}"


def _table(report) -> str:
    fps = report.info.fps
    head = ("<tr><th>Key frame</th><th>Scene</th><th>Name</th><th>Start</th><th>End</th><th>Length</th>"
            "<th>Faces in</th><th>Dominant</th><th title='the mood of the faces, from -1 negative to +1 positive'>Mood (valence)</th><th>Peak</th></tr>")
    rows = []
    for r, thumb in zip(report.rows, report.thumbnails):
        start, end = timecode(r.start_s, fps), timecode(r.end_s, fps)
        dominant = (f"{html.escape(r.dominant_emotion)} {_pct(r.dominant_share)}" if r.dominant_emotion
                    else '<span class="noface">no face</span>')
        valence = f"{r.valence:+.2f}" if math.isfinite(r.valence) else "–"
        peak = (f"{html.escape(r.peak_emotion)} {_pct(r.peak_probability)} at {timecode(r.peak_time_s, fps)}"
                if r.peak_emotion else "–")
        rows.append(f"<tr><td>{_img(thumb, f'scene {r.scene}')}</td><td>{r.scene}</td><td>{html.escape(r.name)}</td>"
                    f"<td>{start}</td><td>{end}</td><td>{r.duration_s:.1f} s</td><td>{_pct(r.face_share)}</td>"
                    f"<td>{dominant}</td><td>{valence}</td><td>{peak}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def html_report(report) -> str:
    """The whole report as one HTML document (str); see the module docstring."""
    summary = summarize(report)
    title = Path(report.source).stem or "film"
    info = report.info
    figures = [("Emotions over time", timeline_figure(report.timeline)),
               ("Emotional arc (valence)", arc_figure(report.timeline)),
               ("Emotions by scene", scene_bars(report.timeline)),
               ("Heatmap", scene_heatmap(report.timeline))]
    charts = []
    for i, (name, fig) in enumerate(figures):
        body = fig.to_html(full_html=False, include_plotlyjs=(i == 0), include_mathjax=False,
                           config={"displaylogo": False, "responsive": True})
        charts.append(f"<h3>{html.escape(name)}</h3>{body}")
    status = "" if report.complete else (
        f'<p class="warn"><b>Partial report</b>: covers the film up to {report.tc(report.stopped_at)}.</p>')
    warnings = "".join(f'<p class="warn">{html.escape(w)}</p>' for w in report.warnings)
    metrics = [("Dominant (not neutral)", summary.dominant or "no face"),
               ("Screen time with faces", _pct(summary.face_time)),
               ("Expressiveness", _pct(summary.expressiveness)),
               ("Scenes / shots", f"{len(report.scenes)} / {len(report.shots)}"),
               ("Length", report.tc(report.scenes[-1].end if report.scenes else 0.0))]
    metric_html = "".join(f'<div class="metric"><b>{html.escape(v)}</b>{html.escape(k)}</div>' for k, v in metrics)
    top_scenes = "".join(_moment(m, info.fps) for m in summary.top_scenes) or "<p>No scene with faces.</p>"
    top_peaks = "".join(_moment(m, info.fps) for m in summary.top_peaks) or "<p>No peaks.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}: emotions scene by scene</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="sub">{html.escape(report.source)} · {info.width}x{info.height} · {info.fps:.3f} fps ·
scenes: {html.escape(report.segmentation)} · model {html.escape(report.model)} · faces: {html.escape(report.detector)}</p>
{status}{warnings}
<h2>Summary</h2>
<p>{html.escape(summary.headline())}</p>
<div class="metrics">{metric_html}</div>
<h3>Most intense scenes</h3><div class="moments">{top_scenes}</div>
<h3>Strongest moments</h3><div class="moments">{top_peaks}</div>
<h2>Charts</h2>
<p class="sub">Every chart shares the film's time axis (seconds); hatched grey means no face was seen,
which is not the same as a neutral face.</p>
{''.join(charts)}
<h2>Scenes</h2>
{_table(report)}
<p class="sub">Expressions are not feelings: these are the facial expressions a model reads in the faces on
screen, weighted by face size and detector confidence.</p>
</body></html>
"""
