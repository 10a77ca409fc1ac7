"""Every file a panel's analysis gives a research team: free functions over an
:class:`~emotion.audience.report.AudienceReport`.

The CLI (``python -m emotion audience``), the Audience page's downloads and the
service's audience jobs all call these:

* :func:`scenes_csv` (the per-scene response, the headline export), :func:`seconds_csv` (the panel
  per second of the film), :func:`viewers_csv` (one row per viewer);
* :func:`report_json`: the summary, reactions, peaks and scenes as JSON;
* :func:`report_html`: one self-contained page that opens offline (Plotly's JavaScript is inside);
* :func:`result_files`: the bundle an audience job leaves (``RESULT_FILES``), and :func:`headline`:
  the numbers a researcher scans first.

>>> open("audience.html", "w").write(report_html(report))     # doctest: +SKIP
>>> sorted(RESULT_FILES)
['report.html', 'report.json', 'scenes.csv', 'seconds.csv', 'viewers.csv']
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from .charts import panel_figure

#: file name -> media type of each file :func:`result_files` makes
RESULT_FILES: dict[str, str] = {
    "scenes.csv": "text/csv; charset=utf-8",
    "seconds.csv": "text/csv; charset=utf-8",
    "viewers.csv": "text/csv; charset=utf-8",
    "report.json": "application/json",
    "report.html": "text/html; charset=utf-8",
}


def scenes_csv(report) -> str:
    """The per-scene audience table as CSV text."""
    return report.scene_table().to_csv(index=False)


def seconds_csv(report) -> str:
    """The panel second by second of the film, as CSV text."""
    return report.second_table().to_csv(index=False)


def viewers_csv(report) -> str:
    """One row per viewer, as CSV text."""
    return report.viewer_table().to_csv(index=False)


def report_json(report, indent: int | None = 2) -> str:
    """:meth:`~emotion.audience.report.AudienceReport.to_dict` as JSON text (missing numbers are null)."""
    return json.dumps(report.to_dict(), indent=indent, allow_nan=False)


def result_files(report) -> dict[str, bytes]:
    """Every file of :data:`RESULT_FILES` for ``report``, as ``{name: bytes}``."""
    texts = {"scenes.csv": scenes_csv(report), "seconds.csv": seconds_csv(report),
             "viewers.csv": viewers_csv(report), "report.json": report_json(report) + "\n",
             "report.html": report_html(report)}
    return {name: text.encode("utf-8") for name, text in texts.items()}


def headline(report) -> dict[str, Any]:
    """The numbers a researcher scans first: reactions, viewers, scenes, the top audience peak."""
    out: dict[str, Any] = {"reactions": len(report.reactions), "viewers": int(report.viewers),
                           "scenes": len(report.scenes), "warnings": list(report.warnings)}
    if report.peaks:
        peak = report.peaks[0]
        out["peak"] = {"time_s": round(float(peak.time_s), 3), "scene": peak.scene, "emotion": peak.emotion,
                       "level": round(float(peak.level), 4)}
    if report.valence_correlation is not None:
        out["valence_correlation"] = round(float(report.valence_correlation), 4)
    return out


# ------------------------------------------------------------------ the HTML report

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.2em auto;padding:0 1em;color:#222;max-width:1180px}
.wide{overflow-x:auto}
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
                v = "" if v != v else f"{round(v, 3):g}"
            cells.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _scene_ranking(report) -> str:
    """Scenes strongest first: what the audience did (the share who responded above their own resting face),
    when, how many were seen, how much faces moved, and the mood on both sides of the screen."""
    rows = []
    for k, (_, r) in enumerate(report.ranking().iterrows(), start=1):
        rows.append({"Rank": k, "Scene": int(r["scene"]), "Starts": r["start_timecode"], "Ends": r["end_timecode"],
                     "What the audience did": r["headline"], "Viewers seen": int(r["viewers"]),
                     "Faces moved": _percent(r["audience_expression"]),
                     "Audience mood": _signed(r["audience_valence"]), "On-screen mood": _signed(r["screen_valence"])})
    return _table(rows, list(rows[0])) if rows else "<p>No scenes.</p>"


def _percent(v) -> str:
    return "" if v is None or v != v else f"{100 * float(v):.0f} %"


def _signed(v) -> str:
    return "" if v is None or v != v else f"{float(v):+.2f}"


def report_html(report) -> str:
    """The panel as one HTML page: scenes ranked, the panel timeline, peaks, viewers (with the seat map) and
    how each reaction was put on the film's clock."""
    from .charts import sync_figure
    from .report import found_in_words

    title = f"Audience: {report.film}"
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>{report.viewers} viewer(s) in {len(report.reactions)} reaction recording(s); "
             f"{len(report.scenes)} scenes, {report.tc(report.duration_s)}.</p>"]
    parts += [f"<div class='warn'>{html.escape(w)}</div>" for w in report.warnings]
    parts.append("<h2>Scenes ranked by how many in the audience responded</h2>")
    parts.append("<div class='wide'>" + _scene_ranking(report) + "</div>")
    parts.append("<p class='note'>A viewer responded when an emotion rose at least 15 points above their own resting "
                 "face (their median over the screening). The per-scene CSV keeps the raw means, each viewer's "
                 "rise, and the 95% interval of each mean (Wilson score interval over viewers, left empty where "
                 "fewer than 3 viewers were seen).</p>")
    parts.append("<h2>Panel timeline</h2>")
    parts.append(panel_figure(report).to_html(full_html=False, include_plotlyjs=True,
                                              default_width="100%", config={"responsive": True}))
    if report.valence_correlation is not None:
        parts.append(f"<p>Correlation of the audience's mood with the mood on screen over scenes: "
                     f"<b>{report.valence_correlation:+.2f}</b></p>")
    if report.peaks:
        parts.append("<h2>Audience peaks</h2>")
        peaks = [{"Timecode": report.tc(p.time_s), "Scene": p.scene, "Emotion": p.emotion,
                  "Level": _percent(p.level), "Rise": f"+{100 * p.rise:.0f} points", "Viewers": p.viewers}
                 for p in report.peaks]
        parts.append(_table(peaks, list(peaks[0])))
    parts.append("<h2>Viewers</h2>")
    from .seatmap import seat_map_png

    for i, r in enumerate(report.reactions):
        png = seat_map_png(report, i)
        if png is not None:
            parts.append(f"<figure><img alt='seat map of {html.escape(r['name'])}' style='max-width:100%' "
                         f"src='data:image/png;base64,{base64.b64encode(png).decode()}'><figcaption class='note'>"
                         f"{html.escape(r['name'])}: each viewer where they sat, coloured by what their face showed "
                         "most above their resting face over the film (faces blurred).</figcaption></figure>")
    people = report.viewers_in_words()
    parts.append("<div class='wide'>" + (_table(people.to_dict("records"), list(people.columns)) if len(people)
                                         else "<p>No viewer's face was seen.</p>") + "</div>")
    parts.append("<h2>Reactions and how they were put on the film's clock</h2>")
    for r, sync in zip(report.reactions, report.syncs or (None,) * len(report.reactions)):
        how = {"audio": "found from the sound", "manual": "given by hand", "live": "screened live"}.get(r["sync"],
                                                                                                        r["sync"])
        conf = f", confidence {r['confidence']:.2f}" if r.get("confidence") is not None else ""
        parts.append(f"<p><b>{html.escape(r['name'])}</b>: the film starts at {r['offset_s']:+.2f} s of the "
                     f"recording ({how}{conf}).<br>{html.escape(found_in_words(r))}.</p>")
        if sync is not None:
            parts.append(sync_figure(sync).to_html(full_html=False, include_plotlyjs=False,
                                                   default_width="100%", config={"responsive": True}))
    parts.append("<p class='note'>An expression is not a feeling: these numbers describe faces, not what viewers "
                 "felt. Viewers are numbered, not named, and must have agreed to be filmed.</p>")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>")
