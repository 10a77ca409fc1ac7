import numpy as np
import pytest

from emotion.annotate import EMOTION_COLORS, annotate, emotion_color, emotion_hex
from emotion.labels import CANONICAL
from emotion.types import FaceResult, ImageResult


def result(w=200, h=150, emotion="happy", box=(40, 50, 120, 140)):
    face = FaceResult(box, 0.9, emotion, {"happy": 0.7, "sad": 0.3} if emotion in ("happy", "sad")
                      else {emotion: 1.0})
    return ImageResult((face,), w, h, "fake", "m", tuple(face.probabilities))


def test_every_canonical_emotion_has_its_own_colour():
    assert set(EMOTION_COLORS) == set(CANONICAL)
    assert len(set(EMOTION_COLORS.values())) == len(CANONICAL)
    assert emotion_hex("happy") == "#fac814" and emotion_color("unknown") == (255, 255, 255)


def test_annotate_draws_a_box_in_the_emotion_colour_on_a_copy():
    rgb = np.zeros((150, 200, 3), np.uint8)
    out = annotate(rgb, result())
    assert rgb.sum() == 0, "the input is not modified"
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert tuple(out[100, 40]) == EMOTION_COLORS["happy"]  # on the left edge of the box
    assert out[90:100, 60:100].sum() == 0  # inside the box stays untouched


def test_label_stays_inside_the_frame_for_a_face_at_the_top_edge():
    out = annotate(np.zeros((60, 60, 3), np.uint8), result(60, 60, "sad", (0, 0, 59, 59)))
    assert (out[:12] > 0).any()


def test_no_faces_returns_an_identical_copy():
    rgb = np.full((10, 10, 3), 7, np.uint8)
    out = annotate(rgb, ImageResult((), 10, 10, "fake", "m", ("happy",)))
    assert out is not rgb and (out == rgb).all()


def two_faces(order=(0, 1)):
    faces = (FaceResult((10, 40, 60, 90), 0.9, "happy", {"happy": 0.7, "sad": 0.3}),
             FaceResult((120, 40, 170, 90), 0.8, "sad", {"happy": 0.2, "sad": 0.8}))
    return ImageResult(tuple(faces[i] for i in order), 200, 120, "fake", "m", ("happy", "sad"))


def test_numbers_label_each_face_and_default_to_its_place():
    rgb = np.zeros((120, 200, 3), np.uint8)
    assert np.array_equal(annotate(rgb, two_faces(), numbers=[1, 2]), annotate(rgb, two_faces()))
    # numbered 2 and 1: the same picture as the faces listed the other way round, numbered by place
    assert np.array_equal(annotate(rgb, two_faces(), numbers=(2, 1)), annotate(rgb, two_faces((1, 0))))
    assert not np.array_equal(annotate(rgb, two_faces(), numbers=(2, 1)), annotate(rgb, two_faces()))
    boxes_only = annotate(rgb, two_faces(), numbers=(17, 4))
    assert tuple(boxes_only[60, 10]) == EMOTION_COLORS["happy"] and tuple(boxes_only[60, 120]) == EMOTION_COLORS["sad"]


@pytest.mark.parametrize("numbers", [(), (1,), (1, 2, 3)])
def test_numbers_must_name_every_face(numbers):
    with pytest.raises(ValueError, match=r"one number per face \(2\)"):
        annotate(np.zeros((120, 200, 3), np.uint8), two_faces(), numbers=numbers)
