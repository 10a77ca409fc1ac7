"""Reading still images into RGB uint8 arrays, with errors a user can act on.

Accepts a path, raw bytes, a file-like object (such as a Streamlit upload), a
PIL image or a numpy array. Honours EXIF orientation, flattens transparency
onto white, scales 16-bit images down to 8 bits and converts CMYK, palette and
greyscale images to RGB, so everything after this module sees one format.

>>> import numpy as np
>>> load_image(np.zeros((4, 6), np.uint8)).shape
(4, 6, 3)
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UnreadableMedia

log = logging.getLogger(__name__)

#: Largest image accepted, in pixels (80 MP). Larger ones are refused before decoding:
#: a small file can claim a huge size and exhaust memory (a "decompression bomb").
MAX_PIXELS = 80_000_000

#: File extensions the upload widgets offer.
IMAGE_TYPES = ("jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff")

_WHAT_TO_DO = "choose a JPEG, PNG, WebP, BMP or TIFF photo"

# Leading bytes of formats people try that Pillow cannot decode here.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"ftypheic", 4, "HEIC"), (b"ftypheix", 4, "HEIC"), (b"ftypmif1", 4, "HEIF"), (b"ftypavif", 4, "AVIF"),
    (b"ftypisom", 4, "MP4 video"), (b"ftypmp42", 4, "MP4 video"), (b"ftypqt", 4, "QuickTime video"),
    (b"%PDF", 0, "PDF"), (b"<svg", 0, "SVG"), (b"<?xml", 0, "XML/SVG"), (b"\x1aE\xdf\xa3", 0, "WebM/MKV video"),
    (b"PK\x03\x04", 0, "ZIP archive"), (b"8BPS", 0, "Photoshop PSD"),
)


def _sniff_unsupported(data: bytes) -> str | None:
    head = data[:64].lstrip()
    for sig, offset, name in _SIGNATURES:
        if head[offset:offset + len(sig)] == sig or data[offset:offset + len(sig)] == sig:
            return name
    return None


def _read_source(source: Any) -> tuple[bytes, str]:
    """Bytes and a display name from a path, bytes or file-like object."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return path.read_bytes(), str(path)
        except FileNotFoundError:
            raise UnreadableMedia(f"{path}: no such file; check the path") from None
        except IsADirectoryError:
            raise UnreadableMedia(f"{path}: is a folder, not an image file; pass the image files inside it") from None
        except PermissionError:
            raise UnreadableMedia(f"{path}: permission denied; check the file's permissions") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "image"
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "upload"))
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise UnreadableMedia(f"{name}: expected binary data, got {type(data).__name__}; "
                                  "open the file in 'rb' mode")
        return bytes(data), name
    raise UnreadableMedia(f"cannot read an image from a {type(source).__name__}; "
                          "pass a path, bytes, a PIL image or a numpy array")


