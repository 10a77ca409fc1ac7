"""Faces found per photo (YuNet vs Haar) and the latency of ``analyze_image`` on a one-face 640 px photo.

    python benchmarks/bench_image.py [--photos DIR] [--face-model ONNX] [--model M] [--repeats N]

Prints two markdown tables. The emotion model is ``--model`` if given, else
the bundled one, else a randomly initialised stand-in with the bundled
model's planned shape (transformers ResNet, widths 48-320, 80 px input):
the stand-in's probabilities are meaningless, its speed is representative.
The machine's load average is printed too: timings on a busy machine are slower.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import SHARED, YUNET, choose_model


def timed(fn, repeats: int) -> tuple[list[float], object]:
    fn()  # warm-up
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return times, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=SHARED / "media" / "photos")
    parser.add_argument("--face-model", type=Path, default=YUNET)
    parser.add_argument("--model", default=None, help="emotion model (default: bundled, else a stand-in)")
    parser.add_argument("--latency-photo", default="facerec_obama.jpg", help="a one-face photo in --photos")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()

    import cv2

    from emotion.detector import EmotionDetector, analyze_image
    from emotion.faces import make_face_detector
    from emotion.media import encode_png, load_image
    from emotion.model import load_model

    photos = sorted(p for p in args.photos.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not photos or not args.face_model.is_file():
        print(f"needs photos in {args.photos} and YuNet at {args.face_model}", file=sys.stderr)
        return 2
    detectors = {"yunet": make_face_detector("yunet", face_model=args.face_model),
                 "haar": make_face_detector("haar")}

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; "
          f"defaults: min_face 20 px, threshold 0.6, detection downscaled to 1280 px\n")
    print("| photo | size | YuNet faces | Haar faces | YuNet ms | Haar ms |")
    print("|---|---|---:|---:|---:|---:|")
    totals = {"yunet": 0, "haar": 0}
    for path in photos:
        rgb = load_image(path)
        row = [path.name, f"{rgb.shape[1]}x{rgb.shape[0]}"]
        counts, ms = [], []
        for name, det in detectors.items():
            times, faces = timed(lambda d=det, im=rgb: d.detect(im), 3)
            counts.append(len(faces))
            ms.append(statistics.median(times))
            totals[name] += len(faces)
        print(f"| {' | '.join(row)} | {counts[0]} | {counts[1]} | {ms[0]:.0f} | {ms[1]:.0f} |")
    print(f"| **total** | | **{totals['yunet']}** | **{totals['haar']}** | | |\n")

    with tempfile.TemporaryDirectory() as tmp:
        name, label = choose_model(args.model, Path(tmp))
        model = load_model(name, args.backend)

        rgb = load_image(args.photos / args.latency_photo)
        scale = 640 / max(rgb.shape[:2])
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        png = encode_png(rgb)
        print(f"analyze_image latency, {args.latency_photo} resized to {rgb.shape[1]}x{rgb.shape[0]} "
              f"(PNG bytes in, decode included), {args.repeats} runs after a warm-up")
        print(f"model: {label}; backend: {model.backend} ({model.backend_reason})\n")
        print("| detector | faces | median ms | p90 ms | min ms |")
        print("|---|---:|---:|---:|---:|")
        for det_name, face_det in detectors.items():
            det = EmotionDetector(face_det, model)
            times, result = timed(lambda d=det: analyze_image(png, detector=d), args.repeats)
            q = statistics.quantiles(times, n=10)
            print(f"| {det_name} | {len(result.faces)} | {statistics.median(times):.1f} | {q[-1]:.1f} | "
                  f"{min(times):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
