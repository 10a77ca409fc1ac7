"""Decoding a sound track for alignment: channels averaged before resampling, whatever their number."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from emotion.audience.audio import RATE, load_audio


def _write(path, channels: np.ndarray, rate: int, layout: str, codec: str = "pcm_s16le"):
    """A sound-only file with ``channels`` (n_channels, n_samples) float in [-1, 1]."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        pts = 0
        for a in range(0, channels.shape[1], 1024):
            block = np.ascontiguousarray(channels[:, a:a + 1024].T, np.float32)   # interleaved "flt"
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
            pts += frame.samples
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_channels_are_averaged_whatever_their_number(tmp_path):
    rate, n = 16000, 16000 * 2
    tone = (0.6 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)
    six = np.zeros((6, n), np.float32)
    six[2] = tone                                       # the centre channel of a 5.1 mix speaks alone
    x = load_audio(_write(tmp_path / "surround.wav", six, rate, "5.1"))
    assert len(x) == pytest.approx(2 * RATE, abs=2)
    rms = float(np.sqrt(np.mean(x[RATE // 4: -RATE // 4] ** 2)))
    assert rms == pytest.approx(0.6 / 6 / np.sqrt(2), rel=0.03), "one channel of six, averaged"
    left = load_audio(_write(tmp_path / "stereo.wav", np.stack([tone, 0 * tone]), rate, "stereo"))
    rms = float(np.sqrt(np.mean(left[RATE // 4: -RATE // 4] ** 2)))
    assert rms == pytest.approx(0.6 / 2 / np.sqrt(2), rel=0.03), "the left channel of two, averaged"

