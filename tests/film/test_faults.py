"""Fault injection on the film cache: killed runs, damaged entries, races, a cache that cannot be written.

Every case ends the same way: the analysis finishes, and its tables equal an
uninterrupted run's. Faces come from the colour fakes (tests/film_fakes.py),
slowed down in the killed subprocess so that kills land mid-run.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from film_fakes import LABELS, fake_detector
from synth_video import CUT_COLOURS, RED, WHITE, scene_video

from emotion.errors import SettingsError
from emotion.film import FilmSettings, analyze_video, output
from emotion.film.cache import FORMAT, PassCache
from emotion.film.state import PassState
from emotion.types import Faces

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent

#: 24 s at 25 fps: scenes of 2 s, faces in the red and white ones; 4 samples/s = 96 samples, 6 chunks.
SCENES = [(CUT_COLOURS[i % len(CUT_COLOURS)] if i % 3 else (RED, WHITE)[i % 2], 50) for i in range(12)]


@pytest.fixture(scope="module")
def film(tmp_path_factory) -> Path:
    return scene_video(tmp_path_factory.mktemp("faults") / "film.mp4", SCENES, noise=3)


@pytest.fixture(scope="module")
def reference(film):
    return analyze_video(film, film=FilmSettings(fps=4), detector=fake_detector(), cache=False)


def _same(report, reference) -> None:
    assert report.complete
    assert report.frame_table().equals(reference.frame_table())
    assert report.scene_table().equals(reference.scene_table())
    assert report.thumbnails == reference.thumbnails


# A run of the real pipeline in its own process, slowed so that a kill lands part-way.
DRIVER = """
import json, sys, time
sys.path[:0] = [{tests!r}, {root!r}]
from film_fakes import fake_detector
from emotion.film import FilmSettings, analyze_video, output
det = fake_detector()
predict, detect = det.model.predict, det.face_detector.detect
det.model.predict = lambda crops: (time.sleep(0.02), predict(crops))[1]
det.face_detector.detect = lambda rgb: (time.sleep(0.025), detect(rgb))[1]
report = analyze_video(sys.argv[1], detector=det, film=FilmSettings(fps=4, checkpoint_every=0.5),
                       cache=sys.argv[2], progress=lambda p: print(p.samples, flush=True))
open(sys.argv[3], "w").write(json.dumps({{"frames": output.frames_csv(report), "scenes": output.scenes_csv(report),
                                         "resumed_from": report.resumed_from, "from_cache": report.from_cache,
                                         "warnings": report.warnings}}))
"""


@pytest.mark.slow
def test_kill_9_at_random_points_then_rerun_gives_the_uninterrupted_result(film, reference, tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(tests=str(TESTS), root=str(ROOT)))
    cache, out = tmp_path / "cache", tmp_path / "out.json"
    command = [sys.executable, str(driver), str(film), str(cache), str(out)]
    rng = random.Random(19)
    kills, resumable = 0, 0
    # Kill points: random sample counts through the film (96 samples), one per run, each run resuming
    # from the last; a run is killed once its progress lines say it got that far, so the kill lands at
    # that point of the work however busy the machine is.
    for target in sorted(rng.sample(range(1, 80), 4)):   # samples come in chunks of 16: 80 is the last
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in proc.stdout:
            if int(line) >= target:
                break
        time.sleep(rng.uniform(0.0, 0.05))
        if proc.poll() is not None:       # this run got to the end
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills += 1
        saved = [PassCache(cache).load(p.stem) for p in cache.glob("*.ckpt")]
        assert len(saved) <= 1 and None not in saved, "a kill left an unreadable entry"
        resumable += bool(saved and not saved[0].done)
    assert proc.wait(timeout=60) in (0, -signal.SIGKILL)
    if not out.exists():
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert kills >= 3 and resumable >= 2, f"{kills} kills, {resumable} left a checkpoint: slow the driver down"
    # The last run resumed, or (a kill after the final save) the finished analysis was loaded.
    assert (result["resumed_from"] is not None or result["from_cache"]) and not result["warnings"], result
    assert result["frames"] == output.frames_csv(reference)
    assert result["scenes"] == output.scenes_csv(reference)


DAMAGE = {
    "truncated": lambda data: data[: len(data) // 2],
    "emptied": lambda data: b"",
    "byte flipped in the body": lambda data: data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:],
    "byte flipped in the header": lambda data: bytes([data[0] ^ 0x20]) + data[1:],
    "other version": lambda data: data.replace(f"\n{FORMAT}\n".encode(), b"\n999\n", 1),
    "garbage": lambda data: os.urandom(len(data)),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_entry_is_discarded_with_one_warning_and_recomputed(kind, film, reference, tmp_path):
    first = analyze_video(film, film=FilmSettings(fps=4), detector=fake_detector(), cache=tmp_path)
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert any(p.suffix == ".ckpt" for p in files)
    for path in files:          # every file of the cache: the entry and its (empty) lock file
        data = path.read_bytes()
        path.write_bytes(DAMAGE[kind](data) if data else os.urandom(64))
    again = analyze_video(film, film=FilmSettings(fps=4), detector=fake_detector(), cache=tmp_path)
    assert not again.from_cache and again.key == first.key
    _same(again, reference)
    notes = [w for w in again.warnings if "cache" in w]
    assert len(notes) == 1 and "discarded" in notes[0], again.warnings
    assert "/" not in notes[0] and "Errno" not in notes[0]
    assert analyze_video(film, film=FilmSettings(fps=4), detector=fake_detector(), cache=tmp_path).from_cache


def _state(n: int) -> PassState:
    state = PassState(LABELS, 64, 48)
    for i in range(n):
        state.add_sample(i / 4, i * 6, Faces([[1, 2, 30, 40]], [0.9], LABELS, np.full((1, 4), 0.25)))
    return state


SAVER = """
import sys
import numpy as np
sys.path[:0] = [{root!r}]
from emotion.film.cache import PassCache
from emotion.film.state import PassState
from emotion.types import Faces
def _state(n):
    labels = ("angry", "happy", "neutral", "sad")
    state = PassState(labels, 64, 48)
    for i in range(n):
        state.add_sample(i / 4, i * 6, Faces([[1, 2, 30, 40]], [0.9], labels, np.full((1, 4), 0.25)))
    return state
