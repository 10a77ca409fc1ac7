"""emotion.film: one pass from a video file to the per-scene report, with progress, cancel, resume and cache."""

from __future__ import annotations

import json
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from film_fakes import LABELS, fake_detector
from synth_video import BLACK, NAVY, RED, WHITE, colour_frames, scene_video, truncate, write_video

from emotion.errors import AnalysisCancelled, SettingsError, UnreadableMedia
from emotion.film import FilmSettings, analyze_video, output, saved_progress
from emotion.film.cache import PassCache
from emotion.film.timeline import SCENE_COLUMNS_HEAD, SCENE_COLUMNS_TAIL

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TRAILER = SHARED / "media" / "videos" / "pjo_teaser_trailer.mp4"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"

#: 8 s at 25 fps: a red scene (one face, happy), navy (no face), white (two faces, sad), red again.
SCENES = [(RED, 50), (NAVY, 50), (WHITE, 50), (RED, 50)]


@pytest.fixture(scope="module")
def film(tmp_path_factory) -> Path:
    return scene_video(tmp_path_factory.mktemp("film") / "film.mp4", SCENES, noise=3)


def _run(path, fps=None, film=None, **kw):
    """The fake detector, no cache, the report cut into shots, ``fps`` samples a second (else ``film``'s)."""
    kw.setdefault("detector", fake_detector())
    kw.setdefault("cache", False)
    film = (film or FilmSettings()).replace(segments="shots", **({} if fps is None else {"fps": fps}))
    return analyze_video(path, film=film, **kw)


@pytest.mark.parametrize("name", ["analyze_video", "FilmSettings", "VideoReport"])
def test_public_api_exports_the_film_analysis(name):
    import emotion
    import emotion.film
    import emotion.film.video

    assert getattr(emotion, name) is getattr(emotion.film, name)
    assert name in emotion.__all__
    assert not hasattr(emotion.film.video, name), "emotion.film.video only decodes; the film analysis lives in emotion.film"


def test_public_analyze_video_runs_the_film_analysis(film):
    import emotion

    report = emotion.analyze_video(film, detector=fake_detector(), film=emotion.FilmSettings(fps=2), cache=False)
    assert isinstance(report, emotion.VideoReport) and len(report.shots) == len(SCENES)
    # red, navy, white, red again: the second red shot matches the first, so the four shots are one scene.
    assert [(s.start, s.end) for s in report.scenes] == [(0.0, 8.0)] and report.segmentation == "scenes"


def test_scenes_samples_and_aggregation(film):
    report = _run(film, fps=4)
    assert report.complete and report.stopped_at is None and report.warnings == ()
    assert [(s.start, s.end) for s in report.scenes] == [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 8.0)]
    rows = report.rows
    assert [r.sampled_frames for r in rows] == [8, 8, 8, 8]
    assert [r.face_share for r in rows] == [1.0, 0.0, 1.0, 1.0]
    assert [r.mean_faces for r in rows] == [1.0, 0.0, 2.0, 1.0]
    assert [r.dominant_emotion for r in rows] == ["happy", "", "sad", "happy"]
    assert rows[0].probabilities["happy"] == pytest.approx(0.7, abs=1e-6)
    assert rows[2].valence == pytest.approx(0.1 - (0.1 + 0.7), abs=1e-6)   # happy - (angry + sad)
    # Two faces tracked through scene 3, one in each red scene: four tracks in all.
    assert len(np.unique(report.timeline.face_track)) == 4
    assert all(len(t) > 100 and t[:2] == b"\xff\xd8" for t in report.thumbnails)  # JPEG key frames


@pytest.mark.parametrize("fps, expected_times", [
    (4, [0.0, 0.28, 0.52, 0.76, 1.0]),     # first frame in each quarter-second cell (25 fps source)
    (1, [0.0, 1.0, 2.0, 3.0, 4.0]),
    (25, [0.0, 0.04, 0.08, 0.12, 0.16]),
])
def test_sampling_timestamps(film, fps, expected_times):
    report = _run(film, fps=fps)
    times = report.timeline.observations.sample_time
    np.testing.assert_allclose(times[:5], expected_times, atol=1e-6)
    assert len(times) == pytest.approx(8 * min(fps, 25), abs=1)


