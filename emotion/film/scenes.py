"""Shots -> scenes: grouping consecutive shots, a crew's own scene list, or fixed windows.

Shot detection finds *cuts*; a scene is a run of shots in one place and time.
Three ways to make scenes, all post-processing on a finished (or cached) pass,
so switching between them never decodes the film again:

``scenes`` (the default): **automatic grouping by look and time.** Each shot
gets a colour signature from its key frame (a 320 px thumbnail the pass keeps
anyway): a hue x saturation histogram (12 x 4 bins) and a brightness histogram
(8 bins), each normalised to sum 1. Two shots *match* when the histogram
intersection (the shared mass, 0..1, averaged over the two histograms) is at
least ``similarity``. Then:

1. **Links.** Each shot is linked to the earliest shot before it that it
   matches and that ended at most ``window`` seconds before it starts. No cut
   inside a link's span is a scene boundary, so cross-cutting A-B-A-B (A and B
   alternate, each A matching the last A) becomes one scene, not four: the
   classic "overlapping links" idea behind scene transition graphs.
2. **Minimum length.** A scene shorter than ``min_length`` seconds joins the
   neighbour it resembles most (by the best match between their shots;
   the previous one on a tie), repeatedly, until none is shorter, unless the
   film itself is shorter. A trailer's one-second montage shots thus end up in
   scenes of a few seconds rather than standing alone.

A shot without a key frame (shorter than one sampling step) has no signature:
it makes no link of its own and is absorbed by the minimum length.
Defaults (``similarity`` 0.7, ``window`` 10 s, ``min_length`` 4 s) were
chosen by looking at the key frames of the shared 56 s trailer (25 shots):
shots of one set and light score 0.6-0.8, different places mostly 0.1-0.5,
but a dark, teal-and-orange trailer also scores 0.6+ across places, so the
bar is high and the window short (at 0.55 / 20 s the whole trailer was one
scene). With the defaults its 25 shots made 7 scenes of 4-11 s, which match
the places seen by eye except that montage shots of 1 s each are pooled by
the minimum length. A signature comes from the shot's key frame, which is
chosen partly by the faces found, so the face search moves it: with the
thorough search (films' default since) the same trailer makes 6 scenes of 4.6-22 s,
the closing montage one scene. Colour alone cannot tell two places of the same palette
apart; raise ``similarity`` for more, shorter scenes.

``shots``: every shot is its own scene (the detector's cuts as they are).

``every:N``: fixed windows of N seconds, handy to compare two cuts of a film.

A crew's own list (``name,start,end`` rows, see :mod:`emotion.film.scenelist`)
gives named scenes; the parts of the film it leaves out become unnamed scenes,
so every second of the film is in exactly one.

>>> parse_segments("every:10")
Segments(kind='every', every=10.0)
>>> s = [Scene(i + 1, 2.0 * i, 2.0 * i + 2, 50 * i, 50 * i + 50) for i in range(4)]
>>> a, b = np.eye(2)
>>> [(x.start, x.end) for x in group_shots(s, [a, b, a, b], SceneGrouping(min_length=0))]
[(0.0, 8.0)]
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SettingsError
from ..settings import SEGMENT_KINDS, Segments, parse_segments  # noqa: F401  (the film's names for them)
from .shots import Scene


@dataclass(frozen=True)
class SceneGrouping:
    """Parameters of the automatic grouping; see the module docstring.

    ``similarity``: histogram intersection (0..1) at which two shots look alike;
    ``window``: seconds back in which a matching shot links (cross-cutting);
    ``min_length``: shortest scene in seconds.
    """

    similarity: float = 0.7
    window: float = 10.0
    min_length: float = 4.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.similarity <= 1.0:
            raise SettingsError(f"scene similarity must be from 0 to 1, got {self.similarity}")
        if not 0.0 <= self.window <= 3600.0:
            raise SettingsError(f"scene window must be from 0 to 3600 seconds, got {self.window}")
        if not 0.0 <= self.min_length <= 3600.0:
            raise SettingsError(f"minimum scene length must be from 0 to 3600 seconds, got {self.min_length}")


# ------------------------------------------------------------------ signatures

def signature(rgb: np.ndarray) -> np.ndarray:
    """Colour signature of an RGB uint8 image: 48 hue x saturation bins, then 8 brightness bins.

    Each part sums to 1, so :func:`similarity` is the mean of two intersections.
    Black bars above and below the picture (letterbox) are cut off first.
    """
    import cv2

    bright = np.flatnonzero(rgb.mean(axis=(1, 2)) > 20)   # letterbox bars would make every shot look alike
    if len(bright):
        rgb = rgb[bright[0]:bright[-1] + 1]
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV)
    hs = cv2.calcHist([hsv], [0, 1], None, [12, 4], [0, 180, 0, 256]).ravel()
    v = cv2.calcHist([hsv], [2], None, [8], [0, 256]).ravel()
    return np.concatenate([hs / max(hs.sum(), 1.0), v / max(v.sum(), 1.0)]).astype(np.float32)


def jpeg_signature(jpeg: bytes) -> np.ndarray | None:
    """:func:`signature` of a JPEG thumbnail (None for empty or undecodable bytes)."""
    if not jpeg:
        return None
    import cv2

    bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return None if bgr is None else signature(bgr[:, :, ::-1])


def similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Histogram intersection of two signatures, 0 (nothing shared) to 1 (same colours); 0 if one is missing.

    Plain arrays that do not split into the two parts (tests use one-hot
    vectors) are compared as one histogram.
    """
    if a is None or b is None:
        return 0.0
    shared = np.minimum(a, b)
    if len(a) == 56:
        return float((shared[:48].sum() + shared[48:].sum()) / 2.0)
    return float(shared.sum() / max(min(a.sum(), b.sum()), 1e-9))


