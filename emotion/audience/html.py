"""A self-contained HTML report of a panel: one file that opens offline (Plotly's JavaScript is inside).

>>> open("audience.html", "w").write(report_html(report))     # doctest: +SKIP
"""

from __future__ import annotations

import html

from .charts import panel_figure

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:0.85em;margin:1em 0}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}.note{color:#666;font-size:0.9em}
.warn{background:#fff4e0;border-left:4px solid #f0a020;padding:6px 10px;margin:4px 0}
"""


def _table(rows: list[dict], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c)
            if isinstance(v, float):
                v = f"{v:.3f}"
            cells.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def report_html(report) -> str:
    """The panel as one HTML page: reactions, panel timeline, audience peaks and the per-scene table."""
    title = f"Audience: {report.film}"
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>{report.viewers} viewer(s) in {len(report.reactions)} reaction recording(s); "
             f"{len(report.scenes)} scenes, {report.tc(report.duration_s)}.</p>"]
    parts += [f"<div class='warn'>{html.escape(w)}</div>" for w in report.warnings]
    parts.append("<h2>Reactions</h2>")
    reactions = [{**r, "confidence": r["confidence"] if r["confidence"] is not None else "",
                  "offset": f"{r['offset_s']:+.2f} s"} for r in report.reactions]
    parts.append(_table(reactions, ["name", "offset", "sync", "confidence", "viewers", "recording_duration_s"]))
    parts.append("<h2>Panel timeline</h2>")
    parts.append(panel_figure(report).to_html(full_html=False, include_plotlyjs=True))
    if report.valence_correlation is not None:
        parts.append(f"<p>Correlation of audience and on-screen valence over scenes: "
                     f"<b>{report.valence_correlation:+.2f}</b></p>")
    parts.append("<h2>Audience peaks</h2>")
    parts.append(_table([p.to_dict(report.fps) for p in report.peaks], ["timecode", "scene", "emotion", "level", "rise",
                                                              "viewers"]))
    parts.append("<h2>Scenes</h2>")
    rows = [r.to_dict(report.fps) for r in report.rows]
    cols = ["scene", "start_timecode", "end_timecode", "viewers",
            *(f"audience_{lab}" for lab in report.labels),
            "expressive_share", "attentive_share", "audience_valence", "screen_valence"]
    parts.append(_table(rows, cols))
    parts.append("<p class='note'>Means across viewers; the CSV export has the 95% interval of each (Wilson score "
                 "interval over viewers, left empty where fewer than 3 viewers were seen). An expression "
                 "is not a feeling: these numbers describe faces, not what viewers felt. Viewers are numbered, "
                 "not named, and must have agreed to be filmed.</p>")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>")
