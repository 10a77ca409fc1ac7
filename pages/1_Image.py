"""Image page: faces and emotions in an uploaded photo (logic in emotion.ui.image_page)."""

import streamlit as st

from emotion.ui import load_detector, show_notes, sidebar_settings, sidebar_status
from emotion.ui.image_page import render

st.set_page_config(page_title="Image · Emotion analytics", page_icon="🖼️", layout="wide")
settings = sidebar_settings()
loaded = load_detector(settings)
sidebar_status(loaded)
show_notes(loaded)
render(loaded)
