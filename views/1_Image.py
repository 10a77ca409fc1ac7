"""Image page: faces and emotions in an uploaded photo (logic in emotion.ui.image_page)."""

from emotion.ui import run_page
from emotion.ui.image_page import render

run_page("Image", ":material/image:", render)
