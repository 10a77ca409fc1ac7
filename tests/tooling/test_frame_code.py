"""The frame code of benchmarks/bench_live_delay.py: a frame index drawn as blocks reads back after scaling and VP8.

A check of the benchmark's own code, not of the product (marker ``tooling``).

The live-screening delay benchmark learns which film frame a camera frame shows
from blocks drawn into every film frame (benchmarks/frame_code.py). These tests
check that the code reads back exactly (and never wrongly) after what WebRTC
does to a picture: scaling, stretching, brightness changes and a VP8 round trip
at a low bit rate, the codec and rate a new WebRTC connection starts with.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tooling

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("frame_code", ROOT / "benchmarks" / "frame_code.py")
frame_code = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frame_code)


def picture(seed: int = 0, size=(360, 640)) -> np.ndarray:
    """A busy background (noise), so a read cannot lean on a plain frame."""
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 255, 1000, 2047, 2048, 4095])
def test_round_trip(n):
    assert frame_code.read(frame_code.draw(picture(n), n))[0] == n


@pytest.mark.parametrize("size", [(180, 320), (480, 640), (240, 320), (720, 1280)])
def test_reads_after_scaling_and_stretching(size):
    import cv2

    coded = frame_code.draw(picture(), 1234)
    h, w = size
    assert frame_code.read(cv2.resize(coded, (w, h), interpolation=cv2.INTER_AREA))[0] == 1234


def test_reads_darker_duller_pictures():
    coded = frame_code.draw(picture(), 777).astype(np.float32)
    assert frame_code.read((coded * 0.5 + 40).astype(np.uint8))[0] == 777


def test_a_picture_without_the_code_does_not_read():
    assert frame_code.read(picture())[0] is None
    assert frame_code.read(np.full((360, 640, 3), 128, np.uint8)) == (None, 0.0)


def test_gray_code_steps_one_column_at_a_time():
    for n in range(2 ** frame_code.BITS - 1):
        assert bin(frame_code.gray(n) ^ frame_code.gray(n + 1)).count("1") == 1
        assert frame_code.ungray(frame_code.gray(n)) == n


def test_out_of_range_index_is_refused():
    with pytest.raises(ValueError, match="frame index"):
        frame_code.draw(picture(), 2 ** frame_code.BITS)


def test_browser_layout_is_the_same_blocks():
    """live_delay_camera.js reads the fractions of layout(): they must land on the blocks read() averages."""
    layout = frame_code.layout()
    assert layout["bits"] == frame_code.BITS and len(layout["blocks"]) == frame_code.BITS
    w, h = 640, 360
    for column, (top, bottom) in zip(layout["blocks"], frame_code._blocks(w, h, frame_code.INNER)):
        for fractions, pixels in zip(column, (top, bottom)):
            x0, x1, y0, y1 = fractions
            assert (round(x0 * w), round(x1 * w), round(y0 * h), round(y1 * h)) == pixels


def test_reads_after_vp8_at_a_low_bit_rate():
    """50 consecutive coded frames through libvpx at 300 kbit/s: every frame reads, and reads right."""
    import av

    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 640, 360, "yuv420p"
    encoder.bit_rate = 300_000
    encoder.options = {"deadline": "realtime", "cpu-used": "-6", "lag-in-frames": "0"}
    decoder = av.CodecContext.create("libvpx", "r")
    base = picture(7)
    reads = []
    for n in range(100, 150):
        moving = np.roll(base, 8 * n, axis=1)   # a moving background: the codec has work to do
        frame = av.VideoFrame.from_ndarray(frame_code.draw(moving, n), format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        for packet in encoder.encode(frame):
            for out in decoder.decode(packet):
                reads.append((out.pts, frame_code.read(out.to_ndarray(format="rgb24"))[0]))
    for packet in encoder.encode(None):
        for out in decoder.decode(packet):
            reads.append((out.pts, frame_code.read(out.to_ndarray(format="rgb24"))[0]))
    assert len(reads) == 50
    assert all(code == pts for pts, code in reads), [r for r in reads if r[0] != r[1]]
