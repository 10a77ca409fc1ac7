"""Home page of the emotion analytics app: what it does, the pages, and what is loaded.

Run with ``streamlit run app.py``. The pages live in ``pages/``; the shared
sidebar and loaders in ``emotion/ui/``.
"""

from pathlib import Path

import streamlit as st

from emotion.ui import setup_page, status_rows

ROOT = Path(__file__).resolve().parent
#: (script, label, icon, what it does); a page is linked only once its file exists.
PAGES = (
    ("pages/1_Image.py", "Image", "🖼️", "upload a photo: every face's emotion, annotated image, CSV/JSON"),
    ("pages/2_Webcam.py", "Webcam", "🎥", "live analysis of your webcam in the browser, nothing stored"),
    ("pages/3_Film.py", "Film", "🎬", "a per-scene emotion timeline of a film or trailer, with CSV export"),
    ("pages/4_Audience.py", "Audience", "👥", "how viewers reacted to a film, scene by scene, from reaction videos"),
)

loaded = setup_page(None, "🙂")   # the shared prologue; None: the home page

st.title("Emotion analytics")
st.markdown(
    "Find the faces in photos, webcam streams and films, and estimate the **facial expression** of each one "
    "(angry, disgust, fear, happy, sad, surprise, neutral, and contempt where the model has it). "
    "Everything runs on this machine: no image leaves it."
)

st.subheader("Pages")
for script, label, icon, what in PAGES:
    if (ROOT / script).is_file():
        st.page_link(script, label=f"{label}: {what}", icon=icon)

st.subheader("Active configuration")
st.table(status_rows(loaded))

st.caption(
    "An expression is not a feeling: these scores describe faces, not people's inner states. "
    "Emotion recognition in workplaces and schools is prohibited in the EU (AI Act, Art. 5(1)(f))."
)
