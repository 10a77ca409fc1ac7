"""Face-detector recall and precision on frames of the shared films labelled by eye.

The labels are ``tests/data/detector_faces.csv`` (``video,time_s,faces``: readable faces per
sampled frame, counted by a person; see ``tests/detector_labels.py`` for what counts and how
frames are decoded again). Each detector setting runs on every labelled frame, resized the way
the film pass resizes it (long side = the detection size with FFmpeg's scaler, as
``FilmSettings.detect_side`` does; sizes above the film's own are upscaled with bicubic
interpolation, which the film pass does not do; the minimum face size of 20 px of the original
frame scaled with it), and is scored by face counts: per frame matched =
min(found, labelled); recall = matched / labelled, precision = matched / found. "frames" is the
frame-level recall (labelled frames with a face where at least one face was found), "false
frames" the frames without a readable face where a face was found.

"thorough" rows are :class:`emotion.face_search.ThoroughDetector`: each frame looked at brightened
(gamma 0.75) and as it is shrunk to 2/3, the faces merged (what films use by default,
``FilmSettings.thorough``; until December 2026 it also looked at the frame as it is: three looks,
the same recall and precision on these frames).

"confirmed" rows are a second pass at a lower threshold whose faces count only when a face
overlapping it (IoU >= 0.3) is also found in the previous or next labelled frame of the same
film (0.35 s apart on the trailer): what a track would confirm. "0.6 + confirmed" keeps every
face at 0.6 or above and adds the confirmed faces below it.

Run from a checkout with ../shared/data present::

    python benchmarks/bench_detector_recall.py

writes benchmarks/results/detector_recall.md and prints the same table.
"""

from __future__ import annotations

import platform
import sys
import time

from _common import ROOT, YUNET

sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402

from detector_labels import LABELS, labelled_frames, score  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "detector_recall.md"
SIZES = (320, 480, 640, 960)
THRESHOLDS = (0.6, 0.45, 0.3)
MIN_FACE = 20  # Settings.min_face, pixels of the original frame


def sized_frames(labels, full: list[np.ndarray], side: int) -> list[tuple[np.ndarray, float]]:
    """Each frame with its long side ``side``, and the factor: shrunk as the film pass does, or upscaled."""
    import cv2

    out = []
    for f, (_, s) in zip(full, labelled_frames(labels, max_side=side)):
        if max(s.shape[:2]) < side:
            scale = side / max(f.shape[:2])
            s = cv2.resize(f, (round(f.shape[1] * scale), round(f.shape[0] * scale)), interpolation=cv2.INTER_CUBIC)
        out.append((s, s.shape[1] / f.shape[1]))
    return out


def run_setting(small: list[tuple[np.ndarray, float]], kind: str, threshold: float):
    """Faces found in each frame (boxes in the resized frame's pixels) and the mean ms per frame."""
    from emotion.face_search import ThoroughDetector
    from emotion.faces import HaarDetector, YuNetDetector

    if kind == "yunet":
        det = YuNetDetector(YUNET, min_face=20, threshold=threshold, max_side=16384)
    elif kind == "yunet-thorough":
        det = ThoroughDetector(YuNetDetector(YUNET, min_face=20, threshold=threshold, max_side=16384))
    else:
        det = HaarDetector(min_face=20, max_side=16384)
    det.detect(small[0][0])  # warm-up
    found, start = [], time.perf_counter()
    for img, scale in small:
        det_i = det.with_min_face(max(1, round(MIN_FACE * scale)))
        found.append(det_i.detect(img))
    return found, (time.perf_counter() - start) * 1000 / len(small)


def _iou_any(box: np.ndarray, others: np.ndarray) -> bool:
    from emotion.tracking import iou_matrix

    return len(others) > 0 and float(iou_matrix(box[None], others).max()) >= 0.3


