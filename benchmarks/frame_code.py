"""A frame number drawn into the picture as big black and white blocks, and read back after a video codec.

For benchmarks/bench_live_delay.py: every frame of the test film carries its
own index, so whatever copy of the picture comes back (sent over WebRTC as VP8,
shown in a browser, filmed again, sent back) says which film frame it shows.

The code is a band at the top of the frame: :data:`BITS` columns, two rows.
Column ``i`` holds bit ``i`` of the index's Gray code in the top row and its
complement in the bottom row, so a bit is read by comparing two blocks of the
same picture (no fixed threshold: brightness, contrast and colour shifts do not
matter) and every bit checks itself: a read is accepted only when each column's
two blocks differ by at least :data:`MIN_CONTRAST` levels of luma. Gray code
makes neighbouring frames differ in one column, so a codec smearing two frames
together changes one bit by one. Positions are fractions of the frame, so any
uniform scaling reads the same; only the middle half of each block is averaged,
which blurred edges never reach.

>>> from functools import lru_cache

from functools import lru_cache

import numpy as np
>>> frame = np.full((360, 640, 3), 128, np.uint8)
>>> read(draw(frame, 1234))
(1234, 215.0)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Columns of the code: frame indices 0 .. 2**BITS - 1 (164 s at 25 fps).
BITS = 12
#: The band: left, right, top, middle (between the two rows), bottom, as fractions of the frame.
LEFT, RIGHT, TOP, MIDDLE, BOTTOM = 0.02, 0.98, 0.02, 0.13, 0.24
#: Levels of luma (0-255) that each column's two blocks must differ by for a read to count.
MIN_CONTRAST = 48.0
#: The part of each block that is averaged (its middle: codec blur stays at the edges).
INNER = 0.5
WHITE, BLACK = 235, 20


def gray(n: int) -> int:
    return n ^ (n >> 1)


def ungray(g: int) -> int:
    n = 0
    while g:
        n ^= g
        g >>= 1
    return n


@lru_cache(maxsize=16)
def _blocks(width: int, height: int, inner: float = 1.0) -> tuple[tuple[tuple[int, int, int, int], ...], ...]:
    """Per column: ((x0, x1, y0, y1) of the top block, the same of the bottom block), in pixels."""
    step = (RIGHT - LEFT) / BITS
    out = []
    for i in range(BITS):
        pad_x = step * (1 - inner) / 2
        x0, x1 = LEFT + i * step + pad_x, LEFT + (i + 1) * step - pad_x
        rows = []
        for top, bottom in ((TOP, MIDDLE), (MIDDLE, BOTTOM)):
            pad_y = (bottom - top) * (1 - inner) / 2
            rows.append((int(round(x0 * width)), int(round(x1 * width)),
                         int(round((top + pad_y) * height)), int(round((bottom - pad_y) * height))))
        out.append(tuple(rows))
    return tuple(out)


def draw(rgb: np.ndarray, n: int) -> np.ndarray:
    """A copy of ``rgb`` (H, W, 3) uint8 with frame index ``n`` coded in its top band."""
    if not 0 <= n < 2 ** BITS:
        raise ValueError(f"frame index must be in 0..{2 ** BITS - 1}, got {n}")
    out = np.array(rgb, dtype=np.uint8, copy=True)
    h, w = out.shape[:2]
    code = gray(n)
    for i, (top, bottom) in enumerate(_blocks(w, h)):
        bit = (code >> (BITS - 1 - i)) & 1
        for (x0, x1, y0, y1), value in ((top, WHITE if bit else BLACK), (bottom, BLACK if bit else WHITE)):
            out[y0:y1, x0:x1] = value
    return out


def read(rgb: np.ndarray) -> tuple[int | None, float]:
    """(frame index, or None when the band does not read cleanly; the weakest column's contrast in luma)."""
    h, w = rgb.shape[:2]
    weights = np.array([0.299, 0.587, 0.114]) if rgb.ndim == 3 else None

    def luma(x0, x1, y0, y1) -> float:   # the block's mean luma (blocks only: cheap on a full frame)
        block = rgb[y0:y1, x0:x1]
        return float(block.mean()) if weights is None else float(block.reshape(-1, 3).mean(0) @ weights)

    code, weakest = 0, np.inf
    for top, bottom in _blocks(w, h, INNER):
        a, b = luma(*top), luma(*bottom)
        code = (code << 1) | (a > b)
        weakest = min(weakest, abs(a - b))
    weakest = round(weakest, 1)
    return (ungray(code), weakest) if weakest >= MIN_CONTRAST else (None, weakest)


def layout() -> dict:
    """The sampled blocks as fractions of the frame, for the browser's reader (live_delay_camera.js)."""
    unit = 10_000   # _blocks in a 10000 x 10000 frame gives the fractions to four places
    return {"bits": BITS, "min_contrast": MIN_CONTRAST,
            "blocks": [[[v / unit for v in rect] for rect in column] for column in _blocks(unit, unit, INNER)]}
