"""Per-frame latency of the live (webcam) pipeline at 640x480 with one face, for two emotion models.

    python benchmarks/bench_live.py [--video MP4] [--face-model ONNX] [--model M] [--frames N]
                                    [--realtime-s S] [--fps F] [--backend auto] [--skip-vit]

Frames come from a real one-face video (../shared/data/media/videos/liveportrait_d3_expressions.mp4),
letterboxed to 640x480 and converted to yuv420p ``av.VideoFrame`` values, as WebRTC delivers them.

Two measurements per model, each printed as a markdown table row:

* **per frame** (synchronous): ``LiveSession.callback`` (frame conversion, hand-off, drawing the latest
  result, conversion back) plus ``LiveSession.step`` (YuNet on a copy scaled to
  ``LiveSettings.detect_side`` as the Webcam page does, the emotion model, tracking), timed together
  frame by frame; p50/p95 over ``--frames`` frames after a warm-up, and the process CPU time per
  frame (all threads), which other jobs on the machine inflate much less than wall-clock time;
* **real time**: frames pushed into the callback at ``--fps`` for ``--realtime-s`` seconds with the
  analysis thread running, as in the app: analysed frames per second, skipped frames, and the latency
  from a frame's arrival to its result (p50/p95), which latest-wins keeps bounded.

Models: the bundled checkpoint (or ``--model``; without either, a randomly initialised stand-in with the
bundled model's shape, whose speed is representative and whose labels are meaningless) and a ViT-base of
the seed hub model's shape (12 layers, 768 hidden, 224 px, 7 labels, random weights: the hub is
unreachable here). Both run on ``--backend`` (default ``auto``: the fastest backend of
:mod:`emotion.runtime` that agrees with fp32). The load average is printed: other jobs on the machine
make every number slower.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import SHARED, YUNET, choose_model, vit_base_checkpoint

SIZE = (640, 480)


def video_frames(path: Path, count: int, start_s: float = 1.0) -> list:
    """``count`` consecutive frames of ``path`` from ``start_s``, letterboxed to 640x480, as yuv420p av frames."""
    import av
    import cv2

    w, h = SIZE
    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts is not None and float(frame.pts * stream.time_base) < start_s:
                continue
            rgb = frame.to_ndarray(format="rgb24")
            scale = min(w / rgb.shape[1], h / rgb.shape[0])
            nw, nh = int(rgb.shape[1] * scale) // 2 * 2, int(rgb.shape[0] * scale) // 2 * 2
            canvas = np.zeros((h, w, 3), np.uint8)
            top, left = (h - nh) // 2, (w - nw) // 2
            canvas[top:top + nh, left:left + nw] = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
            frames.append(av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(format="yuv420p"))
            if len(frames) == count:
                break
    if not frames:
        raise SystemExit(f"no frames decoded from {path}")
    return frames


def per_frame(detector, frames, warmup: int = 5) -> dict:
    """Synchronous callback + step per frame: p50/p95 ms, the detector's share, faces per frame."""
    from emotion.live import LiveSession, LiveSettings

    session = LiveSession(LiveSettings(), detector, autostart=False)
    for frame in frames[:warmup]:
        session.callback(frame)
        session.step()
    total, cpu, inference, faces = [], [], [], []
    for frame in frames:
        t, c = time.perf_counter(), time.process_time()
        session.callback(frame)
        report = session.step()
        total.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        inference.append(report.inference_ms)
        faces.append(len(report.result.faces))
    return {"p50": np.percentile(total, 50), "p95": np.percentile(total, 95),
            "cpu_p50": np.percentile(cpu, 50), "inference_p50": np.percentile(inference, 50),
            "faces": float(np.mean(faces)), "n": len(total)}


def face_detection(face_model: Path, frames, sides) -> list[tuple[int, dict]]:
    """YuNet alone on the frames, searching a copy scaled to each long side in ``sides``."""
    from emotion.faces import make_face_detector

    rgbs = [f.to_ndarray(format="rgb24") for f in frames]
    out = []
    for side in sides:
        face = make_face_detector("yunet", face_model=face_model, max_side=side)
        face.detect(rgbs[0])
        times, found = [], []
        for rgb in rgbs:
            t = time.perf_counter()
            found.append(len(face.detect(rgb)))
            times.append((time.perf_counter() - t) * 1000)
        out.append((side, {"p50": np.percentile(times, 50), "p95": np.percentile(times, 95),
                           "faces": float(np.mean(found))}))
    return out


