"""A reaction recording read in spans on a local Ray cluster gives the scan of one pass, number for number."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.audience import analyze_reaction
from emotion.audience.chunks import plan_spans
from emotion.settings import AudienceSettings, Settings

import rooms

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_spans_start_on_whole_batches_and_cover_every_sample():
    times = [i / 30 for i in range(30 * 61)]                  # 61 s at 30 fps, 4 samples/s: 244 samples
    spans = plan_spans(times, fps=4, parts=3)
    assert [s.first_index for s in spans] == [0, 96, 192] and spans[-1].end_s == float("inf")
    assert all(s.first_index % 16 == 0 for s in spans)
    assert [s.start_s for s in spans[1:]] == [s.end_s for s in spans[:-1]] == [24.0, 48.0]
    assert [s.first_frame for s in spans] == [0, 720, 1440]
    assert plan_spans(times, fps=4, parts=1) == plan_spans(times[:5], fps=4, parts=1)


def test_a_room_on_two_ray_workers_is_the_room_on_one_machine(tmp_path):
    pytest.importorskip("ray")
    for need in (rooms.FACE_VIDEO, rooms.YUNET):
        if not need.exists():
            pytest.skip(f"{need} is absent (shared data)")
    settings = Settings(detector="yunet", face_model=str(rooms.YUNET))
    room = rooms.build_room(tmp_path / "room.mp4", seats=6, face_px=60, seconds=20, fps=10, seed=4,
                            size=(1280, 720))
    one = analyze_reaction(room.path, 0.0, settings, AudienceSettings(), cache=False)
    many = analyze_reaction(room.path, 0.0, settings, AudienceSettings(), cache=False, ray="local", workers=2)
    assert one.viewers == many.viewers == 6 and many.grouping == "seats"
    assert np.array_equal(one.recording_time, many.recording_time)
    assert np.array_equal(one.face, many.face) and np.array_equal(one.attentive, many.attentive)
    assert np.array_equal(one.probs, many.probs, equal_nan=True), "the same batches: the same probabilities"
    assert np.array_equal(one.viewer_boxes, many.viewer_boxes)
