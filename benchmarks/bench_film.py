"""Film analysis speed against pure decoding, on the shared trailer and a synthetic 1080p clip.

    python benchmarks/bench_film.py [--fps 4] [--repeats 2] [--model M] [--face-model ONNX] [--seconds 8]

For each file, in one run: pure decoding (PyAV, threaded, every frame, no
pixel conversion), decoding plus shot detection (our one pass without faces),
and the full :func:`emotion.film.analyze_video` (YuNet, ``--fps`` samples a
second, no cache), with the default thorough face search and with ``thorough=False``
(``--quick-faces``: one look per sampled frame). Each is timed ``--repeats`` times, interleaved, and the
fastest kept (the least disturbed by other work on the machine). Prints a
markdown table with the ratio analysis speed / decode speed and the realtime
factors.

The synthetic clip is made by this script: 1920x1080, 25 fps, H.264, scenes of
slowly zooming photos with faces from ../shared/data/media/photos (flat
colours if those are absent). The emotion model is ``--model``, else the
bundled one, else a random stand-in of the bundled model's shape (its
probabilities are meaningless, its speed is representative); the table says
which.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, SHARED, YUNET, choose_model

TRAILER = SHARED / "media" / "videos" / "pjo_teaser_trailer.mp4"
PHOTOS = ("faceapi_bbt1.jpg", "facerec_two_people.jpg", "deepface_couple.jpg", "faceapi_happy.jpg")


def synthetic_1080p(path: Path, seconds: int, fps: int = 25, size=(1920, 1080), preset: str = "veryfast") -> Path:
    """Scenes of slowly zooming face photos (hard cuts between them), encoded as H.264 (1080p by default)."""
    import av
    import cv2
    import numpy as np

    photos = [cv2.imread(str(SHARED / "media" / "photos" / n))[:, :, ::-1] for n in PHOTOS
              if (SHARED / "media" / "photos" / n).exists()]
    if not photos:
        photos = [np.full((540, 960, 3), c, np.uint8) for c in ((200, 40, 40), (30, 40, 120), (230, 230, 230))]
    (w, h), n = size, seconds * fps
    per_scene = max(1, min(n // max(1, len(photos)), 3 * fps))  # scenes of at most 3 s, photos repeat
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": preset, "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(n):
            img = photos[(i // per_scene) % len(photos)]
            zoom = 1.0 + 0.15 * (i % per_scene) / per_scene
            ph, pw = img.shape[:2]
            scale = max(w / pw, h / ph) * zoom
            m = np.float32([[scale, 0, (w - pw * scale) / 2], [0, scale, (h - ph * scale) / 2]])
            frame = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def pure_decode(path: Path) -> int:
    """Every frame decoded with PyAV's threaded decoder; nothing converted."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def decode_and_shots(path: Path) -> int:
    """Our pass without faces: every frame to a small BGR image and through PySceneDetect's ContentDetector."""
    from emotion.film.shots import detect_scenes

    return len(detect_scenes(path))


def timed(fn) -> tuple[float, float]:
    """Wall-clock and process CPU seconds (all threads: FFmpeg's, OpenCV's, onnxruntime's) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


# Runs the CLI, then prints the process's own peak RSS (VmHWM starts afresh at exec; getrusage's
# ru_maxrss of a child would include this big parent's size at fork).
_CLI_WITH_PEAK = ("import sys; from emotion.cli import main; rc = main(sys.argv[1:]); "
                  "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]); sys.exit(rc)")


def peak_rss_mb(args: list[str]) -> float:
    """Peak resident memory (MB) of ``python -m emotion ARGS`` in a fresh process."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _CLI_WITH_PEAK, *args], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return int(out.stdout.split()[-1]) / 1024


