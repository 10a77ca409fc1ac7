"""Does aligning faces by their landmarks keep a face's reading when it moves to the back of a dark room?

    python benchmarks/bench_alignment.py [--frames 150] [--model bundled]

The field check of the room issue, on the shared media: frames of the shared face videos and the shared
photos. Each face is read at full size, then the whole frame is shrunk so that the face is about 45 px
(and 32 px) wide, dimmed to 55 % and given sensor noise (sigma 6); YuNet finds it again and the model reads
it again. The table gives the share of faces whose top emotion is the same as at full size, with the crop
taken from the detector's box (``crop_faces``) and aligned by the landmarks (``align_face``), each compared
with its own full-size reading, and how often the two crops agree at full size. Writes
benchmarks/results/alignment.md.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _common import ROOT, SHARED, YUNET

VIDEOS = sorted((SHARED / "media" / "videos").glob("*.mp4"))
PHOTOS = sorted((SHARED / "media" / "photos").glob("*.jpg"))
SIZES = (45, 32)


def frames(limit: int):
    """RGB frames: evenly spread over each shared video, then every shared photo."""
    import av

    from emotion.media import load_image

    per_video = max(1, limit // max(1, len(VIDEOS)))
    for path in VIDEOS:
        with av.open(str(path)) as box:
            stream = box.streams.video[0]
            total = stream.frames or 1000
            keep = set(np.linspace(0, total - 1, per_video).astype(int).tolist())
            for i, frame in enumerate(box.decode(stream)):
                if i in keep:
                    yield f"{path.name}#{i}", frame.to_ndarray(format="rgb24")
    for path in PHOTOS:
        yield path.name, load_image(path)


def degrade(rgb: np.ndarray, scale: float, rng) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(8, int(w * scale)), max(8, int(h * scale))), interpolation=cv2.INTER_AREA)
    noisy = small.astype(np.float32) * 0.55 + rng.normal(0, 6.0, small.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150, help="frames from the videos (all photos are added)")
    ap.add_argument("--model", default="bundled")
    args = ap.parse_args()
    if not YUNET.is_file() or not VIDEOS:
        sys.exit(f"needs {YUNET} and the shared videos (../shared/data)")
    from emotion.crops import crop_faces, face_crops
    from emotion.faces import make_face_detector
    from emotion.model import load_model
    from emotion.tracking import iou_matrix

    started = time.monotonic()
    model = load_model(args.model)
    full = make_face_detector("yunet", str(YUNET), min_face=40, threshold=0.6, max_side=4096)
    small_det = make_face_detector("yunet", str(YUNET), min_face=8, threshold=0.5, max_side=4096)
    rng = np.random.default_rng(0)
    kept = {(how, size): [] for how in ("box", "aligned") for size in SIZES}
    found = {size: [] for size in SIZES}
    agree_full = []
    n_faces = 0
    for _, rgb in frames(args.frames):
        faces = full.detect(rgb)
        if not len(faces) or faces.landmarks is None:
            continue
        clean = {"box": model.predict(crop_faces(rgb, faces, 0.15)).probs.argmax(1),
                 "aligned": model.predict(face_crops(rgb, faces, 0.15, align=True)).probs.argmax(1)}
        agree_full += (clean["box"] == clean["aligned"]).tolist()
        n_faces += len(faces)
        for size in SIZES:
            for i, box in enumerate(faces.boxes):
                scale = size / max(box[2] - box[0], 1.0)
                room = degrade(rgb, scale, rng)
                seen = small_det.detect(room)
                if not len(seen):
                    found[size].append(False)
                    continue
                overlap = iou_matrix(np.asarray([box]) * scale, seen.boxes)[0]
                j = int(overlap.argmax())
                if overlap[j] < 0.3:
                    found[size].append(False)
                    continue
                found[size].append(True)
                one = seen.select([j]) if hasattr(seen, "select") else seen
                kept[("box", size)].append(model.predict(crop_faces(room, one, 0.15)).probs.argmax(1)[0]
                                           == clean["box"][i])
                kept[("aligned", size)].append(model.predict(face_crops(room, one, 0.15, align=True)).probs.argmax(1)[0]
                                               == clean["aligned"][i])
    rows = ["| crop | faces | found in the room at 45 / 32 px | top emotion kept at 45 px | at 32 px |",
            "|---|---:|---:|---:|---:|"]
    for how in ("box", "aligned"):
        rows.append(f"| {how} | {n_faces} | {np.mean(found[45]):.1%} / {np.mean(found[32]):.1%} | "
                    f"{np.mean(kept[(how, 45)]):.1%} | {np.mean(kept[(how, 32)]):.1%} |")
    rows.append(f"| box and aligned give the same top emotion at full size | | | {np.mean(agree_full):.1%} | |")
    text = "\n".join(rows)
    print(text)
    (ROOT / "benchmarks" / "results" / "alignment.md").write_text(
        f"# Alignment alone: a face's reading at the back of a dark room\n\n`python benchmarks/bench_alignment.py "
        f"--frames {args.frames}` ({time.strftime('%Y-%m-%d')}, model {model.name} {model.backend}, "
        f"{time.monotonic() - started:.0f} s): frames of {', '.join(p.name for p in VIDEOS)} and "
        f"{len(PHOTOS)} photos; each face shrunk to 45 / 32 px with the whole frame, dimmed to 55 %, noise "
        f"sigma 6, found again by YuNet and read again.\n\n{text}\n")


if __name__ == "__main__":
    main()
