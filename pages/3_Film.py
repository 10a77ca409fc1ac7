"""Film page: a per-scene emotion timeline of an uploaded film (logic in emotion.ui.film_page and emotion.film)."""

import streamlit as st

from emotion.ui import load_detector, show_notes, sidebar_settings, sidebar_status
from emotion.ui.film_page import render

st.set_page_config(page_title="Film · Emotion analytics", page_icon="🎬", layout="wide")
settings = sidebar_settings()
loaded = load_detector(settings)
sidebar_status(loaded)
show_notes(loaded)
render(loaded)
