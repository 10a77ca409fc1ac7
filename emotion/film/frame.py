"""One decoded frame of a film, and the pixel conversions a pass asks of it.

A :class:`Frame` wraps PyAV's buffer while :class:`~emotion.film.video.VideoReader`
is on it: pixels are converted only when asked for (RGB for faces, at most a
given size; a cheap BGR thumbnail for shot detection), so frames nobody samples
cost nothing beyond decoding.
"""

from __future__ import annotations

import numpy as np

#: Pixel formats whose planes :meth:`Frame.small_bgr` reads directly (8-bit 4:2:0 planar).
_FAST_FORMATS = ("yuv420p", "yuvj420p")


class Frame:
    """One decoded frame, valid only until the reader moves on (it wraps PyAV's buffer).

    ``index`` counts frames from 0 in presentation order, ``time`` is seconds
    since the first frame (from pts and time base), ``pts`` the raw timestamp.
    Pixels are converted only when asked for, so frames nobody samples cost
    nothing beyond decoding.
    """

    __slots__ = ("_frame", "_rotation", "index", "pts", "time")

    def __init__(self, index: int, time: float, pts: int | None, frame, rotation: int):
        self.index = index
        self.time = time
        self.pts = pts
        self._frame = frame
        self._rotation = rotation

    def __repr__(self) -> str:
        return f"Frame(index={self.index}, time={self.time:.3f})"

    def rgb(self, max_side: int | None = None) -> np.ndarray:
        """The frame as displayed: RGB uint8 (H, W, 3), rotated, long side at most ``max_side``.

        Downscaling happens in FFmpeg's scaler together with the colour
        conversion, which is cheaper than converting the full frame first.
        """
        f = self._frame
        w, h = f.width, f.height
        scale = 1.0 if not max_side else min(1.0, max_side / max(w, h))
        if scale < 1.0:
            out = f.reformat(width=max(2, round(w * scale)), height=max(2, round(h * scale)),
                             format="rgb24").to_ndarray()
        else:
            out = f.to_ndarray(format="rgb24")
        return _rotate(out, self._rotation)

    def small_bgr(self, step: int) -> np.ndarray:
        """A cheap BGR thumbnail, every ``step``-th pixel, for shot detection (not rotated).

        Reads the Y, U and V planes directly for 8-bit 4:2:0 video (nearest
        neighbour, no scaler set-up per frame); other formats go through
        FFmpeg's scaler. Rotation is left out: the frame-to-frame differences
        that shot detectors measure do not depend on it.
        """
        import cv2

        f = self._frame
        step = max(1, int(step))
        if f.format.name not in _FAST_FORMATS:
            w, h = max(2, f.width // step), max(2, f.height // step)
            return f.reformat(width=w, height=h, format="bgr24").to_ndarray()
        h, w = f.height, f.width
        y = _plane(f.planes[0], h, w)[::step, ::step]
        ch, cw = (h + 1) // 2, (w + 1) // 2
        u, v = _plane(f.planes[1], ch, cw), _plane(f.planes[2], ch, cw)
        if step % 2 == 0:
            u, v = u[:: step // 2, :: step // 2], v[:: step // 2, :: step // 2]
        if u.shape != y.shape:
            size = (y.shape[1], y.shape[0])
            u = cv2.resize(np.ascontiguousarray(u), size, interpolation=cv2.INTER_NEAREST)
            v = cv2.resize(np.ascontiguousarray(v), size, interpolation=cv2.INTER_NEAREST)
        ycrcb = cv2.merge([np.ascontiguousarray(y), np.ascontiguousarray(v), np.ascontiguousarray(u)])
        if f.format.name == "yuv420p":
            # Limited ("TV") range: stretch to full range so colour differences match what the
            # detectors' thresholds were tuned on (FFmpeg's own conversion does the same).
            ycrcb = cv2.LUT(ycrcb, _TV_TO_FULL)
        # OpenCV's YCrCb uses the BT.601 matrix; close enough for detecting cuts in any footage.
        return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR)


def _tv_to_full_lut() -> np.ndarray:
    """A 3-channel lookup table from limited-range Y, Cr, Cb to full range."""
    x = np.arange(256, dtype=np.float64)
    luma = np.clip((x - 16.0) * 255.0 / 219.0, 0, 255)
    chroma = np.clip((x - 128.0) * 255.0 / 224.0 + 128.0, 0, 255)
    return np.round(np.stack([luma, chroma, chroma], axis=1)).astype(np.uint8).reshape(256, 1, 3)


_TV_TO_FULL = _tv_to_full_lut()


def _plane(plane, height: int, width: int) -> np.ndarray:
    """A numpy view of one picture plane without its row padding."""
    arr = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
    return arr[:height, :width]


def _rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a counter-clockwise display rotation (degrees, multiple of 90)."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb
