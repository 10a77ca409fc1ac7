"""Aligning reaction recordings to the film by sound: real soundtrack, degraded as a room microphone hears it."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.audience.sync import WEAK, SyncResult, film_times, onset_envelope, sync_offset
from emotion.errors import SyncError

#: (recording, offset s, SNR dB): the recording starts before the film (positive) or after it (negative).
CASES = [
    ("before_0db.mp4", 7.3, 0.0),
    ("after_0db.mp4", -12.6, 0.0),
    ("before_minus5db.mp4", 3.1, -5.0),
    ("after_minus10db.mp4", -4.2, -10.0),
]


@pytest.mark.parametrize("name, offset, snr", CASES)
def test_offset_found_within_a_tenth_of_a_second(shared_media, recordings, name, offset, snr):
    result = sync_offset(shared_media.TRAILER, recordings(name, offset, 30.0, snr), cache=False)
    assert abs(result.offset_s - offset) < 0.1, result.offset_s
    assert not result.piecewise and result.pieces == ((0.0, result.offset_s),)
    if snr >= -5:
        assert result.confidence >= WEAK and result.warnings == ()
    assert result.lags_s.min() <= result.offset_s <= result.lags_s.max() and len(result.curve) == len(result.lags_s)


def test_paused_screening_is_aligned_piece_by_piece(shared_media, recordings):
    # The film stops at 15 s of film time for 6 s: after the pause it is 6 s later in the recording.
    path = recordings("paused.mp4", 2.0, 40.0, 0.0, pause=(15.0, 6.0))
    result = sync_offset(shared_media.TRAILER, path, cache=False)
    assert result.piecewise and len(result.pieces) == 2
    assert abs(result.offset_s - 2.0) < 0.1 and abs(result.pieces[1][1] - 8.0) < 0.1
    assert any("different offsets" in w and "piece by piece" in w for w in result.warnings)
    # Film time follows each piece: before the pause recording - 2 s, after it recording - 8 s.
    assert np.allclose(film_times([5.0, 35.0], result.pieces), [3.0, 27.0], atol=0.1)


def test_unrelated_sound_is_a_weak_match(shared_media, tmp_path):
    noise = np.random.default_rng(0).normal(0, 0.1, shared_media.SOUND_RATE * 30).astype(np.float32)
    path = shared_media.write_recording(tmp_path / "noise.mp4", noise, 30.0)
    result = sync_offset(shared_media.TRAILER, path, cache=False)
    assert result.confidence < WEAK
    assert any("only weakly" in w and "by hand" in w for w in result.warnings)


def test_recording_without_sound_says_an_offset_is_needed(shared_media, recordings):
    with pytest.raises(SyncError, match=r"no sound track.*by hand"):
        sync_offset(shared_media.TRAILER, recordings("mute.mp4", 0.0, 10.0, sound=False), cache=False)


def test_silent_sound_track_says_an_offset_is_needed(shared_media, tmp_path):
    path = shared_media.write_recording(tmp_path / "silent.mp4", np.zeros(16000 * 8, np.float32), 8.0)
    with pytest.raises(SyncError, match="silent.*by hand"):
        sync_offset(shared_media.TRAILER, path, cache=False)


def test_film_envelope_is_cached_for_the_next_reaction(shared_media, recordings, tmp_path, monkeypatch):
    import emotion.audience.sync as sync

    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path))
    path = recordings("before_0db.mp4", 7.3, 30.0, 0.0)
    first = sync_offset(shared_media.TRAILER, path)
    assert len(list((tmp_path / "audience" / "audio").glob("*.npy"))) == 1
    decoded = []
    real = sync.load_audio
    monkeypatch.setattr(sync, "load_audio", lambda p, *a, **k: decoded.append(p) or real(p, *a, **k))
    second = sync_offset(shared_media.TRAILER, path)
    assert decoded == [path], "only the recording is decoded again"
    assert second.offset_s == pytest.approx(first.offset_s)


def test_envelope_ignores_loudness():
    rng = np.random.default_rng(1)
    x = (rng.normal(size=16000) * np.repeat(rng.uniform(0.1, 1, 20), 800)).astype(np.float32)
    assert np.allclose(onset_envelope(x), onset_envelope(0.05 * x), atol=1e-3)


@pytest.mark.parametrize("kwargs, message", [
    ({"offset_s": float("nan")}, "finite"),
    ({"confidence": 1.5}, "0..1"),
    ({"pieces": ((5.0, 1.0), (2.0, 3.0))}, "increasing"),
    ({"curve": [1.0, 2.0]}, "lags"),
])
def test_sync_result_validates(kwargs, message):
    base = {"offset_s": 1.0, "confidence": 0.5, "sections": (), "pieces": (), "lags_s": [0.0], "curve": [1.0]}
    with pytest.raises(ValueError, match=message):
        SyncResult(**{**base, **kwargs})
