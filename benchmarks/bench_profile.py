"""Where a film pass spends its time, stage by stage, and how threads share the cores.

    python benchmarks/bench_profile.py [--film F ...] [--clip-1080p S] [--room SEATS] [--fps 4]
                                       [--threads 1,2] [--quick-faces] [--out F.md]

For each video, one :func:`emotion.film.analyze_video` (no cache, YuNet from
../shared/data, the bundled model, ``auto`` backend) is run with the face
worker in the main thread (``FilmSettings.threaded=False``), so every stage's
time is its own: the library's stage functions are wrapped with timers
(decoding, frame conversion, shot detection, face detection per YuNet look
and the merge of looks, crops, preprocessing, the model, key-frame scoring,
checkpoint writes, and after the pass tracking and the report). Then the same
pass runs threaded, as the product does, and the main thread's time blocked
handing frames to the face worker is the wait between threads.

``--threads`` repeats the threaded pass with OpenCV, PyTorch and ONNX Runtime
limited to 1 and to 2 threads (``cv2.setNumThreads``, ``torch.set_num_threads``).
Videos: the shared trailer (360p); ``--clip-1080p S`` a 1080p clip of face
photos (bench_film.synthetic_1080p); ``--room N`` a 1080p screening-room recording
with N seats (tests/rooms.py). Prints a markdown table per video.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _common import ROOT, SHARED, YUNET

sys.path.insert(0, str(ROOT / "tests"))

TRAILER = SHARED / "media" / "videos" / "pjo_teaser_trailer.mp4"


class Timers:
    """Seconds and calls per stage, filled by wrapped functions (one thread at a time is timed)."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._undo: list = []
        self._depth = 0

    def wrap(self, owner, name: str, stage: str) -> None:
        original = getattr(owner, name, None)
        if original is None:          # an older checkout without this function: that stage is not timed
            return
        timers = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timers.seconds[stage] += time.perf_counter() - start
                timers.calls[stage] += 1

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def wrap_generator(self, owner, name: str, stage: str) -> None:
        """Time each ``next()`` of a generator method (decoding), not the consumer's work between them."""
        original = getattr(owner, name)
        timers = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            it = original(*args, **kwargs)
            while True:
                start = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    timers.seconds[stage] += time.perf_counter() - start
                    return
                timers.seconds[stage] += time.perf_counter() - start
                timers.calls[stage] += 1
                yield item

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def undo(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo = []


def instrument(timers: Timers) -> None:
    from emotion import face_search, faces
    from emotion.film import cache, keyframes, sampling, shots, timeline, video
    from emotion.model.emotion_model import EmotionModel

    timers.wrap_generator(video.VideoReader, "frames", "decode")
    timers.wrap(video.Frame, "rgb", "frame to RGB (sampled frames)")
    timers.wrap(video.Frame, "small_bgr", "frame to small grey (shot detection)")
    timers.wrap(shots.ShotDetector, "push", "shot detection")
    timers.wrap(faces.YuNetDetector, "detect", "face detection: YuNet looks")
    timers.wrap(face_search, "merge_faces", "face detection: merging looks")
    timers.wrap(sampling, "crop_faces", "crops")
    timers.wrap(EmotionModel, "preprocess", "preprocessing")
    timers.wrap(EmotionModel, "logits", "classification (model)")
    timers.wrap(sampling, "thumbnail", "key frames (thumbnails, scores)")
    timers.wrap(sampling, "frame_score", "key frames (thumbnails, scores)")
    timers.wrap(keyframes.KeyFrames, "add", "key frames (keeping the best)")
    timers.wrap(getattr(cache, "PassCache", None) or getattr(cache, "FilmCache"), "save", "checkpoint writes")
    timers.wrap(timeline, "assign_tracks", "tracking (after the pass)")
    timers.wrap(timeline, "smooth_tracks", "smoothing (after the pass)")
    timers.wrap(sampling.FaceWorker, "submit", "main thread: handing frames to the face worker")


def set_threads(n: int | None) -> None:
    import cv2
    import torch

    if n:
        cv2.setNumThreads(n)
        torch.set_num_threads(n)


def one_pass(path: Path, fps: float, threaded: bool, thorough: bool, timers: Timers | None):
    from emotion.film import analyze_video
    from emotion.settings import FilmSettings, Settings

    settings = Settings(detector="yunet", face_model=str(YUNET)) if YUNET.exists() else Settings()
    film = FilmSettings(fps=fps, threaded=threaded, thorough=thorough)
    if timers is not None:
        instrument(timers)
    try:
        start = time.perf_counter()
        report = analyze_video(str(path), settings, film, cache=False)
        return time.perf_counter() - start, report
    finally:
        if timers is not None:
            timers.undo()


def profile(path: Path, fps: float, thorough: bool, threads: list[int]) -> str:
    from emotion.film import analyze_video  # noqa: F401 - loads the model once before timing
    from emotion.detector import get_detector
    from emotion.settings import Settings

    get_detector(Settings(detector="yunet", face_model=str(YUNET)) if YUNET.exists() else Settings())
    one_pass(path, fps, False, thorough, None)          # warm-up: model, backend choice, caches of the OS
    timers = Timers()
    wall, report = one_pass(path, fps, False, thorough, timers)
    duration = float(report.info.duration)
    samples = len(report.timeline.observations.sample_time) if hasattr(report, "timeline") else None
    lines = [f"### {path.name} ({report.info.width}x{report.info.height}, {duration:.1f} s, "
             f"{fps:g} samples/s, {'thorough' if thorough else 'one-look'} face search)", "",
             f"Face worker in the main thread: {wall:.1f} s wall, {duration / wall:.2f}x real time"
             + (f", {samples} samples" if samples else ""), "",
             "| stage | s | share of wall | calls | ms per call |", "|---|---:|---:|---:|---:|"]
    order = sorted(timers.seconds.items(), key=lambda kv: -kv[1])
    nested = {"main thread: handing frames to the face worker"}   # holds the face work when unthreaded
    for stage, sec in order:
        if stage in nested:
            continue
        calls = timers.calls[stage]
        lines.append(f"| {stage} | {sec:.2f} | {100 * sec / wall:.0f} % | {calls} | {1000 * sec / max(1, calls):.1f} |")
    known = sum(s for k, s in timers.seconds.items() if k not in nested)
    lines.append(f"| everything else (report, scenes, Python between stages) | {wall - known:.2f} | "
                 f"{100 * (wall - known) / wall:.0f} % | | |")
    lines += ["", "| threaded pass (as the product runs) | wall s | x real time | main thread blocked handing "
              "frames to the face worker |", "|---|---:|---:|---:|"]
    for n in threads or [0]:
        set_threads(n)
        t = Timers()
        t.wrap(__import__("emotion.film.sampling", fromlist=["FaceWorker"]).FaceWorker, "submit", "wait")
        try:
            w, _ = one_pass(path, fps, True, thorough, None)
        finally:
            t.undo()
        label = f"{n} thread(s) for OpenCV and PyTorch" if n else "default threads"
        lines.append(f"| {label} | {w:.1f} | {duration / w:.2f}x | {t.seconds['wait']:.1f} s |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--film", action="append", type=Path)
    ap.add_argument("--clip-1080p", type=int, default=0, metavar="S")
    ap.add_argument("--room", type=int, default=0, metavar="SEATS", help="a 1080p room recording with N seats")
    ap.add_argument("--room-seconds", type=int, default=30)
    ap.add_argument("--fps", type=float, default=4.0)
    ap.add_argument("--threads", default="1,2", help="thread counts to try threaded (empty: the defaults)")
    ap.add_argument("--quick-faces", action="store_true", help="one YuNet look per sample instead of three")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    threads = [int(x) for x in args.threads.split(",") if x.strip()]
    films = list(args.film or ([TRAILER] if TRAILER.exists() else []))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.clip_1080p:
            from bench_film import synthetic_1080p

            films.append(synthetic_1080p(Path(tmp) / "faces_1080p.mp4", args.clip_1080p))
        if args.room:
            from rooms import build_room

            films.append(build_room(Path(tmp) / f"room_{args.room}.mp4", seats=args.room,
                                    seconds=args.room_seconds).path)
        for f in films:
            out.append(profile(f, args.fps, not args.quick_faces, threads))
            print(out[-1] + "\n", flush=True)
    if args.out:
        args.out.write_text("\n\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
