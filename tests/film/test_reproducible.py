"""The same film and settings give bit-identical numbers, however the run went.

Real face detector and the bundled model on the default backend (``auto``:
bf16 on CPUs that have it, where kernels give slightly different numbers for
different batch shapes). The film is made here from face photos in
../shared/data (skipped when absent): scenes of one to several faces, so the
number of crops per sample varies. Compared: an uninterrupted threaded run,
an unthreaded one, one cancelled part-way and resumed from its checkpoint, and
one run while another analysis runs in a second thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from emotion.errors import AnalysisCancelled
from emotion.film import FilmSettings, analyze_video
from emotion.settings import Settings

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PHOTOS = SHARED / "media" / "photos"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"
NAMES = ("facerec_obama.jpg", "deepface_couple.jpg", "faceapi_bbt1.jpg", "faceapi_happy.jpg")

pytestmark = pytest.mark.skipif(not (YUNET.exists() and all((PHOTOS / n).exists() for n in NAMES)),
                                reason=f"needs {YUNET} and face photos in {PHOTOS} (../shared/data is not beside "
                                       "the repo)")


@pytest.fixture(scope="module")
def faces_film(tmp_path_factory) -> Path:
    """14 s, 10 fps, 480x270: scenes of 1 s cycling through photos with 1, 2 and several faces, slowly panning."""
    import cv2
    from synth_video import write_video

    w, h = 480, 270
    photos = []
    for name in NAMES:
        img = cv2.imread(str(PHOTOS / name))[:, :, ::-1]
        scale = max(w / img.shape[1], h / img.shape[0]) * 1.1
        photos.append(cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale))))
    frames = []
    for i in range(140):
        img = photos[(i // 10) % len(photos)]
        dx = (i % 10) * 2
        frames.append(np.ascontiguousarray(img[:h, dx:dx + w]))
    return write_video(tmp_path_factory.mktemp("repro") / "faces.mp4", frames, fps=10)


@pytest.fixture(scope="module")
def detector():
    from emotion.detector import get_detector

    return get_detector(Settings(face_model=str(YUNET)))


def _probs(report) -> np.ndarray:
    return report.timeline.observations.probs


@pytest.mark.slow
def test_resumed_threaded_unthreaded_and_busy_runs_are_bit_identical(faces_film, detector, tmp_path):
    film = FilmSettings(fps=5)
    reference = analyze_video(faces_film, film=film, detector=detector, cache=False)
    assert len(_probs(reference)) > 70, "the photos should give several faces per sample"

    inline = analyze_video(faces_film, film=film.replace(threaded=False), detector=detector, cache=False)

    calls = {"n": 0}

    def stop_part_way():
        calls["n"] += 1
        return calls["n"] > 40    # after the second chunk of 16 samples, before the end (70 samples)

    with pytest.raises(AnalysisCancelled):
        analyze_video(faces_film, film=film, detector=detector, cancel=stop_part_way, cache=tmp_path)
    resumed = analyze_video(faces_film, film=film, detector=detector, cache=tmp_path)
    assert resumed.resumed_from is not None and resumed.resumed_from > 0

    busy: dict[str, object] = {}
    other = threading.Thread(target=lambda: busy.setdefault(
        "other", analyze_video(faces_film, film=film.replace(fps=7), detector=detector, cache=False)))
    other.start()
    beside = analyze_video(faces_film, film=film, detector=detector, cache=False)
    other.join()
    assert "other" in busy

    for name, report in (("unthreaded", inline), ("cancelled and resumed", resumed), ("next to other work", beside)):
        assert report.frame_table().shape == reference.frame_table().shape, name
        diff = float(np.abs(_probs(report) - _probs(reference)).max())
        assert diff == 0.0, f"{name}: probabilities differ from the uninterrupted run by up to {diff:.2e}"
        assert report.scene_table().equals(reference.scene_table()), name
