"""Audience screenings: how viewers react to a film, scene by scene.

* :func:`sync_offset` aligns a reaction recording to the film by sound -> :class:`SyncResult`;
* :func:`analyze_reaction` reads its viewers' expressions on the film's clock -> :class:`Reaction`;
* :func:`analyze_audience` sums a panel of reactions per second and per scene -> :class:`AudienceReport`;
* :mod:`.output` writes its files (CSV, JSON, HTML report).

>>> from emotion.audience import analyze_audience, analyze_reaction, output, sync_offset
>>> sync = sync_offset("film.mp4", "viewer1.mp4")                          # doctest: +SKIP
>>> reaction = analyze_reaction("viewer1.mp4", sync)                        # doctest: +SKIP
>>> report = analyze_audience("film.mp4", [reaction])                       # doctest: +SKIP
>>> open("audience_scenes.csv", "w").write(output.scenes_csv(report))      # doctest: +SKIP
"""

from ..settings import AudienceSettings
from .panel import AudienceReport, analyze_audience
from .reaction import Reaction, analyze_reaction
from .sync import SyncResult, sync_offset

__all__ = ["AudienceReport", "AudienceSettings", "Reaction", "SyncResult", "analyze_audience", "analyze_reaction",
           "sync_offset"]
