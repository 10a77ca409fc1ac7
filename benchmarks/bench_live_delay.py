"""How late a live screening's stamps run: the WebRTC loop, film frame out to camera frame back, end to end.

    python benchmarks/bench_live_delay.py [--seconds 45] [--warmup 5] [--film-s 60] [--camera-fps 30]
                                          [--analysis on|off|both] [--model M] [--keep DIR]
                                          [--out benchmarks/results/live_delay.md]

A live screening (:mod:`emotion.audience.live`) stamps every camera frame with
the film time of the server's clock when the frame *reaches the server*. The
viewer saw that film moment earlier: the film frame had to travel to the
browser and be shown, and the camera frame had to travel back. This measures
that whole loop on the real Audience page:

1. **A test film** (PyAV, H.264 + AAC, 640x360, 25 fps, ``--film-s`` long, with
   sound): a face video (the shared liveportrait clip, so the page's face
   detector and emotion model do their usual work on the frames that come
   back) under a band of black and white blocks that carries the frame's own
   index (:mod:`frame_code`: Gray code with a complement row, read by
   comparing blocks, so it survives VP8, scaling and colour shifts).
2. **The app**, started by ``benchmarks/live_delay_server.py``: ``streamlit
   run app.py`` in a process where the Audience page's ``LiveScreening`` is a
   subclass that also logs each film frame and sound slice handed to the
   stream and each camera frame's stamp and frame index, and where aiortc's
   codecs log when each film frame was encoded and each camera frame decoded.
   Nothing in the library changes.
3. **Headless Chromium** (Playwright, Debian's /usr/bin/chromium) uploads the
   film on the Audience page, turns the live screening on and presses START.
   Its camera is replaced (``live_delay_camera.js``, an init script, so also in
   streamlit-webrtc's iframe): ``getUserMedia`` returns a canvas's
   ``captureStream`` and the canvas copies, ``--camera-fps`` times a second,
   the ``<video>`` that shows the film received from the server. The camera
   films the screen.
4. For every camera frame whose code reads: **stamp lateness** = the film time
   it was stamped with - the film time of the frame it shows (that frame's
   start). That is what a reading's film time is off by. Also the **loop**
   (its arrival - when the server handed that film frame to the stream, on the
   session clock) and the loop's legs per film frame, on the one wall clock
   both processes read (this machine's; checked): hand-out -> encoder ->
   encoded -> last packet in the browser -> presented in the ``<video>``
   (requestVideoFrameCallback) -> copied by the "camera" -> decoded at the
   server -> stamped. The first ``--warmup`` seconds (the connection ramping
   up) are reported apart; the growth of the lateness over the screening (a
   least-squares slope) says whether a backlog builds; the frames waiting in
   the server's queues are counted; the CPU each side used is read from /proc.

``--analysis both`` (the default) screens twice, each with the app started
afresh: as the page is (its face detector and emotion model read the camera)
and with a detector that finds nothing at once (the loop without the
analysis's CPU load).

Left out, and to add for a real room: a real webcam's own capture latency
(exposure, USB, driver buffers: typically tens of ms, more at low light), the
display's latency (the compositor to the panel, a frame or two at 60 Hz; the
headless browser has no panel), and the network: here both ends are on
localhost, a LAN adds its round trip. The camera's sampling (0 to 1/camera-fps)
is in, as with a real camera. Here the browser shares the server's CPUs; a
viewer's browser runs on its own machine.

Prints markdown tables and writes them to ``--out``. The CPU lines are part of
the result: this machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from _common import ROOT, SHARED, YUNET

import frame_code

HERE = Path(__file__).resolve().parent
FACE_VIDEO = SHARED / "media" / "videos" / "liveportrait_d3_expressions.mp4"
CHROMIUM = Path(os.environ.get("EMOTION_TEST_CHROMIUM", "/usr/bin/chromium"))
FILM_SIZE, FILM_FPS = (640, 360), 25
#: The "camera": the page asks for 640x480; the screen's picture is stretched to it (the code reads in fractions).
CAMERA_SIZE = (640, 480)
#: Seconds between readings of the browser's receive statistics while the film plays.
STATS_EVERY_S = 5.0


# ---------------------------------------------------------------------------------------------- the film
def _face_frames(side: int) -> list[np.ndarray]:
    """The shared face clip's frames, ``side`` px square, RGB (a grey gradient if the clip is absent)."""
    import av
    import cv2

    if not FACE_VIDEO.is_file():
        ramp = np.linspace(60, 200, side, dtype=np.uint8)
        return [np.repeat(np.roll(ramp, k * 4)[None, :, None], side, 0).repeat(3, 2) for k in range(50)]
    frames = []
    with av.open(str(FACE_VIDEO)) as container:
        for frame in container.decode(container.streams.video[0]):
            frames.append(cv2.resize(frame.to_ndarray(format="rgb24"), (side, side), interpolation=cv2.INTER_AREA))
    return frames


