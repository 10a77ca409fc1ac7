"""emotion.film.shots: PySceneDetect detectors fed from our own decoding pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synth_video import BLUE, CUT_COLOURS, GREEN, RED, colour_frames, scene_video, write_video

from emotion.errors import SettingsError
from emotion.film.shots import (
    Cut,
    Scene,
    ShotDetector,
    detect_scenes,
    make_scenedetect_detector,
    scene_numbers,
    scene_step,
    scenes_from_cuts,
)
from emotion.film.video import open_video

TRAILER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "media" / "videos" / "pjo_teaser_trailer.mp4"


@pytest.mark.parametrize("kind", ["content", "adaptive"])
def test_hard_cuts_become_scenes(tmp_path, kind):
    path = scene_video(tmp_path / "cuts.mp4", [(c, 25) for c in CUT_COLOURS[:4]], noise=3)
    scenes = detect_scenes(path, kind)
    assert [s.number for s in scenes] == [1, 2, 3, 4]
    assert [s.start_frame for s in scenes] == [0, 25, 50, 75]
    np.testing.assert_allclose([s.start for s in scenes], [0.0, 1.0, 2.0, 3.0], atol=1e-3)
    assert scenes[-1].end == pytest.approx(4.0, abs=1e-3) and scenes[-1].end_frame == 100


def test_no_cut_is_one_scene(tmp_path):
    path = scene_video(tmp_path / "one.mp4", [(GREEN, 40)], noise=3)
    scenes = detect_scenes(path)
    assert len(scenes) == 1
    assert (scenes[0].start, scenes[0].start_frame, scenes[0].end_frame) == (0.0, 0, 40)
    assert scenes[0].duration == pytest.approx(1.6, abs=1e-3)


def test_variable_frame_rate_cut_lands_on_its_timestamp(tmp_path):
    times = [40 * i for i in range(20)] + [800 + 120 * i for i in range(20)]
    path = write_video(tmp_path / "vfr.mkv", colour_frames([(RED, 20), (BLUE, 20)]), times_ms=times)
    scenes = detect_scenes(path, min_scene_len=0.2)
    assert len(scenes) == 2
    assert scenes[1].start == pytest.approx(0.8, abs=1e-3) and scenes[1].start_frame == 20


class FakeSceneDetector:
    """PySceneDetect's interface: reports a cut two frames late, like a windowed detector would."""

    event_buffer_length = 2

    def __init__(self, cut_frames, late_cut=None):
        self.cut_frames = set(cut_frames)
        self.late_cut = late_cut
        self.seen = []

    def process_frame(self, timecode, frame_img):
        self.seen.append(timecode)
        if len(self.seen) >= 3 and len(self.seen) - 3 in self.cut_frames:
            return [self.seen[-3]]
        return []

    def post_process(self, timecode):
        return [self.seen[self.late_cut]] if self.late_cut is not None else []


def test_shot_detector_maps_late_cuts_back_to_their_frames():
    fake = FakeSceneDetector(cut_frames=[10, 30], late_cut=45)
    shots = ShotDetector(detector=fake, fps=25)
    frame = np.zeros((4, 4, 3), np.uint8)
    for i in range(50):
        shots.push(i, i * 0.04, frame)
    shots.finish()
    assert [(c.frame, round(c.time, 3)) for c in shots.cuts] == [(10, 0.4), (30, 1.2), (45, 1.8)]
    scenes = shots.scenes(end_time=2.0, end_frame=50)
    assert [(s.start_frame, s.end_frame) for s in scenes] == [(0, 10), (10, 30), (30, 45), (45, 50)]


def test_shot_detector_ignores_cuts_before_a_resume_point():
    shots = ShotDetector(detector=FakeSceneDetector(cut_frames=[5, 20]), fps=25, ignore_before=0.5)
    for i in range(30):
        shots.push(i, i * 0.04, np.zeros((4, 4, 3), np.uint8))
    assert [c.frame for c in shots.cuts] == [20]


@pytest.mark.parametrize("cuts, end, min_len, expected", [
    ([], 5.0, 0.0, [(0.0, 5.0)]),
    ([Cut(2.0, 50)], 5.0, 0.0, [(0.0, 2.0), (2.0, 5.0)]),
    ([Cut(0.0, 0), Cut(2.0, 50), Cut(2.0, 50)], 5.0, 0.0, [(0.0, 2.0), (2.0, 5.0)]),
    ([Cut(3.0, 75), Cut(1.0, 25)], 5.0, 0.0, [(0.0, 1.0), (1.0, 3.0), (3.0, 5.0)]),
    ([Cut(1.0, 25), Cut(1.2, 30), Cut(4.0, 100)], 5.0, 0.5, [(0.0, 1.0), (1.0, 4.0), (4.0, 5.0)]),
    ([Cut(6.0, 150)], 5.0, 0.0, [(0.0, 5.0)]),
])
def test_scenes_from_cuts(cuts, end, min_len, expected):
    scenes = scenes_from_cuts(cuts, end, int(end * 25), min_len=min_len)
    assert [(s.start, s.end) for s in scenes] == expected
    assert [s.number for s in scenes] == list(range(1, len(expected) + 1))


def test_scene_numbers_and_validation():
    scenes = scenes_from_cuts([Cut(1.0, 25), Cut(3.0, 75)], 5.0, 125)
    assert scene_numbers(scenes, np.array([0.0, 0.99, 1.0, 2.5, 3.0, 4.9])).tolist() == [1, 1, 2, 2, 3, 3]
    with pytest.raises(ValueError, match="start <= end"):
        Scene(1, 2.0, 1.0, 0, 10)
    with pytest.raises(SettingsError, match="scene_detector must be one of content, adaptive"):
        make_scenedetect_detector("histogram")
    with pytest.raises(SettingsError, match="threshold"):
        make_scenedetect_detector("content", threshold=-1)


@pytest.mark.parametrize("width, step", [(96, 1), (240, 1), (320, 2), (640, 4), (1280, 8), (1920, 10), (3840, 20)])
def test_scene_step_is_even_or_one(width, step):
    assert scene_step(width) == step


@pytest.mark.skipif(not TRAILER.exists(), reason=f"needs {TRAILER} (../shared/data is not beside the repo)")
def test_real_trailer_matches_pyscenedetect_on_its_own():
    from scenedetect import ContentDetector, detect

    ours = detect_scenes(TRAILER, "content")
    reference = detect(str(TRAILER), ContentDetector())
    assert 20 <= len(ours) <= 40, f"expected about 30 shots in the teaser, got {len(ours)}"
    assert abs(len(ours) - len(reference)) <= 3
    theirs = np.array([start.seconds for start, _ in reference])
    matched = [np.min(np.abs(theirs - s.start)) < 0.1 for s in ours]
    assert np.mean(matched) >= 0.85, "most of our cuts should be PySceneDetect's own cuts"
    with open_video(TRAILER) as video:
        assert ours[-1].end == pytest.approx(video.info.duration, abs=0.1)
