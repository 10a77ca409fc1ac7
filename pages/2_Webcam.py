"""Webcam page: live emotions of the browser's camera (logic in emotion.ui.webcam_page and emotion.live)."""

import streamlit as st

from emotion.ui import load_detector, show_notes, sidebar_settings, sidebar_status
from emotion.ui.webcam_page import render

st.set_page_config(page_title="Webcam · Emotion analytics", page_icon="🎥", layout="wide")
settings = sidebar_settings()
loaded = load_detector(settings)
sidebar_status(loaded)
show_notes(loaded)
render(loaded)
