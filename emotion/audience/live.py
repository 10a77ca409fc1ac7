"""A live screening: the film plays from the server while the viewer's webcam is read on the film's clock.

How it works (the page, :mod:`emotion.ui.audience_live`, wires it to one
streamlit-webrtc stream): the browser sends its camera to the server and
receives the film back, picture and sound, over the same connection. The
server decodes the film itself (:mod:`.player`) at the time its
:class:`ScreeningClock` says, so it always knows which moment of the film
is on show. A camera frame read is stamped with that film time at the
moment it was filmed (see the decisions below); pause and seek move the clock, so stamps stay right through them
by construction, with nothing to align afterwards.

The clock counts *session time* (seconds since the film first started, on a
monotonic clock) and keeps a list of segments: from session time ``s`` the
film was at ``f`` and was playing (or paused). While playing, film time is
``f + (now - s)``: a piece of a recording with offset ``s - f``. So a
finished screening becomes an ordinary :class:`~emotion.audience.Reaction`:
``recording_time`` is session time, ``pieces`` are the playing segments (the
same piecewise alignment a paused recording gets from its sound), ``sync`` is
``"live"`` and ``offset_s`` is 0 (the film starts at session time 0).

Decisions, and why:

* **Readings while the film is paused, before it starts or after its end are
  dropped** (and counted). The film is not moving, so they belong to no moment
  of it; piling them on the paused second would let a chat with the
  projectionist outweigh the scene.
* **The camera is read :data:`READINGS_PER_S` times a second** (the first
  frame in each quarter second of session time), the rate recordings are
  sampled at, not as fast as the CPU allows. Analysing every camera frame
  took all the CPU the server had, and the film's stream then fell behind:
  measured with ``python benchmarks/bench_live_delay.py`` (below).
* Camera frames go through :class:`~emotion.live.LiveSession` (latest-wins:
  when the model is slower than the camera, the newest frame is analysed and
  stamps never lag behind by a backlog).
* Faces become viewers exactly as in a recording
  (:func:`~emotion.audience.reaction.reaction_from_scan`: tracks over session
  time, stitched, numbered from the left; attention from the landmarks).
* Only numbers are kept: time, boxes, landmarks, probabilities. No frame is
  stored anywhere.
* **A stamp is the film time when the camera frame was filmed**: its own
  timestamp (RTP time), mapped to the session clock by the fastest frame
  seen (:meth:`LiveScreening.captured_at`), so a frame that waited on a busy
  server keeps its moment. The film frame the viewer saw left the server
  earlier still (the browser's jitter buffers, holding the picture in step
  with the sound): measured with ``python benchmarks/bench_live_delay.py``
  (the film's frame numbers filmed back by the browser; docs/audience.md), on
  a busy 2-core server with the browser beside it, stamps ran 0.9-1.5 s late
  (median), steady over a screening. The film's tracks are relayed newest
  frame only (the page's ``latest_only``); before, with every frame queued
  and every camera frame analysed, the lateness grew by 0.7-0.9 s every
  second. ``latency_s`` subtracts a known, constant delay; it stays 0 by
  default, since what is left depends on the machine's load.

>>> now = [0.0]
>>> clock = ScreeningClock(60.0, clock=lambda: now[0])
>>> clock.start()
True
>>> now[0] = 5.0; clock.pause(); now[0] = 7.0; clock.seek(30.0); clock.play()   # paused at 5 s; at 7 s, on from 30
>>> clock.film_at(4.0), clock.film_at(6.0), clock.film_at(9.0)
(4.0, None, 32.0)
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import EmotionError, SettingsError
from ..settings import AudienceSettings
from .clock import ScreeningClock
from .reaction import Reaction, reaction_from_scan
from ..film.state import PassState

log = logging.getLogger(__name__)

#: Camera frames read per second of session time, by default: what a recording is sampled at
#: (AudienceSettings.fps), and few enough to leave the CPU to the film's stream.
READINGS_PER_S = 4.0
#: How fast (s per s) the camera's clock may drift from the server's: 100 ppm, above any crystal's.
CLOCK_DRIFT = 1e-4


@dataclass(frozen=True)
class ScreeningStats:
    """How a screening is going: counts and rates for the page (all measured, none estimated)."""

    readings: int          # analysed camera frames stamped with a film time
    with_face: int         # ... of which had at least one face
    dropped: int           # analysed frames whose moment fell in a pause or past the end
    paused_frames: int     # camera frames not analysed because the film was not playing
    played_s: float        # session seconds the film was playing
    last_film_s: float | None
    between_frames: int = 0   # camera frames not read because the last reading was too recent

    @property
    def per_second(self) -> float:
        return self.readings / self.played_s if self.played_s > 0 else 0.0


class LiveScreening:
    """One viewer's live screening of ``film``: the streamer's three callbacks and the reaction they add up to.

    ``detector`` reads the camera (anything with ``analyze(rgb) -> ImageResult``)
    through a :class:`~emotion.live.LiveSession` made with ``settings``, whose
    reports the screening collects (``autostart=False``: no analysis thread,
    call ``screening.session.step()``, as tests do). ``picture``/``sound``
    are the film player (:class:`~.player.FilmPicture`/:class:`~.player.FilmSound`,
    or fakes). The page calls :meth:`camera` with each camera frame,
    :meth:`frame` for each film frame to send and :meth:`audio` for each
    slice of sound, then :meth:`reaction` to keep the result.

    >>> screening = LiveScreening("film.mp4", detector, name="live-1")   # doctest: +SKIP
    >>> screening.reaction().sync, screening.reaction().pieces          # doctest: +SKIP
    ('live', ((0.0, 0.0), (12.0, 12.0), (15.5, -14.5)))
    """

    def __init__(self, film: str | Path, detector, settings=None, *, name: str = "live-1", picture=None,
                 sound=None, duration_s: float | None = None, clock: Callable[[], float] = time.monotonic,
                 latency_s: float = 0.0, readings_per_s: float = READINGS_PER_S, autostart: bool = True):
        from ..live.session import LiveSession
        from ..live.settings import LiveSettings
        from .player import FilmPicture, FilmSound

        self.film = Path(film)
        self.name = name
        self.picture = picture if picture is not None else FilmPicture(self.film)
        self._sound = sound
        self._sound_factory = (lambda: FilmSound(self.film)) if sound is None else None
        duration = duration_s if duration_s is not None else self.picture.duration
        self.clock = ScreeningClock(duration, clock=clock)
        self.latency_s = float(latency_s)
        if not (readings_per_s >= 0 and math.isfinite(readings_per_s)):
            raise SettingsError(f"readings_per_s must be 0 (every camera frame) or more, got {readings_per_s!r}")
        self.readings_per_s = float(readings_per_s)
        self._last_cell = -1
        self._between = 0
        self._lag: float | None = None        # session time - sender time, the smallest seen
        self._captured: float | None = None   # the last frame's sender time
        self.session = LiveSession(settings or LiveSettings(), detector, wall=self.clock.now, on_report=self._record,
                                   autostart=autostart)
        self._lock = threading.Lock()
        self._state: PassState | None = None
        self._dropped = 0
        self._paused_frames = 0
        self._with_face = 0
        self._last_film: float | None = None
        self.closed = False

    # ------------------------------------------------------------ streamer callbacks (WebRTC threads)
    def frame(self) -> np.ndarray:
        """The film frame (RGB) to send now; the first call starts the film."""
        if self.closed:   # a stream that outlives its screening shows black until the browser lets go
            w, h = getattr(self.picture, "size", (64, 36))
            return np.zeros((h, w, 3), np.uint8)
        if self.clock.start():
            log.info("%s: the film started", self.name)
        return self.picture.at(self.clock.position())

    def audio(self, n: int) -> np.ndarray:
        """``n`` samples (n, channels) int16 of the film's sound now; silence while it is not playing."""
        if self._sound is None:
            self._sound = self._sound_factory()
        if self.closed or not self.clock.playing:
            return np.zeros((int(n), self._sound.channels), np.int16)
        return self._sound.samples(self.clock.position(), n)

    def camera(self, rgb: np.ndarray | Callable[[], np.ndarray], captured_s: float | None = None) -> float | None:
        """A camera frame arrived: analyse it if the film was playing and a reading is due (never blocks).

        ``rgb`` is the frame (RGB), or a function that makes it, called only for a frame that is read
        (the page passes the conversion of the WebRTC frame, so frames in between cost nothing).
        ``captured_s`` is the frame's own timestamp (seconds on the sender's clock, the RTP time):
        the frame is then stamped with the session time it was *captured* (see :meth:`captured_at`),
        not the time a busy server got to it. Returns that session time, or None for a frame that
        belongs to no moment of the film (paused, not started, ended, closed).
        """
        if self.closed:
            return None
        t = self.captured_at(captured_s)
        if self.clock.film_at(t) is None:
            with self._lock:
                self._paused_frames += 1
            return None
        if self.readings_per_s > 0:
            cell = math.floor(t * self.readings_per_s + 1e-9)
            with self._lock:
                if cell <= self._last_cell:
                    self._between += 1
                    return t
                self._last_cell = cell
        self.session.submit(rgb() if callable(rgb) else rgb, at=t)
        return t

    def captured_at(self, captured_s: float | None) -> float:
        """Session time at which a camera frame with timestamp ``captured_s`` was captured (now if None).

        The sender's clock and the session clock differ by an unknown constant: the smallest
        delay seen so far (the frames that arrived fastest) fixes it, allowed to grow by
        :data:`CLOCK_DRIFT` per second (the two clocks' drift). A frame that waited in a queue
        on a busy server keeps the moment it was filmed. A timestamp that jumps back (a new
        stream) starts afresh.
        """
        now = self.clock.now()
        if captured_s is None or not math.isfinite(captured_s) or not math.isfinite(now):
            return now
        with self._lock:
            lag = now - captured_s
            last = self._captured
            if self._lag is None or last is None or captured_s < last - 1.0:
                self._lag = lag
            else:
                self._lag = min(lag, self._lag + CLOCK_DRIFT * max(0.0, captured_s - last))
            self._captured = captured_s
            return captured_s + self._lag

    # ------------------------------------------------------------ analysis thread
    def _record(self, report) -> None:
        t = float(report.time) - self.latency_s
        film = self.clock.film_at(t)
        with self._lock:
            if film is None:
                self._dropped += 1
                return
            table = report.result.table
            if self._state is None:
                self._state = PassState.for_reactions(tuple(report.result.labels), report.result.width,
                                                      report.result.height)
            # A live stream has no frame numbers: a reading's number stands in for one.
            self._state.add_sample(t, len(self._state.sample_time), table)
            self._with_face += bool(len(table))
            self._last_film = film

    # ------------------------------------------------------------ results (the page)
    def stats(self) -> ScreeningStats:
        with self._lock:
            readings = 0 if self._state is None else len(self._state.sample_time)
            stats = (readings, self._with_face, self._dropped, self._paused_frames, self._last_film, self._between)
        return ScreeningStats(stats[0], stats[1], stats[2], stats[3], self.played_s(), stats[4], stats[5])

    def played_s(self) -> float:
        """Session seconds during which the film was playing (up to its end), so far."""
        segments = self.clock.segments()
        now = self.clock.now()
        if not segments or not math.isfinite(now):
            return 0.0
        total = 0.0
        for seg, nxt in zip(segments, [*segments[1:], None]):
            if seg.playing:
                stop = now if nxt is None else nxt.start_s
                total += max(0.0, min(stop - seg.start_s, self.clock.duration - seg.film_s))
        return total

    def reaction(self, audience: AudienceSettings | None = None) -> Reaction:
        """The screening so far as a :class:`Reaction` (``sync="live"``): numbers only.

        ``audience`` gives the viewer options (tracks, stitching, attention). Raises :class:`EmotionError` when no moment of the film was read.
        """
        audience = audience or AudienceSettings()
        with self._lock:
            state = self._state
            if state is None or not state.sample_time:
                raise EmotionError("the screening has no readings yet: start the film with the camera on, "
                                   "let it play, then save")
            copy = state.copy()
        now = self.clock.now()
        copy.duration = float(now) if math.isfinite(now) else float(copy.sample_time[-1])
        copy.done, copy.complete = True, True
        rate = max(len(copy.sample_time) / max(self.played_s(), 1e-6), 0.1)
        reaction = reaction_from_scan(self.name, copy, audience.replace(fps=min(rate, 1000.0)), 0.0)
        stats = self.stats()
        notes = list(reaction.warnings)
        if stats.dropped:
            notes.append(f"{self.name}: {stats.dropped} reading(s) fell in a pause or after the film's end and were "
                         "left out")
        return replace(reaction, sync="live", offset_s=0.0, pieces=self.clock.pieces(), warnings=tuple(notes),
                       recording_duration_s=copy.duration)

    def close(self) -> None:
        """Stop the analysis and the film; the callbacks go quiet (black, silence, no reading).

        The decoders are left to the garbage collector: a WebRTC thread may
        still be asking for a frame while the page closes the screening.
        """
        self.closed = True
        self.session.stop()
        self.clock.pause()
