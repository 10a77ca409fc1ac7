"""The Image page: upload a photo, see each face's emotion, download the results.

:func:`analyze_upload` is the page's handler (plain Python, testable without
Streamlit); :func:`render` draws the page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from emotion.annotate import annotate, emotion_hex
from emotion.detector import EmotionDetector
from emotion.errors import UnreadableMedia
from emotion.export import to_csv, to_json
from emotion.faces import crop_faces
from emotion.media import IMAGE_TYPES, encode_png, load_image
from emotion.types import Faces, FaceResult, ImageResult

from .loaders import Loaded
from .status import model_missing


@dataclass(frozen=True)
class ImageAnalysis:
    """Everything the page shows and offers for download for one upload."""

    name: str
    result: ImageResult
    annotated: np.ndarray
    crops: tuple[np.ndarray, ...]
    notes: tuple[str, ...] = ()   # remarks that are not errors (an animated image: first frame only)

    def png(self) -> bytes:
        return encode_png(self.annotated)

    def csv(self) -> str:
        return to_csv([(self.name, self.result)])

    def json(self) -> str:
        return to_json([(self.name, self.result)])


def analyze_upload(data: bytes, name: str, detector: EmotionDetector) -> ImageAnalysis:
    """Decode an uploaded file and analyse it; raises :class:`UnreadableMedia` for a bad file."""
    notes: list[str] = []
    try:
        rgb = load_image(data, notes=notes)
    except UnreadableMedia as exc:
        # load_image names raw bytes "image"; say which upload it was.
        msg = str(exc)
        raise UnreadableMedia(name + msg[len("image"):] if msg.startswith("image:") else msg) from exc
    result = detector.analyze(rgb)
    faces = Faces([f.box for f in result.faces], [f.score for f in result.faces]) if result.faces else Faces.empty()
    notes = [name + n[len("image"):] if n.startswith("image:") else n for n in notes]
    return ImageAnalysis(name, result, annotate(rgb, result), tuple(crop_faces(rgb, faces, margin=0.1)),
                         tuple(notes))


def probability_chart(face: FaceResult, title: str):
    """Horizontal Plotly bar chart of one face's probabilities, coloured per emotion."""
    import plotly.graph_objects as go

    labels = list(face.probabilities)
    values = [face.probabilities[lab] for lab in labels]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=[emotion_hex(lab) for lab in labels],
                           text=[f"{v:.0%}" for v in values], textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_layout(title=title, height=260, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis=dict(autorange="reversed"))
    return fig


def _no_faces_hint(loaded: Loaded) -> str:
    s = loaded.settings
    tips = [f"lower the **minimum face size** (now {s.min_face} px) in the sidebar",
            f"lower the **detection threshold** (now {s.threshold:.2f})"]
    if loaded.detector is not None and loaded.detector.face_detector.name == "haar":
        tips.append("use the **YuNet** detector: Haar only finds upright, frontal faces")
    else:
        tips.append("try the **Haar** detector as a second opinion")
    tips.append("use a photo where faces are at least ~40 px wide, well lit and not covered")
    return "No faces found. Try:\n" + "\n".join(f"- {t}" for t in tips)


def _cached_analysis(data: bytes, name: str, loaded: Loaded) -> ImageAnalysis:
    """Analyse once per (file, settings, model); download clicks and reruns reuse it."""
    det = loaded.detector
    key = (hashlib.sha256(data).hexdigest(), name, loaded.settings, det.model.name, det.model.checkpoint,
           det.face_detector.name)
    cached = st.session_state.get("image_page.analysis")
    if cached and cached[0] == key:
        return cached[1]
    analysis = analyze_upload(data, name, det)
    st.session_state["image_page.analysis"] = (key, analysis)
    return analysis


def render(loaded: Loaded) -> None:
    """Draw the page body for an already loaded detector (the sidebar is drawn by the page)."""
    st.title("Image")
    st.caption("Upload a photo: every face gets a box, its most likely emotion and the probabilities of all of them.")
    if model_missing(loaded):
        return
    upload = st.file_uploader("Photo", type=list(IMAGE_TYPES), key="image_upload",
                              help="JPEG, PNG, WebP, BMP or TIFF")
    if upload is None:
        st.info("Upload a photo with one or more faces to start.")
        return
    try:
        analysis = _cached_analysis(upload.getvalue(), upload.name, loaded)
    except UnreadableMedia as exc:
        st.error(f"Could not read this upload. {exc}")
        return
    result = analysis.result
    for note in analysis.notes:
        st.warning(note)
    st.image(analysis.annotated, caption=f"{upload.name}: {len(result.faces)} face(s) · detector "
                                         f"{result.detector} · model {result.model}")
    stem = upload.name.rsplit(".", 1)[0]
    cols = st.columns(3)
    cols[0].download_button("Annotated image (PNG)", analysis.png(), f"{stem}_annotated.png", "image/png",
                            on_click="ignore", key="dl_png")
    cols[1].download_button("Results (CSV)", analysis.csv(), f"{stem}_emotions.csv", "text/csv",
                            on_click="ignore", key="dl_csv")
    cols[2].download_button("Results (JSON)", analysis.json(), f"{stem}_emotions.json", "application/json",
                            on_click="ignore", key="dl_json")
    if not result.faces:
        st.info(_no_faces_hint(loaded))
        return
    st.subheader("Faces")
    for i, (face, crop) in enumerate(zip(result.faces, analysis.crops), start=1):
        left, right = st.columns([1, 4])
        left.image(crop, caption=f"Face {i}: {face.emotion} ({face.confidence:.0%})", width=120)
        right.plotly_chart(probability_chart(face, f"Face {i}"), key=f"face_chart_{i}")
