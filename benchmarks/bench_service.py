"""Load check of the REST service on 127.0.0.1: concurrent photos and film jobs, latencies and memory.

    python benchmarks/bench_service.py [--images 20] [--films 3] [--detector yunet] [--timeout 600]
    python benchmarks/bench_service.py --hostile [--images 60] [--films 60]

Starts ``python -m emotion serve`` (bundled model, 2 film workers) on a free
local port, sends ``--images`` photo requests at once (the shared photos,
round-robin; random frames without them) while ``--films`` film jobs run
(the shared face video if present, else a synthetic clip; 2 samples a
second). Every answer is checked: each photo gets 200 with the same faces as
a single request, each job ends done with its five result files. The
service's RSS is sampled every 0.2 s. Prints a markdown table (p50/p95
latencies, peak RSS) and writes it to benchmarks/results/service.md. Bounded:
it stops after ``--timeout`` seconds whatever happens, and only talks to
127.0.0.1.

``--hostile``: the careless crowd instead. ``--images`` photos and ``--films`` film jobs are sent all at
once, nobody waits for anybody: every answer must be 200/202 or a quick 503 with ``Retry-After`` (never a
500, never a long wait), ``/health`` is timed throughout, and the peak RSS is reported (aim: under 1.5 GB,
/health under 100 ms). Writes benchmarks/results/service_hostile.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import ROOT, SHARED, YUNET

sys.path.insert(0, str(ROOT / "tests" / "service"))
sys.path.insert(0, str(ROOT / "tests"))
from service_http import Server, call, request, wait_for  # noqa: E402

PHOTOS = SHARED / "media" / "photos"
VIDEO = SHARED / "media" / "videos" / "liveportrait_d3_expressions.mp4"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def images() -> list[tuple[str, bytes]]:
    if PHOTOS.is_dir():
        return [(p.name, p.read_bytes()) for p in sorted(PHOTOS.glob("*.jpg"))]
    import io

    import numpy as np
    from PIL import Image

    out = []
    for i in range(4):
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(buf, "PNG")
        out.append((f"frame{i}.png", buf.getvalue()))
    return out


def film(tmp: Path) -> Path:
    if VIDEO.is_file():
        return VIDEO
    from synth_video import CUT_COLOURS, scene_video

    return scene_video(tmp / "clip.mp4", [(c, 50) for c in CUT_COLOURS[:4]], size=(320, 240), noise=10)


def service(tmp: Path, detector: str) -> Server:
    """``python -m emotion serve`` with the bundled model, 2 film workers and default limits, state in ``tmp``."""
    env = {"EMOTION_CACHE_DIR": str(tmp / "cache")}
    if detector == "yunet":
        env["EMOTION_FACE_MODEL"] = str(YUNET)
    return Server("--detector", detector, "--workers", "2", "--state-dir", str(tmp / "state"), env=env,
                  log=tmp / "server.log")


def same(a: dict, b: dict, tol: float = 0.005) -> bool:
    """The same faces (boxes, top emotion) and probabilities within ``tol``: the bf16 backend's last digits
    vary from call to call (oneDNN), so exact equality is checked by the tests with the eager backend instead."""
    if a.keys() != b.keys() or len(a["faces"]) != len(b["faces"]):
        return False
    for f, g in zip(a["faces"], b["faces"]):
        if f["box"] != g["box"] or f["emotion"] != g["emotion"]:
            return False
        if any(abs(f["probabilities"][k] - g["probabilities"][k]) > tol for k in f["probabilities"]):
            return False
    return True


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--films", type=int, default=3)
    ap.add_argument("--detector", default="yunet" if YUNET.is_file() else "haar")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--hostile", action="store_true", help="everything at once; count 503s, time /health")
    args = ap.parse_args()
    if args.hostile:
        return hostile(args)
    started = time.monotonic()
    photos = images()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = film(tmp)
        with service(tmp, args.detector) as server:
            pid = server.proc.pid
            idle = rss_mb(pid)
            # one warm-up request per photo: loads the model and gives the expected answers
            expected = {}
            for name, data in photos:
                status, got = call(server.port, "POST", "/v1/images", files={"file": (name, data)})
                assert status == 200, got
                expected[name] = got
            warm = rss_mb(pid)
            peak = [warm]
            stop = threading.Event()

            def sample():
                while not stop.wait(0.2):
                    peak.append(rss_mb(pid))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            jobs = []
            for i in range(args.films):
                status, got = call(server.port, "POST", "/v1/films", files={
                    "file": (f"film{i}{video.suffix}", video.read_bytes()), "settings": json.dumps({"fps": 2 + i})})
                assert status == 202, got
                jobs.append((got["job"], time.monotonic()))

            def one(i: int) -> float:
                name, data = photos[i % len(photos)]
                t = time.monotonic()
                status, got = call(server.port, "POST", "/v1/images", files={"file": (name, data)})
                elapsed = time.monotonic() - t
                assert status == 200 and same(got, expected[name]), (status, got, expected[name])
                return elapsed

            with ThreadPoolExecutor(args.images) as pool:
                latencies = list(pool.map(one, range(args.images)))
            film_times = []
            for job, t0 in jobs:
                left = args.timeout - (time.monotonic() - started)
                done = wait_for(server.port, job, lambda s: s["state"] in ("done", "failed"), timeout=max(1, left))
                assert done["state"] == "done", done
                film_times.append(done["finished"] - done["created"])
                for name in ("scenes.csv", "shots.csv", "frames.csv", "report.json", "report.html"):
                    assert request(server.port, "GET", f"/v1/films/{job}/{name}")[0] == 200
            stop.set()
            sampler.join()
    table = [
        "| what | value |", "|---|---|",
        f"| photo requests at once | {args.images} (all 200, same faces and emotions as one at a time) |",
        f"| photo latency p50 / p95 / max | {statistics.median(latencies):.2f} s / "
        f"{percentile(latencies, 0.95):.2f} s / {max(latencies):.2f} s |",
        f"| film jobs (2 workers, {video.name}, 2-{1 + args.films} samples/s) | {len(jobs)} done, "
        f"submit-to-done {min(film_times):.1f}-{max(film_times):.1f} s |",
        f"| service RSS idle / after warm-up / peak | {idle:.0f} / {warm:.0f} / {max(peak):.0f} MB |",
        f"| detector | {args.detector}, bundled model |",
        f"| whole check | {time.monotonic() - started:.0f} s |",
    ]
    text = "\n".join(table)
    print(text)
    out = ROOT / "benchmarks" / "results" / "service.md"
    out.write_text("# REST service load check\n\n`python benchmarks/bench_service.py` on this 2-core machine "
                   f"({time.strftime('%Y-%m-%d')}); photos requested while the film jobs ran.\n\n{text}\n")


def hostile(args) -> None:
    started = time.monotonic()
    photos = images()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = film(tmp)
        with service(tmp, args.detector) as server:
            pid = server.proc.pid
            call(server.port, "POST", "/v1/images", files={"file": photos[0]})     # loads the model
            warm = rss_mb(pid)
            peak, health = [warm], []
            stop = threading.Event()

            def sample():
                while not stop.wait(0.2):
                    peak.append(rss_mb(pid))
                    t = time.monotonic()
                    request(server.port, "GET", "/health", timeout=30)
                    health.append(time.monotonic() - t)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            data = video.read_bytes()

            def photo(i: int):
                name, body = photos[i % len(photos)]
                t = time.monotonic()
                status, headers, _ = request(server.port, "POST", "/v1/images", files={"file": (name, body)})
                return "photo", status, time.monotonic() - t, headers.get("retry-after")

            def job(i: int):
                t = time.monotonic()
                status, headers, _ = request(server.port, "POST", "/v1/films", files={"file": (f"f{i}.mp4", data)})
                return "film", status, time.monotonic() - t, headers.get("retry-after")

            with ThreadPoolExecutor(args.images + args.films) as pool:
                answers = list(pool.map(lambda k: photo(k) if k < args.images else job(k - args.images),
                                        range(args.images + args.films)))
            stop.set()
            sampler.join()
    rows = ["| what | answers | time to answer p50 / p95 / max |", "|---|---|---|"]
    for kind in ("photo", "film"):
        got = [a for a in answers if a[0] == kind]
        counts = {}
        for _, status, _, _ in got:
            counts[status] = counts.get(status, 0) + 1
        for status in sorted(counts):
            times = [a[2] for a in got if a[1] == status]
            retry = {a[3] for a in got if a[1] == status and a[3]}
            rows.append(f"| {kind} | {counts[status]} x {status}{' (Retry-After ' + '/'.join(sorted(retry)) + ' s)' if retry else ''} "
                        f"| {statistics.median(times):.2f} / {percentile(times, 0.95):.2f} / {max(times):.2f} s |")
    rows += [f"| /health while loaded | {len(health)} calls | {statistics.median(health) * 1e3:.0f} / "
             f"{percentile(health, 0.95) * 1e3:.0f} / {max(health) * 1e3:.0f} ms |",
             f"| service RSS after warm-up / peak | {warm:.0f} / {max(peak):.0f} MB | |",
             f"| whole check | {time.monotonic() - started:.0f} s | |"]
    text = "\n".join(rows)
    print(text)
    bad = [a for a in answers if a[1] >= 500 and a[1] != 503]
    out = ROOT / "benchmarks" / "results" / "service_hostile.md"
    out.write_text("# REST service under a careless crowd\n\n`python benchmarks/bench_service.py --hostile "
                   f"--images {args.images} --films {args.films}` on this 2-core machine ({time.strftime('%Y-%m-%d')}), "
                   f"defaults (2 workers, 16 queued jobs, 24 photos at once, 50 MB photos); {args.detector}, "
                   f"bundled model. Everything sent at once.\n\n{text}\n")
    if bad:
        raise SystemExit(f"{len(bad)} answers were server errors: {bad[:3]}")


if __name__ == "__main__":
    main()
