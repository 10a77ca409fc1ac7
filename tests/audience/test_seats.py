"""emotion.audience.seats: viewers as seats for a fixed camera on a room, and the choice between seats and tracks."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.audience.seats import find_seats, group_viewers


def _room(rows=3, cols=4, samples=120, face=40, gap=70, jitter=3.0, seed=0, missing=0.05, hidden=()):
    """Face rows of a still room: seat (r, c) at (c*gap, r*gap), a little sway, some misses; ``hidden``:
    (seat index, first sample, last sample) when that seat is not seen."""
    rng = np.random.default_rng(seed)
    sample, boxes, seat = [], [], []
    for s in range(samples):
        for k in range(rows * cols):
            if rng.random() < missing or any(h == k and a <= s <= b for h, a, b in hidden):
                continue
            r, c = divmod(k, cols)
            x, y = c * gap + rng.normal(0, jitter), r * gap + rng.normal(0, jitter)
            size = face * rng.uniform(0.92, 1.08)
            sample.append(s)
            boxes.append([x, y, x + size, y + size])
            seat.append(k)
    return np.array(sample), np.array(boxes), np.array(seat)


def test_each_seat_is_one_viewer_numbered_in_reading_order():
    sample, boxes, seat = _room()
    v = find_seats(sample, boxes, fps=4, min_viewer_s=5)
    assert v.count == 12 and v.grouping == "seats"
    # reading order: the seat in row r, column c is viewer r*4 + c + 1
    assert np.array_equal(v.viewer, seat + 1)
    assert v.seated_share == 1.0 and v.boxes.shape == (12, 4)


def test_a_hidden_seat_comes_back_as_the_same_viewer():
    sample, boxes, seat = _room(samples=160, hidden=((5, 40, 80),))      # 10 s hidden at 4 samples/s
    v = find_seats(sample, boxes, fps=4, min_viewer_s=5)
    assert v.count == 12
    after = (seat == 5) & (sample > 80)
    assert set(v.viewer[after].tolist()) == {6} and set(v.viewer[(seat == 5) & (sample < 40)].tolist()) == {6}


def test_neighbours_a_face_apart_stay_two_and_the_numbers_are_stable():
    sample, boxes, seat = _room(rows=1, cols=6, gap=44, jitter=2.0)     # faces 40 px wide, 4 px apart
    first = find_seats(sample, boxes, fps=4, min_viewer_s=5)
    assert first.count == 6 and np.array_equal(first.viewer, seat + 1)
    order = np.random.default_rng(1).permutation(len(sample))           # the same faces in another order
    again = find_seats(sample[order], boxes[order], fps=4, min_viewer_s=5)
    assert np.array_equal(again.viewer, first.viewer[order])


def test_a_passer_by_is_no_viewer_and_one_face_per_seat_and_sample():
    sample, boxes, _ = _room(rows=1, cols=3)
    walk = np.array([[300 + 5 * s, 200, 340 + 5 * s, 240] for s in range(8)], float)   # 2 s across the room
    double = boxes[:1] + [2, 2, 2, 2]                                    # a second face on seat 1, sample 0
    v = find_seats(np.r_[sample, np.arange(8), sample[:1]], np.r_[boxes, walk, double], fps=4, min_viewer_s=5)
    assert v.count == 3
    assert (v.viewer[len(sample):len(sample) + 8] == 0).all(), "the passer-by"
    assert v.viewer[-1] == 0 or v.viewer[0] == 0, "one face per seat and sample"


def test_auto_uses_seats_for_a_still_room_and_tracks_for_one_viewer_or_a_moving_camera():
    sample, boxes, _ = _room()
    times = np.arange(sample.max() + 1) / 4
    room = group_viewers(times, sample, boxes, fps=4, min_viewer_s=5)
    assert room.grouping == "seats" and room.count == 12 and "room" in room.reason
    one = sample[::12], boxes[::12]
    single = group_viewers(times, *one, fps=4, min_viewer_s=5)
    assert single.grouping == "tracks" and "not a room" in single.reason
    pan = boxes + np.c_[sample * 6.0, np.zeros_like(sample), sample * 6.0, np.zeros_like(sample)]  # camera pans
    moving = group_viewers(times, sample, pan, fps=4, min_viewer_s=5)
    assert moving.grouping == "tracks" and "move" in moving.reason
    with pytest.raises(ValueError, match="grouping"):
        group_viewers(times, sample, boxes, fps=4, grouping="chairs")


def test_what_a_scan_found_is_said_in_words():
    from emotion.audience.report import found_in_words

    text = found_in_words({"name": "room.mp4", "viewers": 3, "face_share": [1.0, 0.95, 0.56], "viewers_by": "seats",
                           "smallest_face_px": 36.4, "detect_side": 1067,
                           "viewers_by_reason": "seats: a fixed camera on a room"})
    assert text == ("room.mp4: 3 seats, seen 56-100 % of the time (2 at least 90 %); smallest face 36 px, frames "
                    "read at 1067 px; told apart by seats: a fixed camera on a room")
    assert found_in_words({"name": "a.mp4", "viewers": 0}) == "a.mp4: no viewer's face was found"
