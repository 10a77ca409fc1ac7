"""``python -m emotion film VIDEO``: the per-scene emotion timeline of a film or trailer.

Prints one line per scene (timecodes, faces, dominant emotion) and writes the
per-scene CSV, the per-shot CSV, the per-frame CSV, the JSON summary, the
HTML report and editor markers (EDL, marker CSV) where asked (``-`` is
stdout). Scenes are grouped shots by default (``--segments``), or the crew's
own list (``--scene-list``); changing them reuses the cached analysis. A progress bar goes to stderr. Results and checkpoints are cached:
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
    parser.add_argument("--segments", default="scenes", metavar="KIND",
                        help="what a row of the scene table is: 'scenes' (shots grouped by look and time, "
                             "default), 'shots', or 'every:N' (windows of N seconds)")
    parser.add_argument("--scene-list", metavar="FILE",
                        help="your own scenes: CSV rows of name,start,end (seconds, HH:MM:SS[.mmm] or HH:MM:SS:FF)")
    parser.add_argument("--scenes-csv", metavar="F", help="write the per-scene table as CSV ('-' for stdout)")
    parser.add_argument("--shots-csv", metavar="F", help="write the per-shot table as CSV ('-' for stdout)")
    parser.add_argument("--report", metavar="F.html", help="write a self-contained HTML report (works offline)")
    parser.add_argument("--edl", metavar="F", help="write scene and peak markers as a CMX3600 EDL")
    parser.add_argument("--markers", metavar="F", help="write scene and peak markers as CSV (SMPTE timecodes)")
    parser.add_argument("--frames-csv", metavar="F", help="write every sampled frame and face as CSV")
    parser.add_argument("--json", metavar="F", help="write the JSON summary ('-' for stdout)")
    add_model_options(parser)
    parser.add_argument("--scene-detector", default="content", choices=["content", "adaptive"],
                        help="PySceneDetect detector for shot cuts (default content)")
    parser.add_argument("--scene-threshold", type=float, default=None,
                        help="cut threshold (default: PySceneDetect's, 27 content / 3 adaptive)")
    parser.add_argument("--quick-faces", action="store_true",
                        help="look for faces once per sampled frame instead of three ways (as it is, smaller, "
                             "brighter): about twice as fast, finds fewer faces in dark or busy shots")
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
        from ..io import clock

        return clock(seconds)

    def found(self, p) -> str:
        """What the pass has found so far (subclasses for other kinds of pass say something else)."""
        return f"{p.shots} shots · {p.faces} faces"

    def __call__(self, p) -> None:
        frac = p.fraction if p.fraction is not None else 0.0
        text = (f"{frac:6.1%} {self._clock(p.position)}/{self._clock(p.duration)} of video · "
                f"{self.found(p)} · elapsed {self._clock(p.elapsed)} · ETA {self._clock(p.eta)}")
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
        try:
            Path(target).write_text(text, encoding="utf-8")
        except OSError as exc:
            from ..errors import EmotionError

            raise EmotionError(f"could not write {target}: {exc.strerror or exc}; check the folder exists and "
                               "is writable") from None


def _scene_lines(report) -> list[str]:

    lines = [(f"{report.source}: {len(report.scenes)} scene(s) ({report.segmentation}) from {len(report.shots)} "
              f"shot(s), {report.info.width}x{report.info.height}, "
             f"{report.info.duration:.1f} s [{report.detector}, {report.model}, {report.backend}]")]
    for r in report.rows:
        emotion = f"{r.dominant_emotion} {r.dominant_share:.0%}" if r.dominant_emotion else "no face"
        name = f"  {r.name}" if r.name else ""
        lines.append(f"  {r.scene:>4}  {report.tc(r.start_s)} - {report.tc(r.end_s)}  faces in {r.face_share:4.0%}"
                     f" of frames  {emotion}{name}")
    return lines


def _write_exports(args: argparse.Namespace, report) -> None:
    """Each file asked for, by the writers the page and the service use (:mod:`emotion.film.output`)."""
    from ..film import output

    writers = ((args.scenes_csv, output.scenes_csv), (args.shots_csv, output.shots_csv),
               (args.frames_csv, output.frames_csv), (args.json, lambda r: output.report_json(r) + "\n"),
               (args.report, output.html_report), (args.edl, output.edl), (args.markers, output.markers_csv))
    for target, write in writers:
        if target:
            _write(target, write(report))


def run(args: argparse.Namespace) -> int:
    from ..film import analyze_video
    from ..film.scenelist import read_scene_list
    from ..film.video import probe
    from ..settings import FilmSettings, Settings

    # Everything a user can get wrong is checked before the model loads and the analysis starts:
    # settings, output paths, the video itself and the scene list, so a typo costs seconds, not the run.
    settings = Settings.from_args(args)
    film = FilmSettings(fps=args.fps, scene_detector=args.scene_detector, scene_threshold=args.scene_threshold,
                        thorough=not args.quick_faces, segments=args.segments)
    for option in ("scenes_csv", "shots_csv", "frames_csv", "json", "report", "edl", "markers"):
        check_output("--" + option.replace("_", "-"), getattr(args, option))
    info = probe(args.video)
    if args.scene_list:  # read now: a bad row is said before the analysis, not after it
        film = film.replace(scene_list=read_scene_list(args.scene_list, info.fps))
    bar = None if args.quiet else ProgressBar()
    started = time.monotonic()
    try:
        # the model loads inside, and only when the cache cannot answer without it
        report = analyze_video(args.video, settings, film, progress=bar, cache=not args.no_cache)
    except KeyboardInterrupt:
        if not args.no_cache:
            print("\ninterrupted; the part done is saved: run the same command again to resume", file=sys.stderr)
        return 130
    if report.from_cache and not args.quiet:
        print("(loaded from the cache; --no-cache recomputes)", file=sys.stderr)
    if report.resumed_from is not None:
        print(f"resumed from {report.tc(report.resumed_from)}, where an earlier run of the same analysis stopped "
              "(--no-cache starts over)", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _write_exports(args, report)
    stdout_used = "-" in (args.scenes_csv, args.shots_csv, args.frames_csv, args.json, args.report, args.edl,
                          args.markers)
    if not args.quiet and not stdout_used:
        print("\n".join(_scene_lines(report)))
        elapsed = time.monotonic() - started
        if report.info.duration > 0 and not report.from_cache:
            print(f"analysed in {elapsed:.1f} s ({report.info.duration / elapsed:.1f}x realtime)")
    return 0