def confirmed(found: list, videos: list[str], keep_above: float = 1.1) -> list[int]:
    """Per frame, faces scoring ``keep_above`` or more, plus those overlapping a face in the previous or
    next frame of the same film."""
    out = []
    for i, faces in enumerate(found):
        near = [found[j].boxes for j in (i - 1, i + 1) if 0 <= j < len(found) and videos[j] == videos[i]]
        out.append(sum(s >= keep_above or any(_iou_any(b, n) for n in near) for b, s in zip(faces.boxes, faces.scores)))
    return out


def main() -> int:
    if not YUNET.is_file():
        print(f"needs {YUNET} (../shared/data)")
        return 1
    pairs = labelled_frames()
    labels = [l for l, _ in pairs]
    frames = [f for _, f in pairs]
    truth = [l.faces for l in labels]
    videos = [l.video for l in labels]
    rows = []

    def add(name, counts, ms):
        s = score(counts, truth)
        rows.append((name, s, ms))
        print(f"{name:<34} recall {s.recall:.3f} precision {s.precision:.3f} frames {s.frame_recall:.3f} "
              f"false frames {s.false_frames} {ms:.1f} ms", flush=True)

    for side in SIZES:
        small = sized_frames(labels, frames, side)
        for thr in THRESHOLDS:
            found, ms = run_setting(small, "yunet", thr)
            add(f"yunet {side} px, threshold {thr}", [len(b) for b in found], ms)
            if thr < 0.6:
                add(f"yunet {side} px, {thr} confirmed by next/prev", confirmed(found, videos), ms)
                add(f"yunet {side} px, 0.6 + {thr} confirmed", confirmed(found, videos, 0.6), ms)
    for side in (320, 480, 640):
        found, ms = run_setting(sized_frames(labels, frames, side), "yunet-thorough", 0.6)
        add(f"yunet {side} px, threshold 0.6, thorough (two looks)", [len(b) for b in found], ms)
    for side in (480, 640):
        found, ms = run_setting(sized_frames(labels, frames, side), "haar", 0.6)
        add(f"haar {side} px", [len(b) for b in found], ms)

    n_faces = sum(truth)
    lines = [
        "# Face-detector recall on labelled film frames",
        "",
        f"{len(labels)} frames ({', '.join(sorted(set(videos)))}) labelled by eye in `{LABELS.relative_to(ROOT)}`: "
        f"{n_faces} readable faces on {sum(t > 0 for t in truth)} frames, {sum(t == 0 for t in truth)} frames "
        "without one. Face-count scoring: per frame matched = min(found, labelled). "
        "`frames`: share of frames with a readable face where a face was found; `false frames`: frames without "
        "a readable face where one was found. ms: detection per frame (resize excluded), on this machine's 2 cores "
        "shared with other jobs: compare them within one run only.",
        "",
        f"Machine: {platform.machine()}, {platform.python_version()}; "
        f"measured {time.strftime('%Y-%m-%d')} with `python benchmarks/bench_detector_recall.py`.",
        "",
        "| setting | recall | precision | frames | false frames | found | ms/frame |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s, ms in rows:
        lines.append(f"| {name} | {s.recall:.3f} | {s.precision:.3f} | {s.frame_recall:.3f} | {s.false_frames} | "
                     f"{s.found} | {ms:.1f} |")
    from emotion.settings import FilmSettings, Settings

    one_look = f"yunet {FilmSettings().detect_side} px, threshold {Settings().threshold}"
    default = one_look + (", thorough (two looks)" if FilmSettings().thorough else "")
    base = next((s for name, s, _ in rows if name == one_look), None)
    chosen = next((s for name, s, _ in rows if name == default), None)
    if base is not None and chosen is not None:
        lines += ["", f"One look ({one_look}): recall {base.recall:.3f} ({base.matched} of {base.labelled} faces), "
                  f"precision {base.precision:.3f}. The films' default ({default}): recall {chosen.recall:.3f} "
                  f"({chosen.matched} of {chosen.labelled} faces, {chosen.matched - base.matched:+d}), precision "
                  f"{chosen.precision:.3f}, {chosen.false_frames} false frames (one look: {base.false_frames})."]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"written to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