def make_film(out: Path, seconds: float, fps: int = FILM_FPS, size=FILM_SIZE) -> Path:
    """An H.264 + AAC film whose every frame carries its index (frame_code), with a face and a sound track."""
    import av
    import cv2

    w, h = size
    band = int(np.ceil(frame_code.BOTTOM * h)) + 4
    side = (h - band - 8) // 2 * 2
    faces = _face_frames(side)
    face_fps = 30.0
    rate = 48000
    with av.open(str(out), "w") as dst:
        video = dst.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "20", "g": str(2 * fps)})
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        sound = dst.add_stream("aac", rate=rate)
        sound.layout = "stereo"
        n_frames = int(round(seconds * fps))
        for n in range(n_frames):
            rgb = np.full((h, w, 3), 96, np.uint8)
            face = faces[int(n / fps * face_fps) % len(faces)]
            x = (w - side) // 2
            rgb[band + 4:band + 4 + side, x:x + side] = face
            cv2.putText(rgb, f"{n} {n / fps:6.2f}s", (8, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
            frame = av.VideoFrame.from_ndarray(frame_code.draw(rgb, n), format="rgb24")
            frame.pts = n
            dst.mux(video.encode(frame))
        dst.mux(video.encode())
        # a quiet tone with a short beep on every second: a sound track to keep in step with the picture
        t = np.arange(int(seconds * rate)) / rate
        wave = 0.08 * np.sin(2 * np.pi * 330 * t) + 0.3 * np.sin(2 * np.pi * 1000 * t) * ((t % 1.0) < 0.05)
        pcm = np.repeat(wave[None, :].astype(np.float32), 2, 0)
        for start in range(0, pcm.shape[1], 1024):
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, start:start + 1024]), format="fltp",
                                               layout="stereo")
            chunk.sample_rate, chunk.pts = rate, start
            dst.mux(sound.encode(chunk))
        dst.mux(sound.encode())
    return out


