import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from emotion.errors import UnreadableMedia
from emotion.media import encode_png, load_image

PIXELS = np.random.default_rng(7).integers(0, 256, (24, 32, 3), dtype=np.uint8)


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels but holds almost no data (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP"])
def test_lossless_formats_round_trip(fmt):
    kw = {"lossless": True} if fmt == "WEBP" else {}
    np.testing.assert_array_equal(load_image(encode(Image.fromarray(PIXELS), fmt, **kw)), PIXELS)


def test_jpeg_decodes_close_to_source():
    out = load_image(encode(Image.fromarray(PIXELS), "JPEG", quality=95))
    assert out.shape == PIXELS.shape and out.dtype == np.uint8


@pytest.mark.parametrize("name, data, message", [
    ("empty", b"", "empty"),
    ("not an image", b"hello, this is text\n" * 20, "not an image"),
    ("truncated png", encode(Image.fromarray(PIXELS), "PNG")[:200], "truncated or corrupt"),
    ("truncated jpeg", encode(Image.fromarray(PIXELS), "JPEG")[:400], "truncated or corrupt"),
    ("bomb", png_header_only(40_000, 40_000), "decompression bomb"),
    ("heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, "HEIC files are not supported"),
    ("pdf", b"%PDF-1.7\n" + b"\x00" * 64, "PDF files are not supported"),
    ("mp4", b"\x00\x00\x00\x20ftypisom" + b"\x00" * 64, "MP4 video files are not supported"),
])
def test_bad_inputs_raise_actionable_errors(name, data, message):
    with pytest.raises(UnreadableMedia, match=message) as info:
        load_image(data)
    assert ";" in str(info.value), "every message says what to do after the semicolon"


def test_pixel_limit_applies_before_decoding():
    data = encode(Image.fromarray(PIXELS), "PNG")
    with pytest.raises(UnreadableMedia, match="megapixels, over the limit"):
        load_image(data, max_pixels=100)


@pytest.mark.parametrize("source, message", [
    ("/no/such/file.jpg", "no such file"),
    (12345, "cannot read an image from a int"),
    (np.zeros((4, 4, 2), np.uint8), r"expected an array of shape"),
    (np.zeros((4, 4, 3), np.int64), "expected a uint8, uint16 or float array"),
    (np.full((4, 4), np.nan), "NaN"),
])
def test_bad_sources(source, message):
    with pytest.raises(UnreadableMedia, match=message):
        load_image(source)


def test_directory_is_refused(tmp_path):
    with pytest.raises(UnreadableMedia, match="is a folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "CMYK", "LA", "1"])
def test_colour_modes_become_rgb(mode):
    im = Image.fromarray(PIXELS).convert(mode)
    out = load_image(encode(im, "TIFF" if mode == "CMYK" else "PNG"))
    assert out.shape == (24, 32, 3) and out.dtype == np.uint8
    if mode == "L":
        assert (out[:, :, 0] == out[:, :, 1]).all()


def test_cmyk_jpeg_colours_survive():
    red = Image.new("RGB", (16, 16), (220, 30, 30)).convert("CMYK")
    out = load_image(encode(red, "JPEG", quality=95))
    r, g, b = out.reshape(-1, 3).mean(axis=0)
    assert r > 180 and g < 80 and b < 80


def test_transparency_is_flattened_on_white():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:4, :, :] = (255, 0, 0, 255)  # top half opaque red, bottom half fully transparent
    out = load_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert tuple(out[0, 0]) == (255, 0, 0) and tuple(out[7, 7]) == (255, 255, 255)


def test_palette_with_transparency():
    im = Image.new("P", (4, 4), 1)
    im.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    im.info["transparency"] = 0
    out = load_image(encode(im, "PNG", transparency=0))
    assert tuple(out[0, 0]) == (10, 200, 30)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_grey_scales_instead_of_clipping(fmt):
    ramp = (np.arange(64, dtype=np.uint32).reshape(8, 8) * 1040).astype(np.uint16)  # 0..65520
    out = load_image(encode(Image.fromarray(ramp), fmt))
    expected = np.round(ramp / 257.0).astype(np.uint8)
    np.testing.assert_array_equal(out[:, :, 0], expected)
    assert out.max() > 250, "16-bit whites stay white, mid-greys stay mid-grey"


def test_exif_orientation_is_applied():
    # A 30x20 (landscape) image whose EXIF says "rotate 90 CW" (orientation 6) displays as 20x30.
    im = Image.fromarray(PIXELS[:20, :30])
    exif = Image.Exif()
    exif[0x0112] = 6
    out = load_image(encode(im, "PNG", exif=exif))
    np.testing.assert_array_equal(out, np.rot90(PIXELS[:20, :30], k=-1))


@pytest.mark.parametrize("source_kind", ["path", "bytes", "filelike", "pil", "array"])
def test_every_source_kind_gives_the_same_pixels(tmp_path, source_kind):
    data = encode(Image.fromarray(PIXELS), "PNG")
    path = tmp_path / "x.png"
    path.write_bytes(data)
    source = {"path": path, "bytes": data, "filelike": io.BytesIO(data),
              "pil": Image.open(io.BytesIO(data)), "array": PIXELS.copy()}[source_kind]
    np.testing.assert_array_equal(load_image(source), PIXELS)


@pytest.mark.parametrize("array, expected", [
    (np.full((2, 2), 65535, np.uint16), 255),
    (np.full((2, 2, 1), 0.5, np.float32), 128),
    (np.ones((2, 2), bool), 255),
])
def test_array_dtypes(array, expected):
    out = load_image(array)
    assert out.shape == (2, 2, 3) and int(out[0, 0, 0]) == expected


def test_encode_png_round_trip():
    np.testing.assert_array_equal(load_image(encode_png(PIXELS)), PIXELS)


def test_exif_orientation_in_a_phone_style_jpeg():
    img = np.zeros((20, 30, 3), np.uint8)
    img[:, 15:] = 255  # left half black, right half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display: the left half ends up on top
    out = load_image(encode(Image.fromarray(img), "JPEG", exif=exif, quality=95))
    assert out.shape == (30, 20, 3)
    assert out[:12].mean() < 20 and out[18:].mean() > 235


def test_animated_image_notes_that_only_its_first_frame_is_used(caplog):
    import io

    from PIL import Image

    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "green", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    notes: list[str] = []
    rgb = load_image(buf.getvalue(), notes=notes)
    assert rgb.shape == (8, 8, 3) and rgb[0, 0, 0] > 200          # the first (red) frame
    assert len(notes) == 1 and "3 frames" in notes[0] and "only its first frame" in notes[0]
    with caplog.at_level("WARNING"):
        load_image(buf.getvalue())                                 # without a list: one logged warning
    assert "only its first frame" in caplog.text


def test_a_huge_image_gets_our_message_and_no_raw_pillow_warning(recwarn):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (10000, 9500)).save(buf, format="PNG")         # 95 MP: over Pillow's warning limit and ours
    with pytest.raises(UnreadableMedia, match="megapixels, over the limit"):
        load_image(buf.getvalue())
    assert not [w for w in recwarn if "DecompressionBomb" in type(w.message).__name__]