def test_variable_frame_rate_samples_use_true_times(tmp_path):
    times_ms = [40 * i for i in range(25)] + [1000 + 200 * i for i in range(10)]
    path = write_video(tmp_path / "vfr.mkv", colour_frames([(RED, 25), (RED, 10)]), times_ms=times_ms)
    report = _run(path, fps=2)
    np.testing.assert_allclose(report.timeline.observations.sample_time, [0.0, 0.52, 1.0, 1.6, 2.0, 2.6],
                               atol=1e-3)
    assert report.scenes[-1].end == pytest.approx(2.8 + 1 / report.info.fps, abs=1e-3)


def test_csv_and_json_exports(film):
    report = _run(film, fps=2)
    header = output.scenes_csv(report).splitlines()[0].split(",")
    assert header == [*SCENE_COLUMNS_HEAD, *(f"p_{k}" for k in LABELS), *SCENE_COLUMNS_TAIL]
    frames = report.frame_table()
    assert {"time_s", "frame", "scene", "track", "x1", "y1", "x2", "y2", "p_happy"} <= set(frames.columns)
    assert len(frames) == 4 + 0 + 4 + 4 + 4 + 4  # faces (1, 0, 2, 1 per sample) and empty samples, 4 per scene
    summary = json.loads(output.report_json(report))
    assert summary["source"] == "film.mp4" and summary["complete"] is True
    assert [s["dominant_emotion"] for s in summary["scenes"]] == ["happy", "", "sad", "happy"]
    assert summary["scenes"][1]["p_happy"] is None  # NaN becomes null, the JSON stays valid
    assert summary["overall"]["face_share"] == 0.75 and summary["settings"]["fps"] == 2.0


def test_progress_is_reported_and_reaches_the_end(film):
    seen = []
    _run(film, fps=4, progress=seen.append)
    assert seen, "progress callback never called"
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert seen[-1].samples == 32 and seen[-1].faces == 32 and seen[-1].shots == 4
    assert seen[-1].eta == 0.0 and all(p.elapsed >= 0 for p in seen)


def test_threaded_and_inline_scoring_agree_and_batch_the_same_fixed_chunks(film):
    batches = {}
    for threaded in (True, False):
        det = fake_detector()
        report = _run(film, fps=4, detector=det, film=FilmSettings(threaded=threaded, batch=8))
        batches[threaded] = det.model.batches
        assert report.scene_table().equals(_run(film, fps=4, film=FilmSettings(threaded=False)).scene_table())
    # Batches are cut from chunks of 16 samples in sample order, never by timing: the same calls either way.
    assert batches[True] == batches[False] and sum(batches[True]) == 32 and max(batches[True]) <= 8


def test_cancel_raises_with_a_partial_report_and_resume_finishes_identically(film, tmp_path):
    reference = _run(film, fps=4)
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 24   # stops part-way through the second chunk of 16 samples

    with pytest.raises(AnalysisCancelled) as err:
        _run(film, fps=4, cancel=cancel, cache=tmp_path)
    partial = err.value.partial
    assert partial is not None and not partial.complete
    assert 0 < len(partial.timeline.observations.sample_time) < 32
    assert any("stopped" in w for w in partial.warnings)
    key = partial.key
    status, reached = saved_progress(key, tmp_path)
    assert status == "partial" and 0 < reached < 8

    resumed = _run(film, fps=4, cache=tmp_path)
    assert resumed.resumed_from == pytest.approx(reached) and resumed.complete
    assert resumed.scene_table().equals(reference.scene_table())
    assert resumed.frame_table().equals(reference.frame_table())
    assert saved_progress(key, tmp_path)[0] == "done"


def test_event_cancels_too(film):
    stop = threading.Event()
    stop.set()
    with pytest.raises(AnalysisCancelled):
        _run(film, cancel=stop)
    with pytest.raises(SettingsError, match="cancel"):
        _run(film, cancel="yes")