# ------------------------------------------------------------------ grouping

def _renumber(spans: Sequence[tuple[int, int]], shots: Sequence[Scene]) -> tuple[Scene, ...]:
    return tuple(Scene(i + 1, shots[a].start, shots[b].end, shots[a].start_frame, shots[b].end_frame)
                 for i, (a, b) in enumerate(spans))


def group_shots(shots: Sequence[Scene], signatures: Sequence[np.ndarray | None],
                grouping: SceneGrouping | None = None) -> tuple[Scene, ...]:
    """Scenes made of consecutive ``shots``; ``signatures[i]`` is shot i's (or None). See the module docstring."""
    grouping = grouping or SceneGrouping()
    shots = tuple(shots)
    if len(signatures) != len(shots):
        raise ValueError(f"group_shots: {len(shots)} shots but {len(signatures)} signatures")
    n = len(shots)
    if n == 0:
        return ()
    joined = np.zeros(n, bool)  # joined[i]: no scene boundary at the cut before shot i
    ends = [s.end for s in shots]
    for i in range(1, n):
        for j in range(bisect.bisect_left(ends, shots[i].start - grouping.window), i):
            if similarity(signatures[i], signatures[j]) >= grouping.similarity:
                joined[j + 1:i + 1] = True
                break
    spans: list[list[int]] = []
    for i in range(n):
        if i and joined[i]:
            spans[-1][1] = i
        else:
            spans.append([i, i])

    def length(span) -> float:
        return shots[span[1]].end - shots[span[0]].start

    def affinity(x, y) -> float:
        return max((similarity(signatures[p], signatures[q]) for p in range(x[0], x[1] + 1)
                    for q in range(y[0], y[1] + 1)), default=0.0)

    while len(spans) > 1:
        short = [k for k, s in enumerate(spans) if length(s) < grouping.min_length]
        if not short:
            break
        k = min(short, key=lambda k: (length(spans[k]), k))
        if k == 0:
            other = 1
        elif k == len(spans) - 1:
            other = k - 1
        else:
            other = k - 1 if affinity(spans[k], spans[k - 1]) >= affinity(spans[k], spans[k + 1]) else k + 1
        lo, hi = min(k, other), max(k, other)
        spans[lo:hi + 1] = [[spans[lo][0], spans[hi][1]]]
    return _renumber([tuple(s) for s in spans], shots)


