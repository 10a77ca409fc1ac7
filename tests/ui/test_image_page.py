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
    return open_page("views/1_Image.py")


def test_page_asks_for_an_upload(page):
    assert "Upload one or more photos" in " ".join(i.value for i in page.info)
    assert page.file_uploader[0].accept_multiple_files
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
    (table,) = page.dataframe
    assert list(table.value.columns) == ["face", "emotion", "confidence", "box"] and len(table.value) == 2


def test_several_photos_one_table_tabs_and_downloads_for_all(page, photo, yunet_path, monkeypatch):
    monkeypatch.setenv("EMOTION_FACE_MODEL", str(yunet_path))
    page.run()
    page.file_uploader[0].set_value([("two.jpg", photo("facerec_two_people.jpg").read_bytes(), "image/jpeg"),
                                     ("wall.png", png_bytes(np.full((120, 160, 3), 180, np.uint8)), "image/png"),
                                     ("obama.jpg", photo("facerec_obama.jpg").read_bytes(), "image/jpeg")]).run()
    assert not page.exception and not page.error
    assert page.subheader[0].value == "All faces: 3 in 3 photos"
    table = page.dataframe[0].value
    assert list(table.columns) == ["photo", "face", "emotion", "confidence", "box"]
    assert list(table["photo"]) == ["two.jpg", "two.jpg", "obama.jpg"] and list(table["face"]) == [1, 2, 1]
    assert all(len(b.split(", ")) == 4 for b in table["box"]) and all(c.endswith("%") for c in table["confidence"])
    assert [t.label for t in page.tabs] == ["two.jpg", "wall.png", "obama.jpg"]
    assert "No faces found" in page.tabs[1].info[0].value
    assert len(page.get("plotly_chart")) == 3, "one chart per face, every photo"
    downloads = page.get("download_button")
    assert [d.label for d in downloads] == ["Annotated images (ZIP of 3 PNG)", "Results (CSV)", "Results (JSON)"]
    assert all(d.proto.deferred_file_id for d in downloads), "made on click"
    assert len(page.session_state["image_page.analyses"]) == 3

    # Removing a photo forgets its analysis.
    page.file_uploader[0].set_value([("obama.jpg", photo("facerec_obama.jpg").read_bytes(), "image/jpeg")]).run()
    assert not page.exception and len(page.session_state["image_page.analyses"]) == 1
    assert [d.label for d in page.get("download_button")][0] == "Annotated image (PNG)"


def test_downloads_cover_every_photo(tiny_model, photo, yunet_path):
    import zipfile

    from emotion.detector import EmotionDetector
    from emotion.faces import make_face_detector
    from emotion.ui.image_page import _annotated_zip, analyze_upload, faces_table

    det = EmotionDetector(make_face_detector("yunet", face_model=yunet_path), tiny_model)
    analyses = [analyze_upload(photo(n).read_bytes(), n, det) for n in ("facerec_two_people.jpg", "facerec_obama.jpg")]
    archive = zipfile.ZipFile(io.BytesIO(_annotated_zip(analyses)))
    assert archive.namelist() == ["facerec_two_people_annotated.png", "facerec_obama_annotated.png"]
    assert all(archive.read(n).startswith(b"\x89PNG") for n in archive.namelist())
    assert len(faces_table(analyses)) == 3


@pytest.mark.parametrize("size, refused", [(50_000_000, False), (50_000_001, True), (2 << 30, True)])
def test_photo_size_limit_is_the_pages_own(size, refused):
    from emotion.ui.image_page import too_large

    message = too_large(size, "poster.tif")
    assert (message is not None) == refused
    if refused:
        assert message.startswith("poster.tif is ") and "up to 50 MB" in message and "/" not in message


def test_an_oversized_photo_gets_a_plain_message_and_the_others_are_analysed(open_page, monkeypatch):
    import emotion.ui.image_page as image_page

    monkeypatch.setattr(image_page, "MAX_PHOTO_MB", 0.001)    # 1 kB: the big one is refused
    page = open_page("views/1_Image.py")    # opened with that limit (the uploader's identity includes it)
    small = png_bytes(np.full((8, 8, 3), 180, np.uint8))
    big = png_bytes(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8))
    page.file_uploader[0].set_value([("big.png", big, "image/png"), ("small.png", small, "image/png")]).run()
    assert not page.exception
    (error,) = page.error
    assert error.value.startswith(f"big.png is {len(big) / 1e6:.3g} MB; photos up to 0.001 MB are analysed here.")
    assert "No faces found" in " ".join(i.value for i in page.info), "the small photo is still analysed"


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


def test_the_uploader_itself_says_the_pages_limit(page):
    # Field report: the uploader said "2GB per file" (the server's film limit) while photos stop at 50 MB.
    from emotion.ui.image_page import MAX_PHOTO_MB

    assert page.file_uploader[0].proto.max_upload_size_mb == MAX_PHOTO_MB == 50


def test_a_full_bar_has_room_for_its_100_percent_label():
    from types import SimpleNamespace

    from emotion.ui.image_page import probability_chart

    fig = probability_chart(SimpleNamespace(probabilities={"happy": 1.0, "sad": 0.0}), "face 1")
    assert list(fig.data[0].text) == ["100%", "0%"] and fig.data[0].textposition == "outside"
    assert fig.layout.xaxis.range[1] >= 1.15, "the axis leaves room right of a full bar for its label"
    assert list(fig.layout.xaxis.tickvals)[-1] == 1