def test_finished_results_are_loaded_from_the_cache_and_settings_are_part_of_the_key(film, tmp_path):
    det = fake_detector()
    first = _run(film, fps=2, detector=det, cache=tmp_path)
    calls = det.face_detector.calls
    again = _run(film, fps=2, detector=det, cache=tmp_path)
    assert again.from_cache and not first.from_cache
    assert det.face_detector.calls == calls, "a cached result must not run the detector again"
    assert again.scene_table().equals(first.scene_table()) and again.thumbnails == first.thumbnails
    other = _run(film, fps=4, detector=det, cache=tmp_path)
    assert not other.from_cache and other.key != first.key


def test_damaged_checkpoint_is_discarded_not_trusted(film, tmp_path):
    first = _run(film, fps=2, cache=tmp_path)
    PassCache(tmp_path).path(first.key).write_bytes(b"not an npz file")
    again = _run(film, fps=2, cache=tmp_path)
    assert not again.from_cache and again.scene_table().equals(first.scene_table())


def test_truncated_film_reports_where_it_stopped(tmp_path):
    full = scene_video(tmp_path / "full.mkv", [(RED, 50), (WHITE, 50), (NAVY, 50)], noise=20)
    cut = truncate(full, tmp_path / "cut.mkv", 0.5)
    report = _run(cut, fps=4)
    assert not report.complete
    assert 1.0 < report.stopped_at < 5.0
    assert report.scenes[-1].end <= report.stopped_at + 0.1
    assert any("Decoding stopped at" in w for w in report.warnings)
    assert report.rows[0].dominant_emotion == "happy"   # what was read is analysed


def test_film_without_faces_still_gets_its_scenes(tmp_path):
    path = scene_video(tmp_path / "dark.mp4", [(NAVY, 25), (BLACK, 25), (NAVY, 25)], noise=3)
    report = _run(path, fps=4)
    assert len(report.scenes) == 3
    assert [r.face_share for r in report.rows] == [0.0, 0.0, 0.0]
    assert any("No face was found" in w for w in report.warnings)
    assert report.scene_table()["sampled_frames"].tolist() == [4, 4, 4]