def memory_table(tmp: Path, seconds: int, model: str, face_model: str | None) -> None:
    """Peak memory of ``python -m emotion film`` on a 720p clip and on one four times longer."""
    print("\n| clip (720p, 25 fps) | length s | peak RSS MB of `python -m emotion film --no-cache` |")
    print("|---|---:|---:|")
    for length in (seconds, 4 * seconds):
        clip = synthetic_1080p(tmp / f"mem_{length}s.mp4", length, size=(1280, 720), preset="ultrafast")
        cmd = ["film", str(clip), "--no-cache", "-q", "--model", model]
        if face_model:
            cmd += ["--face-model", face_model]
        print(f"| {clip.name} | {length} | {peak_rss_mb(cmd):.0f} |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, default=4.0, help="samples per second (default 4)")
    ap.add_argument("--repeats", type=int, default=2, help="timed runs per measurement, fastest kept")
    ap.add_argument("--model", default=None, help="emotion model (default: bundled, else a stand-in)")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--face-model", default=str(YUNET) if YUNET.exists() else None, help="YuNet .onnx")
    ap.add_argument("--seconds", type=int, default=8, help="length of the synthetic 1080p clip")
    ap.add_argument("--video", action="append", default=[], help="also time this file")
    ap.add_argument("--memory", type=int, default=0, metavar="SECONDS",
                    help="also measure peak memory on 720p clips of SECONDS and 4x SECONDS (0: skip)")
    ap.add_argument("--no-timing", action="store_true", help="skip the speed table (with --memory)")
    args = ap.parse_args(argv)

    from emotion.detector import EmotionDetector
    from emotion.faces import make_face_detector
    from emotion.film import FilmSettings, analyze_video
    from emotion.model import load_model

    tmp = Path(tempfile.mkdtemp(prefix="bench_film_"))
    model_name, which = choose_model(args.model, tmp)
    model = load_model(model_name, args.backend)
    face = make_face_detector("yunet" if args.face_model else "auto", face_model=args.face_model)
    detector = EmotionDetector(face, model)

    if args.no_timing:
        memory_table(tmp, args.memory or 15, model_name, args.face_model)
        return 0
    files = [Path(v) for v in args.video]
    if TRAILER.exists():
        files.insert(0, TRAILER)
    t = time.perf_counter()
    files.append(synthetic_1080p(tmp / "synthetic_1080p.mp4", args.seconds))
    made = time.perf_counter() - t

    film = FilmSettings(fps=args.fps)
    rows = []
    for path in files:
        analyze_video(path, detector=detector, film=film, cache=False)  # warm-up (model, threads, caches)
        quick = film.replace(thorough=False)
        best = {name: (float("inf"),) * 2 for name in ("decode", "shots", "full", "quick")}
        jobs = {"decode": lambda p=path: pure_decode(p), "shots": lambda p=path: decode_and_shots(p),
                "full": lambda p=path: analyze_video(p, detector=detector, film=film, cache=False),
                "quick": lambda p=path: analyze_video(p, detector=detector, film=quick, cache=False)}
        for _ in range(args.repeats):  # interleaved, so slow phases of the machine hit all three alike
            for name, job in jobs.items():
                wall, cpu = timed(job)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
        report = analyze_video(path, detector=detector, film=film, cache=False)
        info = report.info
        obs = report.timeline.observations
        quick_faces = len(analyze_video(path, detector=detector, film=quick, cache=False).timeline.observations.face_sample)
        rows.append((path.name, f"{info.width}x{info.height}", info.duration, report.timeline.scenes[-1].end_frame,
                     best, len(obs.sample_time), f"{len(obs.face_sample)} ({quick_faces})", len(report.scenes)))

    load = os.getloadavg()
    print(f"\nModel: {which}, backend {model.backend} ({model.backend_reason}); face detector: {face.name}; "
          f"{args.fps:g} samples/s; best of {args.repeats}; synthetic clip made in {made:.1f} s")
    print(f"CPU cores: {os.cpu_count()}, load average now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          "(other work on the machine slows every column alike)\n")
    print("| file | size | length s | frames | decode s | decode x realtime | decode+shots s | analysis s "
          "| analysis x realtime | quick faces s | analysis/decode speed | CPU s decode / analysis | CPU ratio "
          "| samples | faces (quick) | scenes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, size, dur, frames, best, samples, faces, scenes in rows:
        (dec, dec_cpu), (shots, _), (full, full_cpu) = best["decode"], best["shots"], best["full"]
        print(f"| {name} | {size} | {dur:.1f} | {frames} | {dec:.2f} | {dur / dec:.1f} | {shots:.2f} | {full:.2f} "
              f"| {dur / full:.1f} | {best['quick'][0]:.2f} | {dec / full:.0%} | {dec_cpu:.2f} / {full_cpu:.2f} "
              f"| {dec_cpu / full_cpu:.0%} | {samples} | {faces} | {scenes} |")
    print("\nanalysis/decode speed = decode s / analysis s (wall clock); CPU ratio = the same with process CPU "
          "seconds, which moves less with the machine's load.")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak resident memory of this process: {peak:.0f} MB")
    if args.memory:
        memory_table(tmp, args.memory, model_name, args.face_model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
