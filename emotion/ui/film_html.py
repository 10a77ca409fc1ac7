"""Small HTML pieces the Film page draws in place of heavier Streamlit elements.

A row of figures (``st.metric`` look-alikes) and one bar per emotion. Streamlit loads the code of
each element kind on first use, and a new browser session showed the summary's ``st.metric`` row only
once the whole results page was drawn (about 0.8 s after its headline, see
``benchmarks/bench_film_page_browser.py``); one ``st.html`` block is on screen with the headline.
Every text is escaped; no script, so ``st.html`` shows it as is.

>>> stats_html([Stat("Scenes", "7", help="from 25 shots")])   # doctest: +ELLIPSIS
'<div ...data-label="Scenes"...>7</div>...'
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Stat:
    """One figure of a stats row: its label, its value, a smaller line under it, a hover text."""

    label: str
    value: str
    note: str = ""
    help: str = ""


def stats_html(stats: list[Stat] | tuple[Stat, ...], per_row: int = 5, size: str = "2.25rem") -> str:
    """Labelled figures, ``per_row`` to a row, values ``size`` high (``st.metric``'s by default).

    A figure with ``help`` has a dotted label that shows it on hover; text takes the page's font and colour.
    """
    width = f"calc((100% - {per_row - 1}rem) / {per_row})"
    cells = []
    for s in stats:
        help_ = (f' title="{html.escape(s.help)}" style="text-decoration:underline dotted;cursor:help"'
                 if s.help else "")
        note = f'<div style="font-size:.8rem;opacity:.7">{html.escape(s.note)}</div>' if s.note else ""
        cells.append(
            f'<div data-label="{html.escape(s.label)}" data-value="{html.escape(s.value)}" '
            f'style="flex:0 0 {width};min-width:6rem;overflow:hidden">'
            f'<div style="font-size:.875rem;line-height:1.6"><span{help_}>{html.escape(s.label)}</span></div>'
            f'<div style="font-size:{size};line-height:1.3;white-space:nowrap;overflow:hidden;'
            f'text-overflow:ellipsis" title="{html.escape(s.value)}">{html.escape(s.value)}</div>{note}</div>')
    return f'<div style="display:flex;flex-wrap:wrap;gap:1rem">{"".join(cells)}</div>'


def emotion_bars(probabilities: dict[str, float]) -> str:
    """One bar per emotion in its chart colour, with its percentage (a scene's mean probabilities).

    Plain HTML rather than a chart: the page's one Vega-Lite chart cost the browser about as much as a
    Plotly chart to load and draw, for eight bars.
    """
    from emotion.annotate import emotion_hex

    rows = []
    for label, p in probabilities.items():
        pct = 100 * p if math.isfinite(p) else 0.0
        rows.append(
            f'<div data-label="{html.escape(label)}" data-value="{pct:.0f}%" '
            'style="display:flex;align-items:center;gap:.5rem;font-size:.875rem;line-height:1.6">'
            f'<span style="flex:0 0 5.5rem">{html.escape(label)}</span>'
            '<span style="flex:1;height:.75rem;background:rgba(128,128,128,.15);border-radius:2px">'
            f'<span style="display:block;height:100%;width:{pct:.1f}%;background:{emotion_hex(label)};'
            'border-radius:2px"></span></span>'
            f'<span style="flex:0 0 3rem;text-align:right">{pct:.0f}%</span></div>')
    return f'<div>{"".join(rows)}</div>'