def test_unreadable_input_raises(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_text("nothing to see")
    with pytest.raises(UnreadableMedia):
        _run(bad)


@pytest.mark.parametrize("change, message", [
    ({"fps": 0}, "fps"), ({"scene_detector": "magic"}, "scene_detector"), ({"batch": 0}, "batch"),
    ({"smoothing": -1}, "smoothing"), ({"fps": True}, "fps"),
])
def test_film_settings_are_validated(change, message):
    with pytest.raises(SettingsError, match=message):
        FilmSettings(**change)


def test_memory_does_not_grow_with_length(tmp_path):
    def peak(seconds):
        path = scene_video(tmp_path / f"m{seconds}.mp4", [(RED, 25 * seconds // 2), (WHITE, 25 * seconds // 2)],
                           size=(320, 240))
        tracemalloc.start()
        _run(path, fps=4)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    short, long = peak(4), peak(16)
    # Keeping the sampled RGB frames (numpy, which tracemalloc sees) would add 230 kB per sample:
    # 48 more samples in the long clip, ~11 MB. FFmpeg's own buffers are not traced; see the benchmark.
    assert long < short + 4_000_000, f"peak {short / 1e6:.1f} MB for 4 s vs {long / 1e6:.1f} MB for 16 s"


def test_real_detector_and_tiny_checkpoint_run_through(film, tiny_model):
    from emotion.detector import EmotionDetector
    from emotion.faces import make_face_detector

    det = EmotionDetector(make_face_detector("haar"), tiny_model)
    report = analyze_video(film, film=FilmSettings(fps=2), detector=det, cache=False)
    assert report.model == tiny_model.name and report.detector == "haar"
    assert len(report.shots) == 4 and report.labels == tiny_model.labels


@pytest.mark.skipif(not (TRAILER.exists() and YUNET.exists()),
                    reason=f"needs {TRAILER} and {YUNET} (../shared/data is not beside the repo)")
def test_real_trailer(tiny_model, tmp_path):
    from emotion.detector import EmotionDetector
    from emotion.faces import make_face_detector

    det = EmotionDetector(make_face_detector("yunet", face_model=YUNET), tiny_model)
    report = analyze_video(TRAILER, film=FilmSettings(fps=1), detector=det, cache=False)
    assert report.complete and report.info.width == 640
    assert 20 <= len(report.shots) <= 40, f"expected about 30 shots, got {len(report.shots)}"
    assert 3 <= len(report.scenes) < len(report.shots) / 2, "shots should group into fewer scenes"
    assert all(s.duration >= 4.0 for s in report.scenes), "no scene is shorter than the minimum length"
    assert report.scenes[-1].end == report.shots[-1].end == pytest.approx(55.93, abs=0.1)
    assert report.timeline.overall()["faces"] > 10, "YuNet should find faces in the trailer"
    assert sum(r.face_share > 0 for r in report.shot_level.rows) >= 5


def test_faces_are_detected_on_shrunk_frames_and_boxes_map_back(tmp_path):
    path = scene_video(tmp_path / "big.mp4", [(RED, 10)], size=(320, 240))
    det = fake_detector()
    report = _run(path, fps=4, detector=det, film=FilmSettings(detect_side=160))
    assert set(det.face_detector.shapes) == {(120, 160, 3)}
    boxes = report.timeline.observations.boxes
    np.testing.assert_allclose(boxes[0], [80, 60, 240, 180], atol=1)  # display pixels of the 320x240 video


def test_real_face_detectors_get_the_minimum_face_size_scaled():
    from emotion.faces import HaarDetector
    from emotion.film.sampling import scaled_face_detector

    haar = HaarDetector(min_face=40, fallback_reason="YuNet unavailable")
    small = scaled_face_detector(haar, 0.5)
    assert type(small) is HaarDetector and small.min_face == 20 and small.fallback_reason == haar.fallback_reason
    assert scaled_face_detector(haar, 1.0) is haar
    fake = fake_detector().face_detector
    assert scaled_face_detector(fake, 0.5) is fake
    if YUNET.exists():
        from emotion.faces import YuNetDetector

        original = YuNetDetector(YUNET, min_face=30, threshold=0.7)
        yunet = scaled_face_detector(original, 1 / 3)
        assert (type(yunet), yunet.min_face, yunet.threshold) == (YuNetDetector, 10, 0.7)
        assert yunet._net is original._net and original.min_face == 30  # shared network, original untouched


def test_cache_keeps_only_the_most_recent_states(film, tmp_path):
    import os
    import time

    store = PassCache(tmp_path, keep=2)
    keys = []
    for fps in (1, 2, 3):
        report = _run(film, fps=fps, cache=tmp_path)
        keys.append(report.key)
        path = store.path(report.key)
        os.utime(path, (time.time() - 100 + fps,) * 2)  # distinct, increasing mtimes in the past
    store.save(keys[-1], store.load(keys[-1]))
    assert sorted(p.stem for p in tmp_path.glob("*.ckpt")) == sorted(keys[1:])


@pytest.mark.parametrize("backend", ["eager", "auto"])
def test_a_finished_analysis_answers_without_loading_the_model(film, tiny_checkpoint, tmp_path, monkeypatch, backend):
    import emotion.detector as detector_mod
    from emotion.settings import Settings

    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings(model=str(tiny_checkpoint), backend=backend, detector="haar")
    first = analyze_video(film, settings, film=FilmSettings(fps=2), cache=tmp_path / "film")
    assert not first.from_cache

    def no_loading(*a, **kw):
        raise AssertionError("the model was loaded although the finished analysis is in the cache")

    monkeypatch.setattr(detector_mod, "get_detector", no_loading)
    again = analyze_video(film, settings, film=FilmSettings(fps=2), cache=tmp_path / "film")
    assert again.from_cache and again.key == first.key
    assert (again.model, again.detector, again.backend) == (first.model, first.detector, first.backend)
    assert again.scene_table().equals(first.scene_table()) and again.thumbnails == first.thumbnails
    # another setting is another key: that one has to load the model
    with pytest.raises(AssertionError, match="the model was loaded"):
        analyze_video(film, settings.replace(min_face=30), film=FilmSettings(fps=2), cache=tmp_path / "film")
