"""Entry of the emotion analytics app: the navigation, Home first, then one page per tool.

Run with ``streamlit run app.py``. Each page is a thin file in ``views/`` (not ``pages/``: Streamlit
treats a ``pages/`` folder as its older automatic navigation, which then shows on a page opened by its
address, without Home) and its body lives in
``emotion/ui/``; the home page is :mod:`emotion.ui.home_page`. A new page is one line in PAGES.
"""

from pathlib import Path

import streamlit as st

from emotion.ui import run_page
from emotion.ui.home_page import render as render_home

ROOT = Path(__file__).resolve().parent
#: (script, label, icon, what it does); a page is listed only once its file exists. Icons are Streamlit's
#: Material icons: they draw on any machine, emoji need an emoji font (servers and fresh Linux desktops lack one).
PAGES = (
    ("views/1_Image.py", "Image", ":material/image:", "upload photos: every face's emotion, annotated images, CSV/JSON"),
    ("views/2_Webcam.py", "Webcam", ":material/videocam:", "live analysis of your webcam in the browser, nothing stored"),
    ("views/3_Film.py", "Film", ":material/movie:", "a per-scene emotion timeline of a film or trailer, with CSV export"),
    ("views/4_Audience.py", "Audience", ":material/groups:", "how viewers reacted to a film, scene by scene, from reaction videos"),
)

pages = [(st.Page(script, title=label, icon=icon, url_path=label), what) for script, label, icon, what in PAGES
         if (ROOT / script).is_file()]


def home() -> None:
    run_page(None, ":material/mood:", lambda loaded: render_home(loaded, pages))   # the shared prologue; None: the home page


st.navigation([st.Page(home, title="Home", icon=":material/home:", default=True), *(page for page, _ in pages)]).run()
