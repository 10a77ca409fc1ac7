"""SMPTE timecodes: ``HH:MM:SS:FF`` at a film's frame rate, drop-frame ``HH:MM:SS;FF`` at 29.97/59.94.

Editors place markers by timecode, not seconds. A timecode counts frames at
the *nominal* rate (24 for 23.976, 30 for 29.97): frame ``n`` of a 23.976 fps
film is labelled as if the film ran at 24 fps, so a label drifts from the
wall clock by 0.1 %. Drop-frame timecode (29.97 and 59.94 only) skips the
labels ``;00`` and ``;01`` (``;00``-``;03`` at 59.94) at the start of every
minute except each tenth, which keeps the label within a frame or two of the
clock; its separator before the frames is ``;``.

The exact frame rate matters: 23.976 is 24000/1001, 29.97 is 30000/1001.
:func:`film_rate` recovers that fraction from the float a container reports.

>>> smpte(60.0, 30000 / 1001)            # frame 1798 of a 29.97 film
'00:00:59;28'
>>> smpte_from_frame(1800, 30000 / 1001)
'00:01:00;02'
>>> parse_smpte("00:01:00;02", 30000 / 1001)
1800
"""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction

from ..errors import SettingsError

_TC = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$")


@functools.lru_cache(maxsize=64)   # a film's every timecode asks for the same rate: tens of thousands of calls
def film_rate(fps: float) -> Fraction:
    """The exact frame rate behind a float: 23.976... -> 24000/1001, 25.0 -> 25.

    >>> film_rate(23.976024), film_rate(25.0)
    (Fraction(24000, 1001), Fraction(25, 1))
    """
    if not fps or not math.isfinite(fps) or fps <= 0:
        raise SettingsError(f"a timecode needs the film's frame rate, got {fps!r}; the file does not say "
                            "how many frames a second it plays")
    nominal = round(fps)
    ntsc = Fraction(nominal * 1000, 1001)
    if nominal and abs(float(ntsc) - fps) < 1e-3:
        return ntsc
    return Fraction(fps).limit_denominator(1001)


def is_drop_frame(fps: float) -> bool:
    """True for 29.97 and 59.94 fps, where SMPTE drop-frame timecode is the convention."""
    rate = film_rate(fps)
    return rate.denominator == 1001 and rate.numerator in (30000, 60000)


def _nominal(fps: float) -> int:
    return max(1, round(float(film_rate(fps))))


def frame_at(seconds: float, fps: float) -> int:
    """The frame shown at ``seconds`` (nearest frame start, ties to even), in exact integer arithmetic.

    >>> frame_at(60.0, 24000 / 1001), frame_at(0.5 / 25, 25), frame_at(1.5 / 25, 25)   # ties: exact float
    (1439, 1, 1)
    """
    rate = film_rate(fps)
    p, q = max(0.0, float(seconds)).as_integer_ratio()      # the float exactly, as Fraction(seconds) is
    num, den = p * rate.numerator, q * rate.denominator
    n, r = divmod(num, den)
    return n + 1 if 2 * r > den or (2 * r == den and n % 2) else n


def smpte_from_frame(frame: int, fps: float, drop_frame: bool | None = None) -> str:
    """The timecode label of frame ``frame`` (from 0); drop-frame by default at 29.97/59.94.

    >>> smpte_from_frame(1439, 24000 / 1001), smpte_from_frame(1500, 25)
    ('00:00:59:23', '00:01:00:00')
    """
    nominal = _nominal(fps)
    drop = is_drop_frame(fps) if drop_frame is None else drop_frame
    frame = max(0, int(frame))
    if drop:
        skip = 2 * (nominal // 30)                    # labels dropped per minute: 2 at 29.97, 4 at 59.94
        per_10min = nominal * 600 - 9 * skip
        per_min = nominal * 60 - skip
        tens, rest = divmod(frame, per_10min)
        frame += 9 * skip * tens + (skip * ((rest - skip) // per_min) if rest >= skip else 0)
    ff = frame % nominal
    seconds = frame // nominal
    hh, rest = divmod(seconds, 3600)
    mm, ss = divmod(rest, 60)
    return f"{hh % 24:02d}:{mm:02d}:{ss:02d}{';' if drop else ':'}{ff:02d}"


def smpte(seconds: float, fps: float, drop_frame: bool | None = None) -> str:
    """The timecode of the frame at ``seconds`` into a film running at ``fps``.

    >>> smpte(60.0, 25), smpte(60.0, 24000 / 1001)
    ('00:01:00:00', '00:00:59:23')
    """
    return smpte_from_frame(frame_at(seconds, fps), fps, drop_frame)


def parse_smpte(text: str, fps: float) -> int:
    """The frame number of a timecode ``HH:MM:SS:FF`` (or ``HH:MM:SS;FF``, drop-frame).

    Raises :class:`~emotion.errors.SettingsError` for a malformed label, a
    frame count at or above the nominal rate, or a label drop-frame skips.
    """
    match = _TC.match(text.strip())
    if not match or match.group(4) in ".,":
        raise SettingsError(f"'{text}' is not a timecode: expected HH:MM:SS:FF (or HH:MM:SS;FF drop-frame)")
    hh, mm, ss, sep, ff = int(match[1]), int(match[2]), int(match[3]), match[4], int(match[5])
    nominal = _nominal(fps)
    if mm > 59 or ss > 59 or ff >= nominal:
        raise SettingsError(f"'{text}' is not a valid timecode at {float(film_rate(fps)):.3f} fps: minutes and "
                            f"seconds go to 59, frames to {nominal - 1}")
    frame = (hh * 3600 + mm * 60 + ss) * nominal + ff
    if sep == ";":
        if not is_drop_frame(fps):
            raise SettingsError(f"'{text}' is a drop-frame timecode, but the film runs at "
                                f"{float(film_rate(fps)):.3f} fps; drop-frame exists only at 29.97 and 59.94")
        skip = 2 * (nominal // 30)
        if ss == 0 and ff < skip and mm % 10:
            raise SettingsError(f"'{text}' does not exist in drop-frame timecode (minute {mm} starts at "
                                f";{skip:02d})")
        minutes = hh * 60 + mm
        frame -= skip * (minutes - minutes // 10)
    return frame


def seconds_from_smpte(text: str, fps: float) -> float:
    """Seconds at which the frame labelled ``text`` starts."""
    return float(Fraction(parse_smpte(text, fps)) / film_rate(fps))
