"""Batch films as Ray tasks, on a cluster or on a Ray started for the run.

Each film is one task (one CPU) running :func:`emotion.service.batch.analyze_item`.
Ray keeps its worker processes between tasks, so each worker loads the model
once (the first film it gets) and reuses it. A task returns the film's result
files, and the machine that started the batch writes them into ``OUT``: the
workers need the package, the model and the films at the same paths, but not
the results folder.

Ray is optional: ``pip install -r requirements-ray.txt`` (or the ``ray`` extra).

>>> run_on_ray(items, spec, "out/", "local", workers=2, on_row=print)     # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import EmotionError
from .items import BatchItem, BatchSpec, analyze_item, store_item

log = logging.getLogger(__name__)

#: the object store of a Ray started for one run: results are a few MB a film
_LOCAL_OBJECT_STORE = 256 * 1024 * 1024


def import_ray():
    """The ``ray`` module, or a clear error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise EmotionError("--ray needs Ray, an optional install: pip install -r requirements-ray.txt "
                           "(or pip install 'emotion-analytics[ray]')") from None
    return ray


def _connect(ray, address: str, workers: int) -> bool:
    """Join the cluster at ``address`` or start a local Ray; True if this call started it."""
    if ray.is_initialized():
        return False
    package_root = str(Path(__file__).resolve().parents[2])
    if address == "local":
        # workers of a local Ray start from this checkout, even when the package is not installed
        env = {"PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
        ray.init(num_cpus=workers, include_dashboard=False, object_store_memory=_LOCAL_OBJECT_STORE,
                 log_to_driver=False, runtime_env={"env_vars": env})
        return True
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise EmotionError(f"cannot reach the Ray cluster at {address} ({exc}); start it with 'ray start --head' "
                           "or check the address (ray://HOST:10001, or auto on a cluster node)") from None
    return True


def run_on_ray(todo: list[BatchItem], spec: BatchSpec, out: str, address: str, workers: int,
               on_row: Callable[[BatchItem, dict[str, Any]], None]) -> None:
    """Run ``todo`` as Ray tasks; writes each film's folder under ``out`` and calls ``on_row`` as films finish.

    ``address``: ``"local"`` starts Ray here with ``workers`` CPUs (and stops it after); anything
    else is passed to ``ray.init(address=...)`` (the cluster decides how many films run at once).
    """
    ray = import_ray()
    started = _connect(ray, address, workers)
    try:
        task = ray.remote(num_cpus=1, max_retries=1)(analyze_item)
        pending = {task.remote(item, spec): item for item in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                item = pending.pop(ref)
                try:
                    row, files = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker died, or the node was lost
                    row, files = {"film": item.name, "source": item.source, "status": "failed",
                                  "error": f"the Ray task failed ({type(exc).__name__}: {str(exc)[:300]})"}, {}
                store_item(out, item, spec, row, files)
                on_row(item, row)
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
