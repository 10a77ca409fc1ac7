"""Audience page: how viewers reacted to a film, scene by scene (logic in emotion.ui.audience_page and emotion.audience)."""

from emotion.ui import run_page
from emotion.ui.audience_page import render

run_page("Audience", ":material/groups:", render)
