"""Scene-by-scene emotions of a film: :func:`analyze_video` -> :class:`VideoReport`.

One entry point over private stages, in the order data flows through them:

* :mod:`.video` decodes the file once (PyAV), frame by frame;
* :mod:`.sampling` is the one pass over those frames: every frame feeds shot
  detection (:mod:`.shots`), frames on the sampling grid go to a face worker;
* :mod:`.keyframes` keeps each scene's best thumbnail;
* :mod:`.cache` checkpoints the pass, so an interrupted analysis resumes;
* :mod:`.timeline` turns faces into tracks and per-scene rows;
* :mod:`.report` holds the result, :mod:`.charts` draws it (Plotly);
* :mod:`.output` writes every file a crew gets (CSV, JSON, HTML report, editor markers).

>>> from emotion.film import analyze_video, FilmSettings, output
>>> report = analyze_video("trailer.mp4", film=FilmSettings(fps=4))      # doctest: +SKIP
>>> open("scenes.csv", "w").write(output.scenes_csv(report))           # doctest: +SKIP
"""

from ..settings import FilmSettings
from .analyze import analyze_video, default_cache_dir, job_key, saved_progress
from .report import VideoReport
from .sampling import Progress

__all__ = ["FilmSettings", "Progress", "VideoReport", "analyze_video", "default_cache_dir", "job_key",
           "saved_progress"]