store = PassCache(sys.argv[1], keep=3)
for i in range(int(sys.argv[2])):
    key = "k%d" % (i % 5)
    store.save(key, _state(i % 7 + 1))
    loaded = store.load("k%d" % ((i + 2) % 5))
    assert loaded is None or loaded.labels == ("angry", "happy", "neutral", "sad")
assert not store.notes, store.notes
"""


def test_two_processes_and_two_threads_save_load_and_prune_at_once(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(SAVER.format(root=str(ROOT)))
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "c"), "150"],
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors: list[BaseException] = []

    def saver(offset: int) -> None:
        store = PassCache(tmp_path / "c", keep=3)  # one instance per thread, as analyses do
        try:
            for i in range(150):
                store.save(f"k{(i + offset) % 5}", _state(i % 7 + 1))
                store.load(f"k{(i + offset + 1) % 5}")
            assert not store.notes, store.notes
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=saver, args=(n,)) for n in (0, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    assert not errors, errors
    entries = list((tmp_path / "c").glob("*.ckpt"))
    assert 1 <= len(entries) <= 3 + 2   # keep=3, plus entries a racing writer had just renamed in
    for entry in entries:
        assert PassCache(tmp_path / "c").load(entry.stem) is not None


def _unwritable(tmp_path, monkeypatch, how: str) -> Path:
    if how == "under a file":
        (tmp_path / "file").write_text("x")
        return tmp_path / "file" / "cache"
    if how == "read-only folder":
        root = tmp_path / "ro"
        root.mkdir()
        root.chmod(0o500)
        probe = root / "probe"
        try:
            probe.write_text("x")
        except PermissionError:
            return root
        probe.unlink()
        pytest.skip("running as root: chmod does not stop writes (the other cases simulate it)")
    real = os.replace

    def full(src, dst, *a, **kw):
        if str(dst).endswith(".ckpt"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", full)
    return tmp_path / "full"


@pytest.mark.parametrize("how", ["under a file", "read-only folder", "disk full"])
def test_an_unwritable_cache_only_turns_caching_off(how, film, reference, tmp_path, monkeypatch):
    root = _unwritable(tmp_path, monkeypatch, how)
    report = analyze_video(film, detector=fake_detector(), film=FilmSettings(checkpoint_every=0.5, fps=4),
                           cache=root)
    _same(report, reference)
    notes = [w for w in report.warnings if "cache folder" in w]
    assert len(notes) == 1, report.warnings
    assert "Errno" not in notes[0] and str(tmp_path) not in notes[0]
    if how == "disk full":
        assert "no space left" in notes[0]
        assert not list(root.glob(".*.partial")), "a failed write must not leave its temporary file"


def test_prune_leaves_other_writers_temporary_files_and_keeps_the_size_limit(tmp_path):
    store = PassCache(tmp_path, keep=10, max_mb=1.2)
    busy = tmp_path / ".k0.0123.partial"
    busy.write_bytes(b"x" * 10)
    stale = tmp_path / ".k9.4567.partial"
    stale.write_bytes(b"x")
    os.utime(stale, (time.time() - 7200,) * 2)
    big = _state(8000)                        # about 0.4 MB an entry
    for i in range(4):
        store.save(f"k{i}", big)
        os.utime(store.path(f"k{i}"), (time.time() - 100 + i,) * 2)
    store.save("k3", big)
    kept = sorted(p.stem for p in tmp_path.glob("*.ckpt"))
    assert kept == ["k2", "k3"], kept          # 1.2 MB holds two of them; the newest are kept
    assert busy.exists() and not stale.exists()


def test_cache_size_limit_setting_is_validated(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOTION_CACHE_MAX_MB", "lots")
    with pytest.raises(SettingsError, match="EMOTION_CACHE_MAX_MB must be a number"):
        PassCache(tmp_path)
    monkeypatch.setenv("EMOTION_CACHE_MAX_MB", "5")
    assert PassCache(tmp_path).max_bytes == 5_000_000
    with pytest.raises(SettingsError, match="max_mb"):
        PassCache(tmp_path, max_mb=0)


def test_first_checkpoint_comes_with_the_first_chunk(film, tmp_path):
    saved: list[int] = []
    store_save = PassCache.save

    def spy(self, key, state):
        saved.append(len(state.sample_time))
        return store_save(self, key, state)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(PassCache, "save", spy)
        analyze_video(film, detector=fake_detector(), film=FilmSettings(checkpoint_every=3600, fps=4),
                      cache=tmp_path)
    assert saved[0] == 16 and saved[-1] == 96, saved   # the first chunk of 16 samples, then the end
