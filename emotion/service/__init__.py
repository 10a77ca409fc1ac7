"""Emotion analysis as a service and in batches: the REST API and the batch runners.

* :mod:`.app` -- the FastAPI application (``python -m emotion serve``): photos
  answered at once, films as jobs; :mod:`.jobs` the job records,
  :mod:`.pool` the bounded pool that runs them, :mod:`.uploads` streaming
  uploads, :mod:`.config` its settings;
* :mod:`.batch` -- ``python -m emotion batch``: a folder or manifest of films,
  one results folder per film and an index, on a local process pool or on Ray
  (:mod:`.ray_batch`);
* :mod:`.outputs` -- the result files both write, the same as the CLI's.

FastAPI and Ray are imported only by the modules that need them.
"""
