"""The film's playback clock in a live screening: start, pause, play, seek; film time at any session time.

:class:`ScreeningClock` keeps the playback as :class:`Segment` s, so the moment a camera frame
was filmed maps to the film time on show then, through pauses and seeks.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import EmotionError


@dataclass(frozen=True)
class Segment:
    """From session time ``start_s`` the film was at ``film_s`` and was ``playing`` (or paused there)."""

    start_s: float
    film_s: float
    playing: bool


class ScreeningClock:
    """The film's playback clock: start, pause, play, seek; film time at any session time.

    Thread-safe: the page moves it, the WebRTC threads read it. ``clock`` is
    a monotonic seconds source (replace it in tests). Until :meth:`start`
    (the first film frame streamed) the film is at ``0`` and no time is
    counted. At the end of the film the clock stops there by itself.
    """

    def __init__(self, duration_s: float, *, clock: Callable[[], float] = time.monotonic):
        duration_s = float(duration_s)
        if not math.isfinite(duration_s) or duration_s <= 0:
            raise EmotionError(f"the film's duration must be a positive number of seconds, got {duration_s}")
        self.duration = duration_s
        self._clock = clock
        self._lock = threading.Lock()
        self._origin: float | None = None
        self._segments: list[Segment] = []
        self._wanted = 0.0   # where the film is before it starts (a seek before the stream connects)

    # ---------------------------------------------------------------- reading
    def now(self) -> float:
        """Session time (s since the film first started); NaN before it started."""
        with self._lock:
            return self._now()

    def _now(self) -> float:
        return math.nan if self._origin is None else self._clock() - self._origin

    @property
    def started(self) -> bool:
        return self._origin is not None

    def film_at(self, session_s: float) -> float | None:
        """The film time on show at ``session_s`` while playing; None when paused, not started or ended."""
        with self._lock:
            return self._film_at(session_s)

    def _film_at(self, s: float) -> float | None:
        if not self._segments or not math.isfinite(s):
            return None
        k = bisect_right([g.start_s for g in self._segments], s) - 1
        if k < 0:
            return None
        seg = self._segments[k]
        if not seg.playing:
            return None
        film = seg.film_s + (s - seg.start_s)
        return film if film < self.duration else None

    def position(self) -> float:
        """Film time now (s): where the film is, playing or not, within ``[0, duration]``."""
        with self._lock:
            if not self._segments:
                return self._wanted
            seg = self._segments[-1]
            film = seg.film_s + (self._now() - seg.start_s if seg.playing else 0.0)
            return min(max(film, 0.0), self.duration)

    @property
    def playing(self) -> bool:
        """The film is moving (started, not paused, not at its end)."""
        with self._lock:
            return bool(self._segments) and self._film_at(self._now()) is not None

    @property
    def ended(self) -> bool:
        return self.started and not self.playing and self.position() >= self.duration - 1e-6

    def segments(self) -> tuple[Segment, ...]:
        with self._lock:
            return tuple(self._segments)

    def pieces(self) -> tuple[tuple[float, float], ...]:
        """``(session start, offset)`` of every segment, as :attr:`Reaction.pieces` (offset = start - film time).

        Paused segments are included so a moment inside one never borrows the
        offset of the segment before it (their readings are dropped anyway).
        """
        with self._lock:
            return tuple((g.start_s, g.start_s - g.film_s) for g in self._segments) or ((0.0, 0.0),)

    # ---------------------------------------------------------------- moving
    def _add(self, film: float, playing: bool) -> None:
        now = self._now()
        film = min(max(float(film), 0.0), self.duration)
        if self._segments and self._segments[-1].start_s == now:
            self._segments[-1] = Segment(now, film, playing)   # two moves in the same instant: the last wins
        else:
            self._segments.append(Segment(now, film, playing))

    def _here(self) -> float:
        seg = self._segments[-1]
        film = seg.film_s + (self._now() - seg.start_s if seg.playing else 0.0)
        return min(film, self.duration)

    def start(self) -> bool:
        """Start the film (the first call only; session time 0 is now). True if this call started it."""
        with self._lock:
            if self._origin is not None:
                return False
            self._origin = self._clock()
            self._segments = [Segment(0.0, self._wanted, self._wanted < self.duration)]
            return True

    def pause(self) -> None:
        with self._lock:
            if self._segments and self._segments[-1].playing:
                self._add(self._here(), False)

    def play(self) -> None:
        """Play on from where the film is (from the start again if it had ended)."""
        with self._lock:
            if not self._segments:
                return
            here = self._here()
            if here >= self.duration - 1e-6:
                self._add(0.0, True)
            elif not self._segments[-1].playing:
                self._add(here, True)

    def seek(self, film_s: float) -> None:
        """Jump to ``film_s`` (clipped to the film), keeping playing or paused as it was."""
        film_s = float(film_s)
        if not math.isfinite(film_s):
            raise EmotionError(f"a seek needs a time in seconds, got {film_s}")
        with self._lock:
            if not self._segments:
                self._wanted = min(max(film_s, 0.0), self.duration)
                return
            playing = self._segments[-1].playing and self._here() < self.duration
            self._add(film_s, playing and film_s < self.duration)
