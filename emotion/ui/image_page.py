"""The Image page: upload photos, see each face's emotion, download the results for all of them.

:func:`analyze_upload` is the page's handler (plain Python, testable without
Streamlit); :func:`render` draws the page.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import partial

import numpy as np
import streamlit as st

from emotion.annotate import annotate, emotion_hex
from emotion.detector import EmotionDetector
from emotion.errors import UnreadableMedia
from emotion.export import to_csv, to_json
from emotion.crops import crop_faces
from emotion.media import IMAGE_TYPES, encode_png, load_image
from emotion.types import Faces, FaceResult, ImageResult

from .loaders import Loaded
from .status import model_missing

#: a photo's upload limit on this page (the server's, for films, is gigabytes)
MAX_PHOTO_MB = 50
MAX_PHOTOS = 30           # photos analysed at once
MAX_CHARTS = 12           # per-face charts drawn per photo (the table lists every face)


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
    # The axis runs past 100 % so the label outside a full bar ("100%") has room and is never cut.
    fig.update_layout(title=title, height=260, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(range=[0, 1.18], tickvals=[0, 0.25, 0.5, 0.75, 1], tickformat=".0%"),
                      yaxis=dict(autorange="reversed"))
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


def _cached_analysis(data: bytes, name: str, loaded: Loaded, kept: dict) -> ImageAnalysis:
    """Analyse once per (file, settings, model); download clicks and reruns reuse it (``kept`` is the
    session's cache, emptied of photos no longer uploaded by :func:`render`)."""
    det = loaded.detector
    key = (hashlib.sha256(data).hexdigest(), name, loaded.settings, det.model.name, det.model.checkpoint,
           det.face_detector.name)
    if key not in kept:
        kept[key] = analyze_upload(data, name, det)
    return kept[key]


def too_large(size: int, name: str, limit_mb: float | None = None) -> str | None:
    """The message for a photo over this page's size limit (``MAX_PHOTO_MB`` by default), else None.

    >>> too_large(80 << 20, "poster.tif")
    'poster.tif is 83.9 MB; photos up to 50 MB are analysed here. Save it smaller (a JPEG) and upload it again.'
    """
    limit = MAX_PHOTO_MB if limit_mb is None else limit_mb
    if size <= limit * 1e6:
        return None
    return (f"{name} is {size / 1e6:.3g} MB; photos up to {limit:g} MB are analysed here. "
            "Save it smaller (a JPEG) and upload it again.")


def faces_table(analyses: list[ImageAnalysis]):
    """One row per face of every photo: photo, face number, emotion, confidence, box (x1, y1, x2, y2)."""
    import pandas as pd

    rows = [{"photo": a.name, "face": i, "emotion": f.emotion, "confidence": f"{f.confidence:.0%}",
             "box": ", ".join(str(int(v)) for v in f.box)}
            for a in analyses for i, f in enumerate(a.result.faces, start=1)]
    return pd.DataFrame(rows, columns=["photo", "face", "emotion", "confidence", "box"])


def _annotated_zip(analyses: list[ImageAnalysis]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:   # PNGs are compressed already
        for a in analyses:
            z.writestr(f"{a.name.rsplit('.', 1)[0]}_annotated.png", a.png())
    return buf.getvalue()


def _downloads(analyses: list[ImageAnalysis]) -> None:
    """CSV and JSON of every face of every photo, and the annotated image(s); made on click."""
    named = [(a.name, a.result) for a in analyses]
    one = len(analyses) == 1
    stem = analyses[0].name.rsplit(".", 1)[0] if one else "photos"
    cols = st.columns(3)
    if one:
        cols[0].download_button("Annotated image (PNG)", analyses[0].png, f"{stem}_annotated.png", "image/png",
                                on_click="ignore", key="dl_png")
    else:
        cols[0].download_button(f"Annotated images (ZIP of {len(analyses)} PNG)", partial(_annotated_zip, analyses),
                                f"{stem}_annotated.zip", "application/zip", on_click="ignore", key="dl_png")
    cols[1].download_button("Results (CSV)", partial(to_csv, named), f"{stem}_emotions.csv", "text/csv",
                            on_click="ignore", key="dl_csv")
    cols[2].download_button("Results (JSON)", partial(to_json, named), f"{stem}_emotions.json", "application/json",
                            on_click="ignore", key="dl_json")


def _photo(analysis: ImageAnalysis, n: int, loaded: Loaded) -> None:
    """One photo: the annotated image with its faces' table, then each face's crop and chart."""
    result = analysis.result
    for note in analysis.notes:
        st.warning(note)
    left, right = st.columns([3, 2])
    left.image(analysis.annotated, caption=f"{analysis.name}: {len(result.faces)} face(s) · detector "
                                           f"{result.detector} · model {result.model}")
    if not result.faces:
        right.info(_no_faces_hint(loaded))
        return
    right.dataframe(faces_table([analysis]).drop(columns="photo"), hide_index=True)
    shown = result.faces[:MAX_CHARTS]
    if len(result.faces) > MAX_CHARTS:
        st.caption(f"Charts for the first {MAX_CHARTS} of {len(result.faces)} faces; the table lists them all.")
    for start in range(0, len(shown), 2):
        cols = st.columns(2)
        for col, i in zip(cols, range(start, min(start + 2, len(shown)))):
            face, crop = result.faces[i], analysis.crops[i]
            with col:
                a, b = st.columns([1, 3])
                a.image(crop, caption=f"Face {i + 1}: {face.emotion} ({face.confidence:.0%})", width=100)
                b.plotly_chart(probability_chart(face, f"Face {i + 1}"), key=f"face_chart_{n}_{i + 1}")


def render(loaded: Loaded) -> None:
    """Draw the page body for an already loaded detector (the sidebar is drawn by the page)."""
    st.title("Image")
    st.caption("Upload one or more photos: every face gets a box, its most likely emotion and the probabilities "
               "of all of them.")
    if model_missing(loaded):
        return
    uploads = st.file_uploader("Photos", type=list(IMAGE_TYPES), key="image_upload", accept_multiple_files=True,
                               max_upload_size=max(1, math.ceil(MAX_PHOTO_MB)),   # it then says "50MB per file"
                               help=f"JPEG, PNG, WebP, BMP or TIFF; up to {MAX_PHOTO_MB} MB each, "
                                    f"{MAX_PHOTOS} at a time")
    if not uploads:
        st.info("Upload one or more photos with faces to start.")
        return
    if len(uploads) > MAX_PHOTOS:
        st.warning(f"{len(uploads)} photos uploaded; the first {MAX_PHOTOS} are analysed. Remove some to see "
                   "the others.")
        uploads = uploads[:MAX_PHOTOS]
    old: dict = st.session_state.get("image_page.analyses", {})
    kept: dict = {}
    analyses = []
    for upload in uploads:
        message = too_large(upload.size, upload.name)
        if message:
            st.error(message)
            continue
        data = upload.getvalue()
        try:
            analysis = _cached_analysis(data, upload.name, loaded, old)
        except UnreadableMedia as exc:
            st.error(f"Could not read this upload. {exc}")
            continue
        kept.update({k: v for k, v in old.items() if v is analysis})
        analyses.append(analysis)
    st.session_state["image_page.analyses"] = kept   # only the photos uploaded now
    if not analyses:
        return
    _downloads(analyses)
    if len(analyses) > 1:
        faces = sum(len(a.result.faces) for a in analyses)
        st.subheader(f"All faces: {faces} in {len(analyses)} photos")
        st.dataframe(faces_table(analyses), hide_index=True, height=min(400, 38 + 35 * max(faces, 1)))
        for n, (tab, analysis) in enumerate(zip(st.tabs([a.name for a in analyses]), analyses)):
            with tab:
                _photo(analysis, n, loaded)
    else:
        _photo(analyses[0], 0, loaded)
