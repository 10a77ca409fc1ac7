"""emotion.film.video: one streaming pass, exact timestamps, rotation, and damaged files."""

from __future__ import annotations

import numpy as np
import pytest
from synth_video import BLUE, GREEN, RED, colour_frames, scene_video, truncate, write_video

from emotion.errors import UnreadableMedia
from emotion.film.video import open_video, probe


@pytest.mark.parametrize("name, codec, fmt", [
    ("clip.mp4", "libx264", None),
    ("clip.mkv", "libx264", None),
    ("clip.avi", "mpeg4", None),
    ("clip.webm", "libvpx", None),
])
def test_decodes_every_frame_with_timestamps(tmp_path, name, codec, fmt):
    path = scene_video(tmp_path / name, [(RED, 10), (GREEN, 10), (BLUE, 10)], fps=25, codec=codec)
    with open_video(path) as video:
        assert (video.info.width, video.info.height) == (96, 64)
        assert video.info.fps == pytest.approx(25, rel=0.01)
        frames = [(f.index, f.time) for f in video.frames()]
        end = video.end
    assert [i for i, _ in frames] == list(range(30))
    np.testing.assert_allclose([t for _, t in frames], np.arange(30) / 25, atol=1e-3)
    assert end.complete and end.frames == 30 and end.stopped_at is None


def test_variable_frame_rate_times_come_from_pts(tmp_path):
    # 10 frames 40 ms apart, then 10 frames 100 ms apart: index / fps would be wrong for the second half.
    times = [40 * i for i in range(10)] + [400 + 100 * i for i in range(10)]
    path = write_video(tmp_path / "vfr.mkv", colour_frames([(RED, 10), (GREEN, 10)]), times_ms=times)
    with open_video(path) as video:
        got = [f.time for f in video.frames()]
    np.testing.assert_allclose(got, np.array(times) / 1000, atol=1e-3)


@pytest.mark.parametrize("rotation, corner", [(0, (0, 0)), (90, (-1, 0)), (-90, (0, -1)), (180, (-1, -1))])
def test_rotation_metadata_is_applied(tmp_path, rotation, corner):
    frames = colour_frames([(BLUE, 3)], size=(96, 64), marker=True)
    path = write_video(tmp_path / "rot.mp4", frames, rotation=rotation)
    with open_video(path) as video:
        info = video.info
        rgb = next(video.frames()).rgb()
    turned = rotation % 180 != 0
    assert (info.width, info.height) == ((64, 96) if turned else (96, 64))
    assert rgb.shape == (info.height, info.width, 3)
    # The white marker written in the top-left corner ends where the display rotation puts it
    # (counter-clockwise by the stored angle, as FFmpeg defines it).
    y, x = corner
    assert rgb[y, x].min() > 200, f"marker not at {corner} after a {rotation} degree rotation"
    assert rgb[rgb.shape[0] // 2, rgb.shape[1] // 2, 2] > 150  # the blue body


def test_rgb_downscales_in_the_scaler(tmp_path):
    path = scene_video(tmp_path / "big.mp4", [(GREEN, 2)], size=(320, 240))
    with open_video(path) as video:
        frame = next(video.frames())
        assert frame.rgb().shape == (240, 320, 3)
        small = frame.rgb(max_side=160)
    assert small.shape == (120, 160, 3)
    assert abs(int(small[60, 80, 1]) - GREEN[1]) < 20


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p"])
@pytest.mark.parametrize("step", [1, 2, 4])
def test_small_bgr_keeps_colours(tmp_path, pix_fmt, step):
    path = scene_video(tmp_path / "c.mkv", [(RED, 2), (BLUE, 2)], size=(96, 64), pix_fmt=pix_fmt)
    with open_video(path) as video:
        smalls = [f.small_bgr(step) for f in video.frames()]
    assert smalls[0].shape[:2] == (64 // step, 96 // step)
    for img, rgb in ((smalls[0], RED), (smalls[-1], BLUE)):
        mean_bgr = img.reshape(-1, 3).mean(axis=0)
        np.testing.assert_allclose(mean_bgr, rgb[::-1], atol=25)


def test_frames_are_streamed_not_listed(tmp_path):
    path = scene_video(tmp_path / "s.mp4", [(RED, 5)])
    with open_video(path) as video:
        it = video.frames()
        first = next(it)
        assert first.index == 0 and video.end is None
        rest = list(it)
    assert len(rest) == 4 and video.end.complete


def test_probe_reads_header(tmp_path):
    path = scene_video(tmp_path / "p.mp4", [(RED, 50)], fps=25)
    info = probe(path)
    assert info.name == "p.mp4" and info.codec == "h264"
    assert info.duration == pytest.approx(2.0, abs=0.1) and info.frames == 50


@pytest.mark.parametrize("name, options", [("t.mkv", None), ("t.mp4", {"movflags": "faststart"})])
def test_truncated_file_reads_what_is_there_and_says_where_it_stopped(tmp_path, name, options):
    full = scene_video(tmp_path / f"full_{name}", [(RED, 50), (GREEN, 50)], noise=20, options=options)
    cut = truncate(full, tmp_path / name, 0.5)
    with open_video(cut) as video:
        n = sum(1 for _ in video.frames())
        end = video.end
    assert 0 < n < 100
    assert not end.complete
    assert 0 < end.stopped_at < 4.0 and end.stopped_at == pytest.approx(end.last_time)
    assert "truncated" in end.reason


def test_corrupt_middle_skips_bad_packets_without_raising(tmp_path):
    full = scene_video(tmp_path / "full.mp4", [(RED, 50), (GREEN, 50)], noise=20)
    data = bytearray(full.read_bytes())
    rng = np.random.default_rng(0)
    middle = len(data) // 3
    data[middle:middle + 2000] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    with open_video(bad) as video:
        n = sum(1 for _ in video.frames())
        end = video.end
    assert 0 < n <= 100
    assert end.errors > 0 or not end.complete or n < 100


def _audio_only(path):
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        for i in range(5):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _header_only(tmp_path):
    import av

    full = scene_video(tmp_path / "h_full.mkv", [(RED, 30)], noise=20)
    with av.open(str(full)) as container:
        first = next(p for p in container.demux(video=0) if p.size)
        cut_at = first.pos + 16
    # Keep the container header (and the codec setup) but not one complete frame.
    data = full.read_bytes()[:cut_at]
    (tmp_path / "header.mkv").write_bytes(data)
    return tmp_path / "header.mkv"


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.mp4", "no such file"),
    (lambda d: (d / "empty.mp4").write_bytes(b"") or d / "empty.mp4", "empty"),
    (lambda d: (d / "notes.mp4").write_text("not a video " * 50) or d / "notes.mp4", "not a video file"),
    (lambda d: _audio_only(d / "sound.m4a"), "no video stream"),
    (lambda d: truncate(scene_video(d / "x.mp4", [(RED, 30)]), d / "moovless.mp4", 0.5), "not a video file"),
    (_header_only, "no video frame"),
])
def test_unreadable_files_raise_a_clear_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(UnreadableMedia, match=message) as err:
        open_video(path)
    assert "choose a video file" in str(err.value) or "check the path" in str(err.value)