def _check_size(width: int, height: int, name: str, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise UnreadableMedia(f"{name}: the image has no pixels ({width}x{height}); {_WHAT_TO_DO}")
    if width * height > max_pixels:
        raise UnreadableMedia(
            f"{name}: {width}x{height} is {width * height / 1e6:.0f} megapixels, over the limit of "
            f"{max_pixels / 1e6:.0f} (decompression-bomb guard); downscale the image and try again")


def _to_rgb_array(im, name: str) -> np.ndarray:
    """Any Pillow mode -> RGB uint8, with transparency flattened onto white."""
    from PIL import Image

    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr = np.asarray(im).astype(np.float64)
        # 16-bit data fills 0..65535; map it linearly onto 0..255 instead of clipping at 255.
        arr = np.clip(arr, 0, 65535) / 257.0
        grey = np.round(arr).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        scale = 255.0 if np.nanmax(arr) <= 1.0 else 1.0
        grey = np.round(np.clip(np.nan_to_num(arr) * scale, 0, 255)).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
    if im.mode != "RGB":
        try:
            im = im.convert("RGB")
        except (ValueError, OSError) as exc:
            raise UnreadableMedia(f"{name}: unsupported colour mode {mode} ({exc}); "
                                  "re-save the image as 8-bit RGB") from exc
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def _from_pil(im, name: str, max_pixels: int) -> np.ndarray:
    from PIL import ImageOps

    _check_size(im.width, im.height, name, max_pixels)
    try:
        im.load()
        im = ImageOps.exif_transpose(im)
    except OSError as exc:
        raise UnreadableMedia(f"{name}: the file is truncated or corrupt ({exc}); "
                              "re-download or re-export it") from exc
    return _to_rgb_array(im, name)


def _from_array(arr: np.ndarray, name: str, max_pixels: int) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise UnreadableMedia(f"{name}: expected an array of shape (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    _check_size(a.shape[1], a.shape[0], name, max_pixels)
    if a.dtype == np.uint8:
        pass
    elif a.dtype == np.uint16:
        a = np.round(a / 257.0).astype(np.uint8)
    elif a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise UnreadableMedia(f"{name}: the array holds NaN or infinite values")
        scale = 255.0 if a.max(initial=0.0) <= 1.0 else 1.0
        a = np.round(np.clip(a * scale, 0, 255)).astype(np.uint8)
    else:
        raise UnreadableMedia(f"{name}: expected a uint8, uint16 or float array, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float32) / 255.0
        a = np.round(a[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(a)


def load_image(source: Any, *, max_pixels: int = MAX_PIXELS, notes: list[str] | None = None) -> np.ndarray:
    """Decode ``source`` into an RGB uint8 array of shape (H, W, 3).

    ``source`` may be a path, bytes, a binary file-like object, a PIL image or
    a numpy array (grey, RGB or RGBA; uint8, uint16 or float in [0, 1]).
    Raises :class:`~emotion.errors.UnreadableMedia` for an empty file, something
    that is not an image, a truncated file, an unsupported format or an image
    over ``max_pixels``. Remarks that are not errors (an animated GIF or WebP:
    only its first frame is analysed) are appended to ``notes`` when a list is
    given, else logged as warnings.

    >>> load_image(b"")
    Traceback (most recent call last):
    ...
    emotion.errors.UnreadableMedia: image: the file is empty (0 bytes); choose a JPEG, PNG, WebP, BMP or TIFF photo
    """
    if isinstance(source, np.ndarray):
        return _from_array(source, "array", max_pixels)
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, Image.Image):
        return _from_pil(source, "image", max_pixels)
    data, name = _read_source(source)
    if not data:
        raise UnreadableMedia(f"{name}: the file is empty (0 bytes); {_WHAT_TO_DO}")
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit; ours (max_pixels) is checked below with a clearer message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise UnreadableMedia(f"{name}: the image claims a huge pixel count ({exc}); "
                              "this looks like a decompression bomb; downscale the image and try again") from exc
    except UnidentifiedImageError:
        fmt = _sniff_unsupported(data)
        if fmt:
            raise UnreadableMedia(f"{name}: {fmt} files are not supported; convert it to JPEG or PNG") from None
        raise UnreadableMedia(f"{name}: not an image file (or a format Pillow cannot read); {_WHAT_TO_DO}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnreadableMedia(f"{name}: the file is truncated or corrupt ({exc}); re-download or re-export it") from exc
    log.debug("%s: %s %s %dx%d", name, im.format, im.mode, im.width, im.height)
    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        note = (f"{name}: an animated {im.format} image with {frames} frames; only its first frame is analysed "
                "(for every frame, convert it to a video and use the film analysis)")
        if notes is None:
            log.warning("%s", note)
        else:
            notes.append(note)
    try:
        return _from_pil(im, name, max_pixels)
    except (ValueError, SyntaxError) as exc:  # e.g. a TIFF compression Pillow lacks
        raise UnreadableMedia(f"{name}: could not decode the {im.format} image ({exc}); {_WHAT_TO_DO}") from exc


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 array (for downloads)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB").save(buf, format="PNG")
    return buf.getvalue()
