"""Reaction recordings made once per session from ../shared/data (skipped with the reason when it is absent)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the media helpers live in tests/

import audience_media as media  # noqa: E402


@pytest.fixture(scope="session")
def shared_media():
    reason = media.missing()
    if reason:
        pytest.skip(reason)
    return media


@pytest.fixture(scope="session")
def trailer_sound(shared_media):
    return shared_media.decode_sound(shared_media.TRAILER)


@pytest.fixture(scope="session")
def small_film(shared_media, tmp_path_factory) -> Path:
    """20 s of colour scenes (cuts every 5 s) with the trailer's first 20 s of sound."""
    return shared_media.write_film(tmp_path_factory.mktemp("film") / "short_film.mp4", 20.0)


@pytest.fixture(scope="session")
def recordings(shared_media, trailer_sound, tmp_path_factory):
    """Factory: ``recordings(name, offset_s, duration_s, snr_db, viewers=1, sound=True, pause=None)`` -> path."""
    folder = tmp_path_factory.mktemp("reactions")
    made: dict = {}

    def make(name: str, offset_s: float, duration_s: float = 24.0, snr_db: float = 0.0, viewers: int = 1,
             sound: bool = True, pause=None, film=None) -> Path:
        key = (name, offset_s, duration_s, snr_db, viewers, sound, pause)
        if key not in made:
            audio = shared_media.room_sound(trailer_sound if film is None else film, offset_s, duration_s, snr_db,
                                            pause=pause) if sound else None
            made[key] = shared_media.write_recording(folder / name, audio, duration_s, viewers=viewers)
        return made[key]
    return make


@pytest.fixture(scope="session")
def yunet_tiny_detector(shared_media, tiny_model):
    """YuNet (the shared copy) with the tiny random model: real faces and landmarks, real code paths."""
    from emotion.detector import EmotionDetector
    from emotion.faces import YuNetDetector

    return EmotionDetector(YuNetDetector(shared_media.YUNET), tiny_model)
