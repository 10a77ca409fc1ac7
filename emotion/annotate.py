"""Drawing face boxes and emotion labels on frames, one colour per emotion.

>>> import numpy as np
>>> from emotion.types import FaceResult, ImageResult
>>> face = FaceResult((2, 2, 20, 20), 0.9, "happy", {"happy": 0.8, "sad": 0.2})
>>> res = ImageResult((face,), 32, 32, "haar", "m", ("happy", "sad"))
>>> annotate(np.zeros((32, 32, 3), np.uint8), res).shape
(32, 32, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .types import ImageResult

#: RGB colour of each canonical emotion (also used by the charts).
EMOTION_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (220, 40, 40),
    "disgust": (120, 160, 30),
    "fear": (150, 70, 200),
    "happy": (250, 200, 20),
    "sad": (40, 110, 220),
    "surprise": (250, 130, 20),
    "neutral": (160, 160, 160),
    "contempt": (150, 90, 60),
}
_FALLBACK = (255, 255, 255)
#: Valence (mood) is no emotion: near-black and thicker wherever it is drawn, so it is never read as one.
VALENCE_HEX = "#262626"


def emotion_color(label: str) -> tuple[int, int, int]:
    """RGB colour for ``label`` (white for anything unknown)."""
    return EMOTION_COLORS.get(label, _FALLBACK)


def emotion_hex(label: str) -> str:
    """``#rrggbb`` colour for ``label``, for Plotly and CSS."""
    return "#{:02x}{:02x}{:02x}".format(*emotion_color(label))


def annotate(rgb: np.ndarray, result: ImageResult, show_score: bool = True,
             numbers: Sequence[int] | None = None) -> np.ndarray:
    """A copy of ``rgb`` with each face's box and ``number emotion confidence`` label drawn on it.

    Faces are numbered 1, 2, ... in the order of ``result.faces`` unless
    ``numbers`` gives one number per face: the live pipeline passes its track
    ids, so "face 3" on the video is "Face 3" on the Webcam page and its chart
    even after faces left and came back. Line width and text size follow the
    image size so labels stay legible on both thumbnails and 4K frames.

    >>> from emotion.types import FaceResult
    >>> face = FaceResult((2, 2, 20, 20), 0.9, "happy", {"happy": 0.8, "sad": 0.2})
    >>> res = ImageResult((face,), 32, 32, "haar", "m", ("happy", "sad"))
    >>> annotate(np.zeros((32, 32, 3), np.uint8), res, numbers=[3]).shape
    (32, 32, 3)
    """
    import cv2

    if numbers is None:
        numbers = range(1, len(result.faces) + 1)
    elif len(numbers) != len(result.faces):
        raise ValueError(f"annotate: expected one number per face ({len(result.faces)}), got {len(numbers)}")
    out = np.array(rgb, dtype=np.uint8, copy=True)
    h, w = out.shape[:2]
    thick = max(1, round(max(h, w) / 400))
    font_scale = max(0.35, max(h, w) / 1400)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for i, face in zip(numbers, result.faces):
        color = emotion_color(face.emotion)
        x1, y1, x2, y2 = face.box
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thick)
        text = f"{i} {face.emotion} {face.confidence:.2f}" if show_score else f"{i} {face.emotion}"
        (tw, th), base = cv2.getTextSize(text, font, font_scale, thick)
        top = y1 - th - base - 2 * thick
        if top < 0:  # no room above the box: put the label inside it
            top = min(y1, h - th - base - 2 * thick)
        left = max(0, min(x1, w - tw - 2 * thick))
        cv2.rectangle(out, (left, top), (left + tw + 2 * thick, top + th + base + 2 * thick), color, cv2.FILLED)
        luma = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
        ink = (0, 0, 0) if luma > 140 else (255, 255, 255)
        cv2.putText(out, text, (left + thick, top + th + thick), font, font_scale, ink, thick, cv2.LINE_AA)
    return out
