"""The report of an analysis that was stopped part-way, straight from its checkpoint.

After Cancel (or a closed tab) the part already analysed is on disk; this
builds its report without decoding anything, marked partial (``complete`` is
False, a warning says where it stopped), so a crew can look at it while
deciding whether to resume.

>>> report = partial_report("trailer.mp4", key, detector, settings, film)   # doctest: +SKIP
>>> report.complete, report.stopped_at                                     # doctest: +SKIP
(False, 21.5)
"""

from __future__ import annotations

import os

from .analyze import _Producer, _report, default_cache_dir
from .cache import PassCache
from .video import probe


def partial_report(source: str | os.PathLike, key: str, detector, settings, film,
                   cache_dir: str | os.PathLike | None = None):
    """A partial :class:`~emotion.film.report.VideoReport` from the checkpoint ``key``, or None without one."""
    state = PassCache(cache_dir or default_cache_dir()).load(key)
    if state is None or state.done or not state.sample_time or state.labels != tuple(detector.model.labels):
        return None
    info = probe(source)
    return _report(info.name, info, state, _Producer.of(detector), settings, film, None, 0.0, key=key, cancelled=True)
