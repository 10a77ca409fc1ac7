"""The Image page through AppTest (st.file_uploader is driven by AppTest's upload API), and its handler."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from emotion.errors import UnreadableMedia


def png_bytes(rgb):
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def page(open_page):
    return open_page("pages/1_Image.py")


def test_page_asks_for_an_upload(page):
    assert "Upload a photo" in " ".join(i.value for i in page.info)
    assert page.file_uploader[0].allowed_type == [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"]


def test_upload_without_faces_gives_hints(page):
    page.file_uploader[0].upload("wall.png", png_bytes(np.full((120, 160, 3), 180, np.uint8)), "image/png").run()
    assert not page.exception and not page.error
    hint = " ".join(i.value for i in page.info)
    assert "No faces found" in hint and "minimum face size" in hint and "20 px" in hint
    assert [b.label for b in page.get("download_button")] == \
        ["Annotated image (PNG)", "Results (CSV)", "Results (JSON)"]


@pytest.mark.parametrize("name, data, phrase", [
    ("notes.jpg", b"shopping list: eggs, milk", "not an image"),
    ("empty.png", b"", "empty"),
    ("cut.png", png_bytes(np.random.default_rng(0).integers(0, 256, (50, 50, 3), np.uint8))[:3000],
     "truncated or corrupt"),
])
def test_bad_upload_shows_an_error_with_what_to_do(page, name, data, phrase):
    page.file_uploader[0].upload(name, data, "image/png").run()
    assert not page.exception
    (error,) = page.error
    assert name in error.value and phrase in error.value


def test_photo_upload_shows_faces_charts_and_downloads(page, photo, yunet_path, monkeypatch):
    monkeypatch.setenv("EMOTION_FACE_MODEL", str(yunet_path))
    data = photo("facerec_two_people.jpg").read_bytes()
    page.run()
    page.file_uploader[0].upload("two.jpg", data, "image/jpeg").run()
    assert not page.exception and not page.error
    charts = page.get("plotly_chart")
    assert len(charts) == 2, "one probability chart per face"
    fig = json.loads(charts[0].proto.spec)
    assert fig["data"][0]["type"] == "bar" and len(fig["data"][0]["x"]) == 8
    assert len(page.get("download_button")) == 3


def test_handler_directly(tiny_model, photo, yunet_path):
    from emotion.detector import EmotionDetector
    from emotion.faces import make_face_detector
    from emotion.ui.image_page import analyze_upload

    det = EmotionDetector(make_face_detector("yunet", face_model=yunet_path), tiny_model)
    analysis = analyze_upload(photo("facerec_two_people.jpg").read_bytes(), "two.jpg", det)
    assert len(analysis.result.faces) == 2 and len(analysis.crops) == 2
    assert analysis.png().startswith(b"\x89PNG")
    assert analysis.csv().count("\n") == 3  # header + two faces
    assert json.loads(analysis.json())[0]["path"] == "two.jpg"
    with pytest.raises(UnreadableMedia, match=r"^bad\.gif: not an image"):
        analyze_upload(b"GIF89a-but-not-really", "bad.gif", det)
