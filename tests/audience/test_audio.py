"""Decoding a sound track for alignment: channels averaged, long tracks decoded in parts by threads."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import emotion.audience.audio as audio
from emotion.audience.audio import RATE, load_audio, onset_envelope


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


def test_a_long_track_decoded_in_parts_matches_one_pass(shared_media, monkeypatch):
    one = load_audio(shared_media.TRAILER)
    monkeypatch.setattr(audio, "PARALLEL_FROM_S", 0.0)
    calls = []
    real = audio._decode_span
    monkeypatch.setattr(audio, "_decode_span", lambda *a, **k: calls.append(a[3:]) or real(*a, **k))
    parts = load_audio(shared_media.TRAILER)
    calls.sort()
    assert len(calls) == audio.PARTS == 4 and calls[0][0] == -np.inf and calls[-1][1] == np.inf
    assert all(a[1] == b[0] for a, b in zip(calls, calls[1:])), "stretches that meet"
    assert abs(len(parts) - len(one)) <= 1
    n = min(len(one), len(parts))
    # Each part is resampled on its own and placed to the nearest sample: the samples differ by a
    # fraction of a sample's phase, the onset envelopes that sync uses hardly at all.
    assert np.corrcoef(onset_envelope(one[:n]), onset_envelope(parts[:n]))[0, 1] > 0.99


def test_sync_finds_the_same_offset_from_a_film_decoded_in_parts(shared_media, recordings, monkeypatch):
    from emotion.audience.sync import sync_offset

    path = recordings("before_0db.mp4", 7.3, 30.0, 0.0)
    one = sync_offset(shared_media.TRAILER, path, cache=False)
    monkeypatch.setattr(audio, "PARALLEL_FROM_S", 0.0)
    parts = sync_offset(shared_media.TRAILER, path, cache=False)
    assert parts.offset_s == pytest.approx(one.offset_s, abs=0.005) and abs(parts.offset_s - 7.3) < 0.1
