"""Image page: faces and emotions in an uploaded photo (logic in emotion.ui.image_page)."""

from emotion.ui import setup_page
from emotion.ui.image_page import render

render(setup_page("Image", "🖼️"))
