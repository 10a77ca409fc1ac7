"""``python -m emotion film VIDEO``: the per-scene emotion timeline of a film or trailer.

Prints one line per scene (timecodes, faces, dominant emotion) and writes the
per-scene CSV, the per-frame CSV and the JSON summary where asked (``-`` is
stdout). A progress bar goes to stderr. Results and checkpoints are cached:
the same command again answers at once, and one interrupted with Ctrl-C
resumes where it stopped. A file that breaks part-way is analysed as far as it
can be read; the warning says where it stopped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .options import add_model_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", metavar="VIDEO", help="a video file (mp4, mov, mkv, avi, webm, ...)")
    parser.add_argument("--fps", type=float, default=4.0, metavar="N",
                        help="frames sampled per second for faces (default 4)")
    parser.add_argument("--scenes-csv", metavar="F", help="write the per-scene table as CSV ('-' for stdout)")
    parser.add_argument("--frames-csv", metavar="F", help="write every sampled frame and face as CSV")
    parser.add_argument("--json", metavar="F", help="write the JSON summary ('-' for stdout)")
    add_model_options(parser)
    parser.add_argument("--min-face", type=int, default=None, metavar="PX",
                        help="smallest face side to keep, in pixels (default 20)")
    parser.add_argument("--threshold", type=float, default=None, help="minimum YuNet face score (default 0.6)")
    parser.add_argument("--scene-detector", default="content", choices=["content", "adaptive"],
                        help="PySceneDetect detector for shot cuts (default content)")
    parser.add_argument("--scene-threshold", type=float, default=None,
                        help="cut threshold (default: PySceneDetect's, 27 content / 3 adaptive)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write cached results")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no scene list")


class ProgressBar:
    """A one-line bar on a terminal; on a pipe or log file, a line every 10%."""

    def __init__(self, stream=None, width: int = 30):
        stream = stream if stream is not None else sys.stderr
        self.stream, self.width = stream, width
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last_decile = -1

    @staticmethod
    def _clock(seconds: float | None) -> str:
        if seconds is None:
            return "--:--"
        m, s = divmod(round(seconds), 60)
        h, m = divmod(m, 60)
        return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"

    def __call__(self, p) -> None:
        frac = p.fraction if p.fraction is not None else 0.0
        text = (f"{frac:6.1%} {self._clock(p.position)}/{self._clock(p.duration)} of video · "
                f"{p.scenes} scenes · {p.faces} faces · elapsed {self._clock(p.elapsed)} · ETA {self._clock(p.eta)}")
        if self.tty:
            filled = round(frac * self.width)
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {text}\x1b[K")
            if p.stage == "finishing":
                self.stream.write("\n")
            self.stream.flush()
            return
        decile = int(frac * 10)
        if decile > self._last_decile:
            self._last_decile = decile
            print(text, file=self.stream, flush=True)


def check_output(option: str, target: str | None) -> None:
    """Fail now, before a long analysis, if ``target`` (the value of ``option``) cannot be written.

    Tries it for real: an existing file is opened for appending (its content is
    kept), a new one is created and removed again.
    """
    from ..errors import SettingsError

    if not target or target == "-":
        return
    path = Path(target)
    if path.is_dir():
        example = {"--frames-csv": "frames.csv", "--json": "summary.json"}.get(option, "scenes.csv")
        raise SettingsError(f"{option} {target}: is a folder; give a file name such as {path / example}")
    if not path.parent.is_dir():
        raise SettingsError(f"{option} {target}: the folder {path.parent} does not exist; create it first "
                            "or choose another path")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise SettingsError(f"{option} {target}: cannot be written ({reason}); choose another path") from None
    if not existed:
        path.unlink(missing_ok=True)


def _write(target: str, text: str) -> None:
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(target).write_text(text, encoding="utf-8")


def _scene_lines(report) -> list[str]:
    from ..film.timeline import timecode

    lines = [(f"{report.source}: {len(report.scenes)} scene(s), {report.info.width}x{report.info.height}, "
             f"{report.info.duration:.1f} s [{report.detector}, {report.model}, {report.backend}]")]
    for r in report.rows:
        emotion = f"{r.dominant_emotion} {r.dominant_share:.0%}" if r.dominant_emotion else "no face"
        lines.append(f"  {r.scene:>4}  {timecode(r.start_s)} - {timecode(r.end_s)}  faces in {r.face_share:4.0%}"
                     f" of frames  {emotion}")
    return lines


def run(args: argparse.Namespace) -> int:
    from transformers.utils import logging as hf_logging

    from ..detector import build_detector
    from ..film import analyze_video
    from ..film.timeline import timecode
    from ..film.video import probe
    from ..settings import FilmSettings, Settings

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()  # the library's own messages say what matters; not raw transformers notices
    settings = Settings.from_args(args)
    film = FilmSettings(fps=args.fps, scene_detector=args.scene_detector, scene_threshold=args.scene_threshold)
    # Everything a user can get wrong is checked before the model loads and the analysis starts.
    for option in ("scenes_csv", "frames_csv", "json"):
        check_output("--" + option.replace("_", "-"), getattr(args, option))
    probe(args.video)
    detector = build_detector(settings)
    bar = None if args.quiet else ProgressBar()
    started = time.monotonic()
    try:
        report = analyze_video(args.video, settings, film, progress=bar, detector=detector,
                               cache=not args.no_cache)
    except KeyboardInterrupt:
        if not args.no_cache:
            print("\ninterrupted; the part done is saved: run the same command again to resume", file=sys.stderr)
        return 130
    if report.from_cache and not args.quiet:
        print("(loaded from the cache; --no-cache recomputes)", file=sys.stderr)
    if report.resumed_from is not None:
        print(f"resumed from {timecode(report.resumed_from)}, where an earlier run of the same analysis stopped "
              "(--no-cache starts over)", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.scenes_csv:
        _write(args.scenes_csv, report.scenes_csv())
    if args.frames_csv:
        _write(args.frames_csv, report.frames_csv())
    if args.json:
        _write(args.json, report.to_json() + "\n")
    stdout_used = "-" in (args.scenes_csv, args.frames_csv, args.json)
    if not args.quiet and not stdout_used:
        print("\n".join(_scene_lines(report)))
        elapsed = time.monotonic() - started
        if report.info.duration > 0 and not report.from_cache:
            print(f"analysed in {elapsed:.1f} s ({report.info.duration / elapsed:.1f}x realtime)")
    return 0
