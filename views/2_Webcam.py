"""Webcam page: live emotions of the browser's camera (logic in emotion.ui.webcam_page and emotion.live)."""

from emotion.ui import run_page
from emotion.ui.webcam_page import render

run_page("Webcam", ":material/videocam:", render)
