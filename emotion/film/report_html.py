"""A self-contained HTML report of a film analysis, to email to the crew.

One file that opens offline in any browser: the summary (dominant non-neutral
emotion, screen time with faces, expressiveness, the emotional arc), the top
scenes and peaks with their key frames and timecodes, the charts (Plotly, its
JavaScript embedded once), and the per-scene table with thumbnails. Images
are ``data:`` URIs; the page loads nothing from the network (a strict
Content-Security-Policy says so to the browser, too).

>>> open("trailer_report.html", "w").write(html_report(report))     # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

from .charts import arc_figure, scene_bars, scene_heatmap, timeline_figure
from .summary import Moment, summarize
from .timeline import timecode

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