# ---------------------------------------------------------------------------------------------- the app
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log: Path, out: Path, model: str | None, analysis: bool) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    if YUNET.is_file():
        env.setdefault("EMOTION_FACE_MODEL", str(YUNET))
    if model:
        env["EMOTION_MODEL"] = model
    for name in ("EMOTION_ICE_SERVERS", "EMOTION_RTC_CONFIGURATION"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "live_delay_server.py"), str(log), *([] if analysis else ["--no-analysis"]),
         "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false", "--global.developmentMode", "false"],
        cwd=ROOT, env=env, stdout=open(out, "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with {proc.returncode}; its log: {out}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"the app did not answer within 90 s; its log: {out}")


def _cpu_times() -> dict[int, tuple[int, float]]:
    """Every process's (parent pid, user + system CPU seconds), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return out


def _tree(times: dict[int, tuple[int, float]], root: int) -> set[int]:
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(p for p, (parent, _) in times.items() if parent == pid and p not in found)
    return found


def cpu_snapshot(server_pid: int) -> dict:
    """CPU seconds so far: the machine (busy, /proc/stat), the app's processes, the browser's (the rest of ours)."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    times = _cpu_times()
    app = _tree(times, server_pid)
    ours = _tree(times, os.getpid()) - app - {os.getpid()}
    return {"wall": time.monotonic(), "busy": (sum(fields) - idle) / tick,
            "app": sum(times[p][1] for p in app if p in times),
            "browser": sum(times[p][1] for p in ours if p in times)}


STATS_JS = """async () => {
  const keep = {'inbound-rtp': ['kind', 'framesReceived', 'framesDecoded', 'framesDropped', 'jitterBufferDelay',
      'jitterBufferTargetDelay', 'jitterBufferMinimumDelay', 'jitterBufferEmittedCount', 'totalDecodeTime',
      'totalProcessingDelay', 'totalAssemblyTime', 'framesPerSecond', 'frameWidth', 'frameHeight', 'packetsLost',
      'totalSamplesReceived', 'concealedSamples', 'decoderImplementation'],
    'outbound-rtp': ['kind', 'framesEncoded', 'framesSent', 'totalEncodeTime', 'totalPacketSendDelay', 'packetsSent',
      'frameWidth', 'frameHeight', 'framesPerSecond', 'qualityLimitationReason', 'encoderImplementation',
      'targetBitrate'],
    'candidate-pair': ['state', 'nominated', 'currentRoundTripTime', 'totalRoundTripTime', 'responsesReceived']};
  const out = [];
  for (const pc of (window.__delay ? window.__delay.pcs : [])) {
    const report = await pc.getStats();
    report.forEach((s) => {
      if (!(s.type in keep)) return;
      if (s.type === 'candidate-pair' && !s.nominated) return;
      const row = {type: s.type};
      for (const k of keep[s.type]) if (s[k] !== undefined) row[k] = s[k];
      out.push(row);
    });
  }
  return out;
}"""


def screen(url: str, film: Path, seconds: float, camera_fps: float, workdir: Path, server_pid: int) -> dict:
    """Play ``film`` on the Audience page with the screen-filming camera for ``seconds``; the browser's logs."""
    from playwright.sync_api import sync_playwright

    script = (HERE / "live_delay_camera.js").read_text()
    script = (script.replace("__LAYOUT__", json.dumps(frame_code.layout()))
              .replace("__CAMERA_FPS__", repr(float(camera_fps)))
              .replace("__WIDTH__", str(CAMERA_SIZE[0])).replace("__HEIGHT__", str(CAMERA_SIZE[1])))
    args = ["--headless", "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--disable-background-networking", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(workdir / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=args,
            viewport={"width": 1280, "height": 1100})
        browser.add_init_script(script)
        page = browser.new_page()
        try:
            page.goto(f"{url}/Audience", wait_until="domcontentloaded", timeout=60_000)
            page.get_by_text("Consent and privacy").wait_for(timeout=240_000)
            page.locator('input[type="file"]').first.set_input_files(str(film))
            page.get_by_text(film.name).first.wait_for(timeout=60_000)
            page.get_by_text("Screen the film here, with the webcam on").click()
            rtc = page.frame_locator('iframe[title*="streamlit_webrtc"]')
            rtc.get_by_role("button", name=re.compile(r"^start$", re.I)).click(timeout=120_000)
            page.get_by_text("Playing", exact=True).wait_for(timeout=120_000)
            started = time.monotonic()
            cpu_start = cpu_snapshot(server_pid)
            frame = next(f for f in page.frames if f.evaluate("() => !!(window.__delay && window.__delay.pcs.length)"))
            series = []   # the browser's receive statistics every few seconds: how its jitter buffers move
            while time.monotonic() - started < seconds:
                time.sleep(min(STATS_EVERY_S, max(0.0, seconds - (time.monotonic() - started))))
                series.append((time.monotonic() - started, frame.evaluate(STATS_JS)))
            cpu_end = cpu_snapshot(server_pid)
            played = time.monotonic() - started
            page.screenshot(path=str(workdir / "playing.png"), full_page=True)
            logs = frame.evaluate("() => ({captures: __delay.captures, shown: __delay.shown, "
                                  "cameraStreams: __delay.cameraStreams, origin: __delay.origin})")
            logs["stats"] = frame.evaluate(STATS_JS)
            logs["series"] = series
            logs["video"] = frame.locator("video").first.evaluate("v => [v.videoWidth, v.videoHeight, v.muted]")
            checks = []
            for _ in range(5):   # the two processes' clocks: same machine, same clock; check it
                before = time.time()
                js = frame.evaluate("() => performance.timeOrigin + performance.now()") / 1000
                after = time.time()
                checks.append((js - (before + after) / 2, (after - before) / 2))
            logs["clock_checks"] = checks
            logs["played_s"] = played
            span = cpu_end["wall"] - cpu_start["wall"]
            logs["cpu"] = {k: (cpu_end[k] - cpu_start[k]) / span for k in ("busy", "app", "browser")}
            logs["browser"] = browser.browser.version if browser.browser else "chromium"
        except Exception:
            page.screenshot(path=str(workdir / "failure.png"), full_page=True)
            print(f"the screening failed; screenshot {workdir / 'failure.png'}", file=sys.stderr)
            raise
        finally:
            browser.close()
    return logs


# ---------------------------------------------------------------------------------------------- the numbers
def _pct(values, q):
    return float(np.percentile(np.asarray(values, float), q))


def summary(values) -> tuple[float, float, float, int]:
    """(median, p10, p90, n) in ms of ``values`` in seconds."""
    if not values:
        return (float("nan"),) * 3 + (0,)
    return (statistics.median(values) * 1000, _pct(values, 10) * 1000, _pct(values, 90) * 1000, len(values))


def analyse(rows: list[dict], logs: dict, warmup: float) -> dict:
    info = next(r for r in rows if r["k"] == "screening")
    fps = float(info["fps"])
    handed: dict[int, tuple[float, float]] = {}
    for r in rows:
        if r["k"] == "film" and r["shown"] is not None:
            handed.setdefault(int(round(r["shown"] * fps)), (r["s"], r["wall"]))
    cams = [r for r in rows if r["k"] == "cam"]
    read = [r for r in cams if r["code"] is not None and r["film"] is not None]
    steady = [r for r in read if r["s"] >= warmup]
    early = [r for r in read if r["s"] < warmup]
    lateness = [r["film"] - r["code"] / fps for r in steady]
    loop = [r["s"] - handed[r["code"]][0] for r in steady if r["code"] in handed]
    windows = []
    if steady:
        last = max(r["s"] for r in steady)
        for start in np.arange(warmup, last, 10.0):
            part = [r["film"] - r["code"] / fps for r in steady if start <= r["s"] < start + 10]
            if part:
                windows.append((float(start), min(float(start) + 10, last), statistics.median(part) * 1000, len(part)))
    # the breakdown per film frame, on the wall clock (s): first hand-out, encoding, receipt, presentation,
    # copy, arrival
    first: dict[str, dict[int, float]] = {
        k: {} for k in ("enc", "encoded", "recv", "shown", "copied", "decoded", "back")}
    for r in rows:
        if r["k"] == "enc" and r["code"] is not None:
            first["enc"].setdefault(r["code"], r["t0"])
            first["encoded"].setdefault(r["code"], r["t1"])
        elif r["k"] == "dec" and r["code"] is not None:
            first["decoded"].setdefault(r["code"], r["t1"])
    for received, presented, _expected, code, _rtp in logs.get("shown", []):
        if code >= 0:
            if received is not None:
                first["recv"].setdefault(code, received / 1000)
            if presented is not None:
                first["shown"].setdefault(code, presented / 1000)
    for t, code in logs.get("captures", []):
        if code >= 0:
            first["copied"].setdefault(code, t / 1000)
    for r in read:
        first["back"].setdefault(r["code"], r["wall"])
    start_wall = next((r["wall"] - r["s"] for r in cams if r["s"] is not None), None)
    chain = [("out", {c: w for c, (_s, w) in handed.items()})] + list(first.items())
    codes = [c for c in chain[0][1] if all(c in d for _, d in chain)
             and (start_wall is None or chain[0][1][c] - start_wall >= warmup)]
    legs = {f"{a}->{b}": [db[c] - da[c] for c in codes] for (a, da), (b, db) in zip(chain, chain[1:])}
    legs["out->back"] = [first["back"][c] - chain[0][1][c] for c in codes]
    slope = (float(np.polyfit([r["s"] for r in steady], lateness, 1)[0]) * 1000
             if len(steady) > 10 and max(r["s"] for r in steady) - min(r["s"] for r in steady) > 5 else float("nan"))
    # frames waiting between the stages that run at their own pace: film frames handed out but not yet
    # encoded (the outgoing relay), camera frames decoded but not yet stamped (the incoming relay, the loop)
    events = sorted([(r["wall"], 1, 0) for r in rows if r["k"] == "film"] + [(r["t0"], -1, 0) for r in rows
                    if r["k"] == "enc"] + [(r["t1"], 0, 1) for r in rows if r["k"] == "dec"]
                    + [(r["wall"], 0, -1) for r in cams])
    waiting_out = waiting_in = most_out = most_in = 0
    for _t, out, inn in events:
        waiting_out, waiting_in = waiting_out + out, waiting_in + inn
        most_out, most_in = max(most_out, waiting_out), max(most_in, waiting_in)
    sound = sorted([(r["wall"], 1) for r in rows if r["k"] == "aud"] + [(r["t0"], -1) for r in rows
                   if r["k"] == "aenc"])
    waiting_sound = most_sound = 0
    for _t, step in sound:
        waiting_sound += step
        most_sound = max(most_sound, waiting_sound)
    played = max((r["s"] for r in cams), default=0.0)
    return {"queue_sound": (waiting_sound, most_sound),"fps": fps, "cams": len(cams), "read": len(read), "unreadable": sum(r["code"] is None for r in cams),
            "unstamped": sum(r["code"] is not None and r["film"] is None for r in cams),
            "lateness": lateness, "loop": loop, "early": [r["film"] - r["code"] / fps for r in early],
            "windows": windows, "legs": legs, "slope": slope, "no_analysis": bool(info.get("no_analysis")),
            "queue_out": (waiting_out, most_out), "queue_in": (waiting_in, most_in), "legs_n": len(codes),
            "handed": len(handed), "played_s": played,
            "camera_size": sorted({(r["w"], r["h"]) for r in cams}),
            "contrast": statistics.median(r["contrast"] for r in read) if read else float("nan")}


def _buffers(series: list) -> str:
    """The browser's jitter buffers (sound, picture) per interval: delay added per emitted sample or frame."""
    out, last = [], {}
    for t, stats in series:
        now = {s["kind"]: (s.get("jitterBufferDelay", 0.0), s.get("jitterBufferEmittedCount", 0))
               for s in stats if s["type"] == "inbound-rtp" and "kind" in s}
        parts = []
        for kind in ("audio", "video"):
            if kind in now and kind in last and now[kind][1] > last[kind][1]:
                delay = (now[kind][0] - last[kind][0]) / (now[kind][1] - last[kind][1])
                parts.append(f"{1000 * delay:.0f}")
            else:
                parts.append("-")
        if last:
            out.append(f"{t:.0f} s: {parts[0]} / {parts[1]}")
        last = now
    return "; ".join(out)


def _stats_lines(stats: list[dict]) -> list[str]:
    lines = []
    for s in stats:
        if s["type"] == "inbound-rtp" and s.get("kind") == "video" and s.get("jitterBufferEmittedCount"):
            n = s["jitterBufferEmittedCount"]
            decoded = max(s.get("framesDecoded", 0), 1)
            lines.append(
                f"browser receiving the film: jitter buffer {1000 * s['jitterBufferDelay'] / n:.0f} ms per frame "
                f"(target {1000 * s.get('jitterBufferTargetDelay', float('nan')) / n:.0f} ms), decode "
                f"{1000 * s.get('totalDecodeTime', float('nan')) / decoded:.1f} ms, receipt to decoded "
                f"{1000 * s.get('totalProcessingDelay', float('nan')) / decoded:.0f} ms; "
                f"{s.get('framesDecoded')} frames decoded, {s.get('framesDropped', 0)} dropped, "
                f"{s.get('frameWidth')}x{s.get('frameHeight')}, {s.get('packetsLost', 0)} packets lost")
        elif s["type"] == "inbound-rtp" and s.get("kind") == "audio" and s.get("jitterBufferEmittedCount"):
            n = s["jitterBufferEmittedCount"]
            lines.append(f"browser receiving the sound: jitter buffer {1000 * s['jitterBufferDelay'] / n:.0f} ms "
                         f"(target {1000 * s.get('jitterBufferTargetDelay', float('nan')) / n:.0f} ms)")
        elif s["type"] == "outbound-rtp" and s.get("kind") == "video" and s.get("framesEncoded"):
            n = s["framesEncoded"]
            lines.append(
                f"browser sending the camera: encode {1000 * s.get('totalEncodeTime', float('nan')) / n:.1f} ms per "
                f"frame, {s.get('frameWidth')}x{s.get('frameHeight')}, {n} frames encoded, quality limited by "
                f"{s.get('qualityLimitationReason', '?')}, encoder {s.get('encoderImplementation', '?')}")
        elif s["type"] == "candidate-pair" and s.get("currentRoundTripTime") is not None:
            lines.append(f"ICE round trip (localhost): {1000 * s['currentRoundTripTime']:.1f} ms")
    return lines


def section(result: dict, logs: dict, args, load: tuple) -> str:
    """One condition's table and notes (markdown)."""
    def row(what, values, note=""):
        med, p10, p90, n = summary(values)
        return f"| {what} | {med:.0f} | {p10:.0f} | {p90:.0f} | {n} | {note} |"

    legs = result["legs"]
    offset, bracket = min(logs["clock_checks"], key=lambda c: c[1])   # the tightest of the checks
    clock = (abs(offset) + bracket) * 1000
    cpu = logs.get("cpu", {})
    lines = [
        f"## {_title(result)}",
        "",
        "| what | median ms | p10 ms | p90 ms | n | notes |",
        "|---|---|---|---|---|---|",
        row("**stamp lateness**: film time stamped - film time of the frame the camera saw", result["lateness"],
            f"camera frames after the first {args.warmup:.0f} s; the frame's start (a frame lasts "
            f"{1000 / result['fps']:.0f} ms)"),
        row("loop: film frame handed to the stream -> camera frame showing it stamped", result["loop"],
            "session clock; the lateness adds how far into its own 40 ms the film was when the frame went out"),
        row("1. hand-out -> the server's encoder starts", legs["out->enc"],
            "waiting in streamlit-webrtc's relay queue (unbounded) and for a thread"),
        row("2. -> encoded", legs["enc->encoded"], "aiortc's encoder (VP8 here)"),
        row("3. -> last packet in the browser", legs["encoded->recv"], "sending, localhost"),
        row("4. -> presented in the `<video>`", legs["recv->shown"], "jitter buffer, decode, A/V sync"),
        row("5. -> copied by the screen-filming camera", legs["shown->copied"],
            f"the camera samples at {args.camera_fps:.0f} fps"),
        row("6. -> decoded at the server", legs["copied->decoded"],
            "browser encode, localhost, aiortc's jitter buffer and decoder"),
        row("7. -> stamped", legs["decoded->back"],
            "streamlit-webrtc's relay queue on the way in, the event loop, the sink callback"),
        row("1-7 together (first sightings)", legs["out->back"], "per film frame, the same frames as 1-7"),
        row(f"stamp lateness in the first {args.warmup:.0f} s (warm-up, not above)", result["early"],
            "the connection ramps up"),
        "",
        f"Stability: the lateness grew by {result['slope']:+.0f} ms per second of screening (least squares); "
        "median per 10 s: " + "; ".join(
            f"{a:.0f}-{b:.0f} s: {m:.0f} ms (n={n})" for a, b, m, n in result["windows"]) + ".",
        "",
        f"Camera frames at the server: {result['cams']} over {result['played_s']:.1f} s of film "
        f"({result['cams'] / max(result['played_s'], 1e-9):.1f}/s, sizes {result['camera_size']}); code read in "
        f"{result['read']} (median weakest-column contrast {result['contrast']:.0f} of 255), unreadable "
        f"{result['unreadable']}, {result['unstamped']} readable but unstamped. Film frames handed out: "
        f"{result['handed']} distinct. Film frames handed out minus those encoded (the relay between the film's "
        f"track and the sender keeps only the newest frame, so these are mostly frames skipped, not waiting): "
        f"{result['queue_out'][0]} at the end, {result['queue_out'][1]} at most; camera frames "
        f"decoded but not yet stamped: {result['queue_in'][0]} at the end, {result['queue_in'][1]} at most; 20 ms "
        f"slices of sound handed out minus those encoded (the same relay): {result['queue_sound'][0]} at the end "
        f"({result['queue_sound'][0] * 20} ms of sound), {result['queue_sound'][1]} at most. "
        f"Legs 1-7 measured on {result['legs_n']} film frames seen at all eight points. The two processes' "
        f"clocks agree within {clock:.1f} ms (checked).",
        "",
        *[f"- {line}" for line in _stats_lines(logs.get("stats", []))],
        f"- the browser's jitter buffers over the screening, sound / picture ms (up to each time): "
        f"{_buffers(logs.get('series', []))}",
        "",
        f"CPU while the film played: the machine {cpu.get('busy', float('nan')):.2f} of {os.cpu_count()} cores "
        f"busy: the app (server) {cpu.get('app', float('nan')):.2f}, the browser (with Playwright) "
        f"{cpu.get('browser', float('nan')):.2f}, other jobs about "
        f"{cpu.get('busy', 0) - cpu.get('app', 0) - cpu.get('browser', 0):.2f}. Load average "
        f"{load[0][0]:.2f} / {load[0][1]:.2f} / {load[0][2]:.2f} (1/5/15 min) before, "
        f"{load[1][0]:.2f} / {load[1][1]:.2f} / {load[1][2]:.2f} after.",
        "",
    ]
    return "\n".join(lines)


def _title(result: dict) -> str:
    return "no analysis (a detector that finds nothing)" if result["no_analysis"] else "the page's analysis on"


def run(args, film: Path, work: Path, analysis: bool) -> tuple[dict, dict, tuple]:
    """One screening with the app started afresh: (result, the browser's logs, load average before and after)."""
    work.mkdir(parents=True, exist_ok=True)
    log = work / "server.jsonl"
    log.unlink(missing_ok=True)
    load_before = os.getloadavg()
    proc, url = start_server(log, work / "server.log", args.model, analysis)
    try:
        logs = screen(url, film, args.seconds, args.camera_fps, work, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)
    load_after = os.getloadavg()
    (work / "browser.json").write_text(json.dumps(logs))
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    if not any(r["k"] == "screening" for r in rows):
        raise SystemExit("the app logged no screening: did the Audience page stop using LiveScreening?")
    return analyse(rows, logs, args.warmup), logs, (load_before, load_after)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=45.0, help="how long the film plays (s of real time)")
    ap.add_argument("--warmup", type=float, default=5.0, help="the first seconds, reported apart")
    ap.add_argument("--film-s", type=float, default=60.0, help="length of the test film (s)")
    ap.add_argument("--camera-fps", type=float, default=30.0, help="how often the camera copies the screen")
    ap.add_argument("--model", default=None, help="the emotion model the page loads (default: the bundled one)")
    ap.add_argument("--analysis", choices=("on", "off", "both"), default="both",
                    help="on: the page as it is; off: the screening's detector finds nothing at once (the loop "
                         "without the analysis's CPU load); both (default): one screening each, on first")
    ap.add_argument("--keep", type=Path, default=None, help="keep the film, logs and screenshots in this folder")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "live_delay.md")
    args = ap.parse_args()
    if args.seconds + 10 > args.film_s:
        ap.error("--film-s must exceed --seconds by 10 s or more (the start takes a few seconds)")
    if not CHROMIUM.is_file():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    import aiortc
    from importlib.metadata import version

    os.environ.setdefault("EMOTION_CACHE_DIR", str(Path(tempfile.gettempdir()) / "emotion-bench-cache"))
    work = Path(tempfile.mkdtemp(prefix="live-delay-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    film = make_film(work / "coded_film.mp4", args.film_s)
    print(f"test film: {film}", file=sys.stderr)
    runs = []
    for analysis in {"on": (True,), "off": (False,), "both": (True, False)}[args.analysis]:
        runs.append(run(args, film, work / ("analysis" if analysis else "no-analysis"), analysis))
    browser = runs[0][1]["browser"]
    lines = [
        f"# Live screening: how late the stamps run (the WebRTC loop on localhost, {platform.machine()})",
        "",
        "| screening | stamp lateness median ms | p10 ms | p90 ms | n | growth ms per s | CPU cores: app / "
        "browser / other jobs |",
        "|---|---|---|---|---|---|---|",
    ]
    for result, logs, _load in runs:
        med, p10, p90, n = summary(result["lateness"])
        cpu = logs.get("cpu", {})
        others = cpu.get("busy", float("nan")) - cpu.get("app", 0.0) - cpu.get("browser", 0.0)
        lines.append(f"| {_title(result)} | {med:.0f} | {p10:.0f} | {p90:.0f} | {n} | {result['slope']:+.0f} | "
                     f"{cpu.get('app', float('nan')):.2f} / {cpu.get('browser', float('nan')):.2f} / {others:.2f} |")
    lines += [
        "",
        f"Stamp lateness: the film time a camera frame was stamped with minus the film time of the film frame it "
        f"shows, over the camera frames after the first {args.warmup:g} s; growth: its least-squares slope over "
        f"the screening (a backlog when positive). {args.seconds:g} s of a {args.film_s:g} s test film per "
        f"screening, each with the app started afresh, {time.strftime('%Y-%m-%d')}; {os.cpu_count()} CPUs shared with other jobs (see the CPU "
        f"lines). Chromium {browser}, streamlit-webrtc {version('streamlit-webrtc')}, aiortc {aiortc.__version__}, "
        f"the page's model: {args.model or 'bundled'}.",
        "",
        "Left out: a real webcam's capture latency (typically tens of ms), the display's latency (a frame or two "
        "at 60 Hz; headless has no panel) and the network (localhost here; a LAN adds its round trip).",
        "",
        *[section(result, logs, args, load) for result, logs, load in runs],
        f"`python benchmarks/bench_live_delay.py --seconds {args.seconds:g} --warmup {args.warmup:g} "
        f"--film-s {args.film_s:g} --camera-fps {args.camera_fps:g} --analysis {args.analysis}"
        + (f" --model {args.model}" if args.model else "") + "`",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}; film, logs and screenshots in {work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
