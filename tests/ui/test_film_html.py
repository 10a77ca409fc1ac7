"""emotion.ui.film_html: the Film page's stats rows and emotion bars, as escaped HTML."""

from __future__ import annotations

import re

from emotion.annotate import emotion_hex
from emotion.ui.film_html import Stat, emotion_bars, stats_html


def test_stats_carry_label_value_note_and_help():
    body = stats_html([Stat("Scenes", "7", help="from 25 shots"), Stat("Peak", "sad 11%", note="at 00:00:03.504")],
                      per_row=3, size="1.75rem")
    assert re.findall(r'data-label="([^"]*)" data-value="([^"]*)"', body) == [("Scenes", "7"), ("Peak", "sad 11%")]
    assert 'title="from 25 shots"' in body and "at 00:00:03.504" in body
    assert "calc((100% - 2rem) / 3)" in body and "font-size:1.75rem" in body
    assert "<script" not in body


def test_stats_escape_what_they_show():
    body = stats_html([Stat('<b>"x"</b>', "<img src=x onerror=alert(1)>", help="a & b")])
    assert "<b>" not in body and "<img" not in body and "&lt;img" in body and "a &amp; b" in body


def test_one_bar_per_emotion_in_its_colour_as_wide_as_its_share():
    body = emotion_bars({"happy": 0.5, "sad": 0.125, "fear": float("nan")})
    assert re.findall(r'data-label="([^"]*)" data-value="([^"]*)"', body) == [
        ("happy", "50%"), ("sad", "12%"), ("fear", "0%")]                    # no number is drawn as 0
    assert f"width:50.0%;background:{emotion_hex('happy')}" in body
    assert f"width:12.5%;background:{emotion_hex('sad')}" in body
