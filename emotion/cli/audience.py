"""``python -m emotion audience FILM REACTION [REACTION ...]``: how an audience reacted, scene by scene.

The film is analysed first (or loaded from the cache of ``film``), then each
reaction recording is aligned to it by sound (or by ``--offset NAME=SECONDS``,
NAME being the reaction file's name) and its viewers' expressions are read.
Prints each reaction's offset and viewers, the audience peaks and one line per
scene; writes the per-scene, per-second and per-viewer CSVs, the JSON and a
self-contained HTML report where asked (``-`` is stdout). Progress goes to
stderr. Everything is cached: the same command again answers at once, and one
interrupted with Ctrl-C resumes.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import SettingsError, SyncError
from .film import ProgressBar, _write
from .options import add_model_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("film", metavar="FILM", help="the film (or trailer) the audience watched")
    parser.add_argument("reactions", metavar="REACTION", nargs="+",
                        help="reaction recordings: viewers filmed while they watched, with sound")
    parser.add_argument("--offset", action="append", default=[], metavar="NAME=SECONDS",
                        help="the recording time at which the film starts in reaction NAME (its file name), "
                             "instead of finding it from the sound; negative if the recording began after the film")
    parser.add_argument("--fps", type=float, default=4.0, metavar="N",
                        help="frames sampled per second, in the film and the reactions (default 4)")
    parser.add_argument("--scenes-csv", metavar="F", help="write the per-scene audience table as CSV ('-': stdout)")
    parser.add_argument("--seconds-csv", metavar="F", help="write the per-second audience table as CSV")
    parser.add_argument("--viewers-csv", metavar="F", help="write the per-viewer table as CSV")
    parser.add_argument("--json", metavar="F", help="write the JSON summary ('-' for stdout)")
    parser.add_argument("--report", metavar="F.html", help="write a self-contained HTML report (opens offline)")
    add_model_options(parser)
    parser.add_argument("--viewers", choices=["auto", "seats", "tracks"], default="auto",
                        help="seats: a fixed camera on a room, each place where a face keeps coming back is a "
                             "viewer; tracks: faces followed as they move (a hand-held camera); auto (default) "
                             "chooses, and the outputs say which")
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS|local",
                        help="read each recording in time spans on Ray workers (--ray or --ray local starts Ray "
                             "here; --ray ADDRESS joins a cluster); the same numbers as one machine; needs "
                             "pip install -r requirements-ray.txt")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="Ray workers (spans per recording) with --ray local (default 2)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write cached results")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")


class ReactionBar(ProgressBar):
    """The film's progress bar, saying faces instead of scenes (a recording has no scenes)."""

    def found(self, p) -> str:
        return f"{p.faces} faces"


def parse_offsets(items: list[str], reactions: list[str]) -> dict[str, float]:
    """``NAME=SECONDS`` items as {reaction path: seconds}; NAME is a reaction's file name (or the path given)."""
    by_name = {Path(r).name: r for r in reactions}
    by_name.update({r: r for r in reactions})
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        if not sep or not name:
            raise SettingsError(f"--offset expects NAME=SECONDS, got {item!r}")
        if name not in by_name:
            raise SettingsError(f"--offset {item!r}: {name!r} is not one of the reactions "
                                f"({', '.join(Path(r).name for r in reactions)})")
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds):
            raise SettingsError(f"--offset {item!r}: expected a number of seconds after '=', got {value!r}")
        out[by_name[name]] = seconds
    return out


def _summary(report, syncs: dict) -> list[str]:
    from ..audience.report import found_in_words

    lines = [f"{report.film}: {report.viewers} viewer(s) in {len(report.reactions)} reaction(s), "
             f"{len(report.scenes)} scenes"]
    for r in report.reactions:
        how = f"from the sound, confidence {r['confidence']:.2f}" if r["sync"] == "audio" else "given by hand"
        lines.append(f"  {r['name']}: film starts at {r['offset_s']:+.2f} s of the recording ({how})")
        lines.append(f"    {found_in_words(r)}")
    if report.peaks:
        lines.append("audience peaks:")
        lines += [f"  {report.tc(p.time_s)}  scene {p.scene:>3}  {p.emotion} {p.level:.0%} (+{p.rise:.0%})"
                  for p in report.peaks]
    lines.append("scenes:")
    for row in report.rows:
        top = {k: v for k, v in row.mean.items() if k != "neutral" and math.isfinite(v)}
        if row.viewers and top:
            emotion = max(top, key=top.get)
            what = (f"{row.viewers} viewer(s), most {emotion} {top[emotion]:.0%}, expressive "
                    f"{row.expressive_share:.0%}, attentive {row.attentive_share:.0%}")
        else:
            what = "no viewer's face"
        lines.append(f"  {row.scene:>4}  {report.tc(row.start_s)} - {report.tc(row.end_s)}  {what}")
    if report.valence_correlation is not None:
        lines.append(f"audience vs on-screen valence over scenes: r = {report.valence_correlation:+.2f}")
    return lines


def run(args: argparse.Namespace) -> int:
    from transformers.utils import logging as hf_logging

    from ..audience import analyze_audience, analyze_reaction, sync_offset
    from ..detector import build_detector
    from ..film import analyze_video
    from ..settings import AudienceSettings, FilmSettings, Settings

    hf_logging.disable_progress_bar()
    offsets = parse_offsets(args.offset, args.reactions)
    settings = Settings.from_args(args)
    audience = AudienceSettings(fps=args.fps, viewers=args.viewers)
    detector = build_detector(settings)
    cache = not args.no_cache
    say = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    try:
        say(f"film: {Path(args.film).name}")
        film = analyze_video(args.film, settings, FilmSettings(fps=args.fps), detector=detector, cache=cache,
                             progress=None if args.quiet else ProgressBar())
        reactions, syncs = [], {}
        for path in args.reactions:
            name = Path(path).name
            if path in offsets:
                offset = offsets[path]
            else:
                try:
                    offset = syncs[path] = sync_offset(args.film, path, cache=cache)
                except SyncError as exc:
                    raise SyncError(f"{exc}: --offset {name}=SECONDS") from exc
                say(f"{name}: the film starts at {offset.offset_s:+.3f} s of the recording "
                    f"(from the sound, confidence {offset.confidence:.2f})")
            say(f"reaction: {name}")
            reactions.append(analyze_reaction(path, offset, settings, audience, detector=detector, cache=cache,
                                              progress=None if args.quiet else ReactionBar(), ray=args.ray,
                                              workers=args.workers))
    except KeyboardInterrupt:
        if cache:
            print("\ninterrupted; the part done is saved: run the same command again to resume", file=sys.stderr)
        return 130
    report = analyze_audience(film, reactions, audience)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    from ..audience import output

    writers = ((args.scenes_csv, output.scenes_csv), (args.seconds_csv, output.seconds_csv),
               (args.viewers_csv, output.viewers_csv), (args.json, lambda r: output.report_json(r) + "\n"))
    for target, write in writers:
        if target:
            _write(target, write(report))
    if args.report:
        Path(args.report).write_text(output.report_html(report), encoding="utf-8")
    stdout_used = "-" in (args.scenes_csv, args.seconds_csv, args.viewers_csv, args.json)
    if not args.quiet and not stdout_used:
        print("\n".join(_summary(report, syncs)))
    return 0
