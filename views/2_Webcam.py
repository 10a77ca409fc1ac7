"""Webcam page: live emotions of the browser's camera (logic in emotion.ui.webcam_page and emotion.live)."""

from emotion.ui import setup_page
from emotion.ui.webcam_page import render

render(setup_page("Webcam", "🎥"))
