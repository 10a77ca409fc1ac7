"""A screening room filmed by one fixed camera: seats found, each seen, sync right, a hidden seat, infrared.

The rooms are built from the shared face video and the trailer's sound
(tests/rooms.py): faces looped, mirrored, scaled, dimmed, with noise; skipped
with the reason where ../shared/data is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

from emotion.audience import analyze_reaction
from emotion.audience.sync import sync_offset
from emotion.settings import AudienceSettings, Settings

import rooms

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings():
    for need in (rooms.FACE_VIDEO, rooms.TRAILER, rooms.YUNET):
        if not need.exists():
            pytest.skip(f"{need} is absent (shared data)")
    return Settings(detector="yunet", face_model=str(rooms.YUNET))


def test_a_grey_room_with_a_seat_hidden_for_ten_seconds(settings, tmp_path):
    """12 seats, faces 36 px wide in 1080p, infrared-grey and dim, seat 5 hidden from 6 s to 16 s."""
    room = rooms.build_room(tmp_path / "room.mp4", seats=12, face_px=36, seconds=24, fps=8, light=0.45,
                            noise=6.0, grey=True, hide=((4, 6.0, 16.0),), sound_offset_s=2.5, seed=11)
    found = sync_offset(rooms.TRAILER, room.path, cache=False)
    assert abs(found.offset_s - 2.5) < 0.05, found
    reaction = analyze_reaction(room.path, found, settings, AudienceSettings(), cache=False)
    assert reaction.grouping == "seats" and reaction.viewers == 12, reaction.summary()
    centres = (reaction.viewer_boxes[:, :2] + reaction.viewer_boxes[:, 2:]) / 2
    seat_of = [int(np.argmin(np.linalg.norm(centres - np.array(xy), axis=1))) for xy in room.seats]
    assert sorted(seat_of) == list(range(12)), "one viewer sits at each seat"
    seen = reaction.face.mean(axis=1)[seat_of]
    assert (np.delete(seen, 4) >= 0.9).all(), seen
    assert 0.5 <= seen[4] <= 0.65, "seat 5 is seen only while it is not hidden, and stays one viewer"
    assert reaction.detect_side > 480 and 25 <= reaction.smallest_face_px <= 45, reaction.summary()


def test_a_small_faced_room_is_read_at_the_size_its_faces_need(settings, tmp_path):
    """24 seats with faces 30 px wide: at the default 480 px they are 7-8 px and most are lost."""
    room = rooms.build_room(tmp_path / "small.mp4", seats=24, face_px=30, seconds=12, fps=8, seed=7)
    fitted = analyze_reaction(room.path, 0.0, settings, AudienceSettings(), cache=False)
    assert fitted.viewers == 24 and (fitted.face.mean(axis=1) >= 0.9).all(), fitted.summary()
    fixed = analyze_reaction(room.path, 0.0, settings, AudienceSettings(fit_faces=False), cache=False)
    well_seen = int((fixed.face.mean(axis=1) >= 0.9).sum())
    assert fixed.face.sum() < 0.9 * fitted.face.sum() and well_seen < 24, (fixed.face.sum(), well_seen)
