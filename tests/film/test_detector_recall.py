"""The film pass's default face detection, scored on frames of the shared films labelled by eye.

Labels: tests/data/detector_faces.csv (see tests/detector_labels.py for what counts as a readable
face and how the frames are decoded again). The floor is what benchmarks/bench_detector_recall.py
measured for the default (YuNet, threshold 0.6, frames shrunk to FilmSettings.detect_side = 480):
recall 0.817 (49 of 60 faces), precision 0.961 (49 of 51 found), less a margin of 0.05 (3 faces)
for OpenCV/FFmpeg versions. A change of defaults that loses faces, or finds false ones, fails here.
"""

from pathlib import Path

import pytest

from detector_labels import LABELS, VIDEOS, labelled_frames, load_labels, score

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"

MEASURED_RECALL, MEASURED_PRECISION, MARGIN = 0.817, 0.961, 0.05


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
def test_default_film_detection_finds_the_labelled_faces():
    from emotion.faces import YuNetDetector
    from emotion.film.sampling import scaled_face_detector
    from emotion.film.video import probe
    from emotion.settings import FilmSettings, Settings

    settings, film = Settings(), FilmSettings()
    side = min(film.detect_side, settings.max_side)
    detector = YuNetDetector(YUNET, min_face=settings.min_face, threshold=settings.threshold,
                             max_side=settings.max_side)
    found, truth = [], []
    for label, rgb in labelled_frames(max_side=side):
        info = probe(VIDEOS / label.video)
        scale = rgb.shape[1] / info.width
        found.append(len(scaled_face_detector(detector, scale).detect(rgb)))
        truth.append(label.faces)
    s = score(found, truth)
    assert s.recall >= MEASURED_RECALL - MARGIN, s
    assert s.precision >= MEASURED_PRECISION - MARGIN, s
