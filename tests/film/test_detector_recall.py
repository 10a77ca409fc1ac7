"""The film pass's default face detection, scored on frames of the shared films labelled by eye.

Labels: tests/data/detector_faces.csv (see tests/detector_labels.py for what counts as a readable
face and how the frames are decoded again). The floor is what benchmarks/bench_detector_recall.py
measured for the default (YuNet, threshold 0.6, frames shrunk to FilmSettings.detect_side = 480,
thorough: three looks merged): recall 0.883 (53 of 60 faces), precision 0.964 (53 of 55 found), less a
margin of 0.05 (3 faces) for OpenCV/FFmpeg versions; one look alone measured 0.817 and 0.961, and the
thorough search must find more faces than it, at no lower precision. A change of defaults that loses
faces, or finds false ones, fails here.
"""

from pathlib import Path

import pytest

from detector_labels import LABELS, VIDEOS, labelled_frames, load_labels, score

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"

MEASURED_RECALL, MEASURED_PRECISION, MARGIN = 0.883, 0.964, 0.05


def test_labels_are_a_real_test_set():
    labels = load_labels()
    assert len(labels) >= 150 and LABELS.name == "detector_faces.csv"
    assert {l.video for l in labels} == {"pjo_teaser_trailer.mp4", "liveportrait_d3_expressions.mp4"}
    assert sum(l.faces for l in labels) == 60 and sum(l.faces > 0 for l in labels) == 55


def test_scoring_by_face_counts():
    s = score([0, 1, 3, 1], [1, 1, 2, 0])
    assert (s.labelled, s.found, s.matched) == (4, 5, 3)
    assert s.recall == 0.75 and s.precision == 0.6 and s.frame_recall == 2 / 3 and s.false_frames == 1
    with pytest.raises(ValueError, match="2 counts for 1 labelled"):
        score([1, 2], [1])


@pytest.mark.skipif(not (YUNET.exists() and all((VIDEOS / v).exists() for v in
                                                 ("pjo_teaser_trailer.mp4", "liveportrait_d3_expressions.mp4"))),
                    reason=f"needs {YUNET} and the videos in {VIDEOS} (../shared/data is not beside the repo)")
@pytest.mark.slow
def test_default_film_detection_finds_the_labelled_faces():
    from emotion.faces import YuNetDetector
    from emotion.film.sampling import film_face_detector, scaled_face_detector
    from emotion.film.video import probe
    from emotion.settings import FilmSettings, Settings

    settings, film = Settings(), FilmSettings()
    side = min(film.detect_side, settings.max_side)
    detector = YuNetDetector(YUNET, min_face=settings.min_face, threshold=settings.threshold,
                             max_side=settings.max_side)
    default = film_face_detector(detector, film)
    assert default.name == "yunet-thorough" and film_face_detector(detector, film.replace(thorough=False)) is detector
    found, one_look, truth = [], [], []
    for label, rgb in labelled_frames(max_side=side):
        info = probe(VIDEOS / label.video)
        scale = rgb.shape[1] / info.width
        found.append(len(scaled_face_detector(default, scale).detect(rgb)))
        one_look.append(len(scaled_face_detector(detector, scale).detect(rgb)))
        truth.append(label.faces)
    s, single = score(found, truth), score(one_look, truth)
    assert s.recall >= MEASURED_RECALL - MARGIN, s
    assert s.precision >= MEASURED_PRECISION - MARGIN, s
    assert s.matched > single.matched and s.precision >= single.precision, (s, single)


@pytest.mark.skipif(not (YUNET.exists() and (VIDEOS / "pjo_teaser_trailer.mp4").exists()),
                    reason=f"needs {YUNET} and {VIDEOS / 'pjo_teaser_trailer.mp4'} (../shared/data is not beside the repo)")
@pytest.mark.parametrize("time_s, why", [(7.95, "found in the shrunk look"), (19.85, "found in the brightened look")])
def test_thorough_search_finds_a_labelled_face_one_look_misses(time_s, why):
    from detector_labels import Label

    from emotion.face_search import ThoroughDetector
    from emotion.faces import YuNetDetector
    from emotion.film.sampling import scaled_face_detector
    from emotion.film.video import probe

    label = Label("pjo_teaser_trailer.mp4", time_s, 1)
    assert label in load_labels(), "the frame must be one of the labelled ones (one readable face)"
    ((_, rgb),) = labelled_frames([label], max_side=480)
    one = scaled_face_detector(YuNetDetector(YUNET), rgb.shape[1] / probe(VIDEOS / label.video).width)
    assert len(one.detect(rgb)) == 0, "one look misses it (else this test proves nothing)"
    assert len(ThoroughDetector(one).detect(rgb)) == 1, why
