"""emotion.audience.seatmap: a still of the room with faces blurred, seats numbered and coloured by response."""

from __future__ import annotations

import cv2
import numpy as np

from emotion.audience.seatmap import blur_boxes, seat_map_png


class _Report:
    """The parts of an AudienceReport a seat map reads."""

    def __init__(self, still: bytes, seats):
        self.stills = (still,)
        self.reactions = ({"name": "room.mp4", "frame_size": [640, 360], "viewers_by": "seats"},)
        self.viewer_summary = tuple({"viewer": i + 1, "reaction": "room.mp4", "position_x": x, "position_y": y,
                                     "face_px": 40, "strongest_response": e} for i, (x, y, e) in enumerate(seats))


def _still() -> bytes:
    img = np.random.default_rng(0).integers(0, 255, (180, 320, 3), dtype=np.uint8)   # half the recording's size
    return cv2.imencode(".jpg", img)[1].tobytes()


def test_seats_are_drawn_where_they_sit_in_their_response_colour():
    png = seat_map_png(_Report(_still(), [(100, 100, "happy"), (500, 250, None)]), 0)
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    assert img.shape[1] == 320 and img.shape[0] > 180, "the still, with a legend strip under it"
    happy = img[50 + 7, 50 - 8].astype(int)                 # inside the disc at (100, 100) / 2, off its number
    assert happy[0] > happy[2] + 40 and happy[1] > happy[2] + 40, f"yellow-ish disc: {happy}"
    grey = img[125 + 7, 250 - 8].astype(int)
    assert abs(grey[0] - grey[1]) < 40 and abs(grey[1] - grey[2]) < 40, f"grey disc (no clear response): {grey}"


def test_no_still_or_no_seats_no_map():
    assert seat_map_png(_Report(b"", [(100, 100, "happy")]), 0) is None
    assert seat_map_png(_Report(_still(), []), 0) is None
    tracks = _Report(_still(), [(100, 100, "happy")])
    tracks.reactions = ({**tracks.reactions[0], "viewers_by": "tracks"},)
    assert seat_map_png(tracks, 0) is None, "a webcam viewer or a moving camera has no seats"


def test_faces_are_blurred_beyond_recognition_and_the_rest_is_untouched():
    img = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    out = blur_boxes(img, np.array([[60, 40, 100, 80]]))
    assert out[50:70, 70:90].std() < 0.25 * img[50:70, 70:90].std()
    assert (out[:, :20] == img[:, :20]).all() and (out[:5] == img[:5]).all()
