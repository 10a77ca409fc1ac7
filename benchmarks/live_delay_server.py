"""The app, run by ``streamlit run`` in this process, with the live screening's callbacks logged (benchmark only).

    python benchmarks/live_delay_server.py LOG.jsonl [--no-analysis] [streamlit run options ...]

Used by benchmarks/bench_live_delay.py. Before Streamlit starts, the Audience
page's :class:`~emotion.audience.live.LiveScreening` is replaced, in the page
module only, by :class:`ProbedScreening`: the same class, whose WebRTC
callbacks also write one JSON line each to ``LOG.jsonl``, as do aiortc's codecs:

* ``frame()`` (a film frame handed to the stream): the session time, the wall
  clock and the film time of the frame returned;
* ``camera(rgb)`` (a camera frame arrived): the session time and film time the
  screening stamps it with (what :meth:`LiveScreening.camera` returns: the
  frame's capture time from its own timestamp, also for the frames between the
  screening's 4 readings a second), the wall clock, and the frame index read
  from the picture (:mod:`frame_code`; the probe converts every frame to read
  it, after the screening has taken the frame, so the reading adds nothing to
  the stamp);
* the server's video codecs (aiortc's VP8 and H.264 encoders and decoders,
  wrapped when the first screening is made): when the encoder started and
  finished each film frame, when the decoder finished each camera frame, with
  the frame index read from the picture once the codec has returned. The time
  between the hand-out and the encoder is the wait in streamlit-webrtc's relay
  (an unbounded queue between the film's track and the sender); between the
  decoder and the stamp, the same relay on the way in, and the event loop;
* ``audio(n)`` and the sound's encoder (aiortc's Opus): when each 20 ms of
  sound was handed out and when it was encoded (the sound has the same relay).

``--no-analysis`` (before the Streamlit options) gives the screening a detector
that finds nothing at once, to see the loop without the analysis's CPU load.

Nothing else changes: the page, the stream, the analysis and the stamps are the
product's own. Streamlit runs in this process (its own command-line entry), so
the replacement holds for every page run. streamlit_webrtc and aiortc are
imported only once a page runs (importing the component before Streamlit's
runtime starts breaks its frontend).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (str(ROOT), str(HERE)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

import frame_code  # noqa: E402

from emotion.audience.live import LiveScreening  # noqa: E402


class NoAnalysis:
    """A detector that finds no face, at once (``--no-analysis``)."""

    def analyze(self, rgb):
        from emotion.types import ImageResult

        return ImageResult((), int(rgb.shape[1]), int(rgb.shape[0]), "none", "none", ("neutral",))


_LOCK = threading.Lock()
_WRAPPED: list[str] = []
_LOG: list = []   # the open log (line-buffered), once the first row is written


def _write(row: dict) -> None:
    if ProbedScreening.log_path is None:
        return
    with _LOCK:
        if not _LOG:
            _LOG.append(open(ProbedScreening.log_path, "a", buffering=1))
        _LOG[0].write(json.dumps(row) + "\n")


def _wrap_codecs() -> None:
    """Log each film frame's and sound slice's encoding and each camera frame's decoding (once per process).

    aiortc encodes in its executor threads and decodes in its decoder thread; the
    wrappers read the frame code after the codec has returned, so they add nothing
    to the times logged (a fraction of a millisecond to the thread's next frame).
    """
    if _WRAPPED:
        return
    with _LOCK:
        if _WRAPPED:
            return
        from aiortc.codecs import h264, opus, vpx

        for encoder in (vpx.Vp8Encoder, h264.H264Encoder):
            original = encoder.encode

            def encode(self, frame, force_keyframe=False, _original=original, _name=encoder.__name__):
                t0 = time.time()
                out = _original(self, frame, force_keyframe)
                t1 = time.time()
                picture = frame.to_ndarray()
                if frame.format.name == "yuv420p":
                    picture = picture[:frame.height]
                code, _ = frame_code.read(picture)
                _write({"k": "enc", "t0": t0, "t1": t1, "code": code, "encoder": _name,
                        "bytes": sum(len(p) for p in out[0])})
                return out

            encoder.encode = encode
            _WRAPPED.append(encoder.__name__)
        original_opus = opus.OpusEncoder.encode

        def encode_sound(self, frame, force_keyframe=False):
            _write({"k": "aenc", "t0": time.time()})
            return original_opus(self, frame, force_keyframe)

        opus.OpusEncoder.encode = encode_sound
        for decoder in (vpx.Vp8Decoder, h264.H264Decoder):
            original = decoder.decode

            def decode(self, encoded_frame, _original=original, _name=decoder.__name__):
                frames = _original(self, encoded_frame)
                t1 = time.time()
                for frame in frames:
                    picture = frame.to_ndarray()
                    if frame.format.name in ("yuv420p", "yuvj420p"):
                        picture = picture[:frame.height]
                    _write({"k": "dec", "t1": t1, "code": frame_code.read(picture)[0], "decoder": _name})
                return frames

            decoder.decode = decode
            _WRAPPED.append(decoder.__name__)


class ProbedScreening(LiveScreening):
    """A :class:`LiveScreening` that logs what it sends and what it stamps (see the module docstring)."""

    log_path: Path | None = None
    no_analysis = False

    def __init__(self, film, detector, *args, **kwargs):
        _wrap_codecs()
        super().__init__(film, NoAnalysis() if self.no_analysis else detector, *args, **kwargs)
        _write({"k": "screening", "name": self.name, "fps": getattr(self.picture, "fps", None),
                "duration": self.clock.duration, "latency_s": self.latency_s, "no_analysis": self.no_analysis})

    def frame(self):
        rgb = super().frame()
        s, wall = self.clock.now(), time.time()
        shown = getattr(self.picture, "shown_time", None)
        _write({"k": "film", "s": s, "wall": wall, "shown": shown})
        return rgb

    def audio(self, n):
        samples = super().audio(n)
        _write({"k": "aud", "wall": time.time()})
        return samples

    def camera(self, rgb, captured_s=None):
        wall = time.time()
        if callable(rgb):   # the page converts a frame only when it is read; the probe reads every one
            rgb = rgb()
        s = super().camera(rgb, captured_s)     # the session time the screening stamps the frame with
        film = None if s is None else self.clock.film_at(s - self.latency_s)
        code, contrast = frame_code.read(rgb)
        _write({"k": "cam", "s": s, "wall": wall, "film": film, "code": code, "contrast": contrast,
                "w": int(rgb.shape[1]), "h": int(rgb.shape[0])})


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    ProbedScreening.log_path = Path(argv[0])
    argv = argv[1:]
    if argv and argv[0] == "--no-analysis":
        ProbedScreening.no_analysis, argv = True, argv[1:]
    import emotion.ui.audience_live as page
    from streamlit.web import cli

    page.LiveScreening = ProbedScreening
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