def real_time(detector, frames, seconds: float, fps: float) -> dict:
    """Frames into the callback at ``fps`` with the analysis thread on: analysed fps, skipped, latency."""
    from emotion.live import LiveSession, LiveSettings

    session = LiveSession(LiveSettings(queue_size=100_000), detector)
    period, start, sent = 1.0 / fps, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        session.callback(frames[sent % len(frames)])
        sent += 1
        pause = start + sent * period - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    elapsed = time.perf_counter() - start
    time.sleep(0.5)                       # let the last frame finish
    session.stop()
    reports = session.drain()
    latency = [r.latency_ms for r in reports]
    return {"sent": sent, "camera_fps": sent / elapsed, "analysed": len(reports),
            "analysed_fps": len(reports) / elapsed, "skipped": session.dropped,
            "p50": np.percentile(latency, 50) if latency else float("nan"),
            "p95": np.percentile(latency, 95) if latency else float("nan")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=SHARED / "media" / "videos" / "liveportrait_d3_expressions.mp4")
    parser.add_argument("--face-model", type=Path, default=YUNET)
    parser.add_argument("--model", default=None, help="emotion model (default: bundled, else a stand-in)")
    parser.add_argument("--frames", type=int, default=60, help="frames timed per model (after 5 warm-up frames)")
    parser.add_argument("--realtime-s", type=float, default=6.0, help="seconds of the real-time run per model")
    parser.add_argument("--fps", type=float, default=30.0, help="camera frame rate of the real-time run")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--skip-vit", action="store_true", help="only the bundled (or --model) model")
    args = parser.parse_args()
    if not args.video.is_file() or not args.face_model.is_file():
        print(f"needs the video {args.video} and YuNet at {args.face_model}", file=sys.stderr)
        return 2

    from emotion.detector import EmotionDetector
    from emotion.faces import make_face_detector
    from emotion.live import LiveSettings
    from emotion.model import load_model

    frames = video_frames(args.video, args.frames)
    detect_side = LiveSettings().detect_side   # what the Webcam page uses
    face = make_face_detector("yunet", face_model=args.face_model, max_side=detect_side)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; "
          f"{len(frames)} frames of {args.video.name} letterboxed to {SIZE[0]}x{SIZE[1]} (yuv420p), YuNet "
          f"on a {detect_side} px copy, "
          f"real-time run: {args.fps:g} fps for {args.realtime_s:g} s\n")
    with tempfile.TemporaryDirectory() as tmp:
        models = [choose_model(args.model, Path(tmp))]
        if not args.skip_vit:
            models.append((str(vit_base_checkpoint(Path(tmp) / "vit-base")), "ViT-base 224 px, 7 labels, random"))
        rows = []
        for name, label in models:
            t = time.perf_counter()
            model = load_model(name, args.backend)
            load_s = time.perf_counter() - t
            det = EmotionDetector(face, model)
            sync = per_frame(det, frames)
            live = real_time(det, frames, args.realtime_s, args.fps)
            rows.append((label, model, load_s, sync, live))
            print(f"- {label}: backend {model.backend} ({model.backend_reason}); loaded in {load_s:.1f} s",
                  flush=True)
    print("\nPer frame, synchronous (callback + analysis), ms:\n")
    print("| model | backend | p50 | p95 | detector+model p50 | CPU time p50 | faces/frame | frames |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, model, _, s, _ in rows:
        print(f"| {label} | {model.backend} | {s['p50']:.1f} | {s['p95']:.1f} | {s['inference_p50']:.1f} | "
              f"{s['cpu_p50']:.1f} | {s['faces']:.2f} | {s['n']} |")
    print(f"\nReal time, camera at {args.fps:g} fps, analysis thread on (latency = arrival to result):\n")
    print("| model | camera fps | analysed fps | skipped frames | latency p50 ms | latency p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, _, _, _, r in rows:
        print(f"| {label} | {r['camera_fps']:.1f} | {r['analysed_fps']:.1f} | {r['skipped']} / {r['sent']} | "
              f"{r['p50']:.1f} | {r['p95']:.1f} |")
    print("\nYuNet alone, searching a copy of the 640x480 frame scaled to a long side of:\n")
    print("| side px | p50 ms | p95 ms | faces/frame |")
    print("|---:|---:|---:|---:|")
    for side, r in face_detection(args.face_model, frames, (SIZE[0], detect_side)):
        print(f"| {side} | {r['p50']:.1f} | {r['p95']:.1f} | {r['faces']:.2f} |")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