def fixed_windows(every: float, end_time: float, fps: float) -> tuple[Scene, ...]:
    """Windows of ``every`` seconds from 0 to ``end_time`` (the last one shorter).

    >>> [(s.start, s.end) for s in fixed_windows(10, 25, 25)]
    [(0.0, 10.0), (10.0, 20.0), (20.0, 25.0)]
    """
    rate = fps if fps and fps > 0 else 25.0
    edges = list(np.arange(0.0, float(end_time), float(every))) + [float(end_time)]
    if len(edges) > 2 and edges[-1] - edges[-2] < 1e-6:
        edges.pop(-2)
    edges = [round(float(e), 6) for e in edges]
    return tuple(Scene(i + 1, a, b, round(a * rate), max(round(a * rate), round(b * rate)))
                 for i, (a, b) in enumerate(itertools.pairwise(edges)))


#: An unnamed gap shorter than this between (or around) listed scenes joins its neighbour: a list whose last
#: scene ends a frame before the film does should not make a scene of that frame.
SLIVER_S = 1.0


def _absorb_slivers(bounds: list[tuple[float, float, str]], notes: list[str],
                    fps: float | None) -> list[tuple[float, float, str]]:
    """Unnamed gaps under :data:`SLIVER_S` merged into the listed scene before them (or after, at the start)."""
    from .timeline import timecode

    if not any(name for _, _, name in bounds):
        return bounds
    out = list(bounds)
    i = 0
    while i < len(out):
        a, b, name = out[i]
        if name or b - a >= SLIVER_S or len(out) == 1:
            i += 1
            continue
        where = i - 1 if i > 0 and out[i - 1][2] else i + 1 if i + 1 < len(out) and out[i + 1][2] else None
        if where is None:
            i += 1
            continue
        na, nb, neighbour = out[where]
        out[where] = (min(na, a), max(nb, b), neighbour)
        notes.append(f"The {b - a:.2f} s from {timecode(a, fps)} to {timecode(b, fps)} is in no listed scene; "
                     f"it is counted in '{neighbour}' (gaps under {SLIVER_S:g} s join their neighbour).")
        del out[i]
        i = max(0, i - 1)
    return out


def listed_scenes(spans: Sequence[tuple[str, float, float]], end_time: float,
                  fps: float) -> tuple[tuple[Scene, ...], tuple[str, ...], list[str]]:
    """Contiguous scenes from a crew's list of ``(name, start, end)``: gaps become unnamed scenes.

    Returns (scenes, names, notes); notes say which listed scenes fell after
    the end of the analysed part (they are left out) or were cut short.

    >>> scenes, names, _ = listed_scenes([("Cold open", 1.0, 3.0)], 5.0, 25)
    >>> [(s.start, s.end) for s in scenes], names
    ([(0.0, 1.0), (1.0, 3.0), (3.0, 5.0)], ('', 'Cold open', ''))
    """
    rate = fps if fps and fps > 0 else 25.0
    end_time = float(end_time)
    bounds: list[tuple[float, float, str]] = []
    notes: list[str] = []
    cursor = 0.0
    for name, start, end in sorted(spans, key=lambda s: s[1]):
        if start >= end_time:
            notes.append(f"Scene '{name}' starts after the analysed part ends; it is left out.")
            continue
        if end > end_time + 1e-6:
            notes.append(f"Scene '{name}' runs past the analysed part; it is cut at the end.")
        end = min(end, end_time)
        if start > cursor + 1e-6:
            bounds.append((cursor, start, ""))
        bounds.append((max(start, cursor), end, name))
        cursor = end
    if cursor < end_time - 1e-6 or not bounds:
        bounds.append((cursor, end_time, ""))
    bounds = _absorb_slivers(bounds, notes, fps)
    scenes = tuple(Scene(i + 1, a, b, round(a * rate), max(round(a * rate), round(b * rate)))
                   for i, (a, b, _) in enumerate(bounds))
    return scenes, tuple(n for _, _, n in bounds), notes
