"""``auto``: time every backend that passes the guard on the example batch, and keep the fastest."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ..errors import BackendUnavailable
from .backends import AUTO_ORDER, available_backends, checked

log = logging.getLogger(__name__)

#: ``auto`` races the candidates for about this long (at least one call each)
AUTO_TIME_BUDGET_S = 1.0


@dataclass(frozen=True)
class Trial:
    """What ``auto`` found out about one backend at load (kept on the runner as ``runner.trials``)."""

    backend: str
    seconds: float | None       # best time for one call on the example batch; None when not raced
    note: str                   # why it was skipped or rejected, or its agreement


def race(runners: dict, example: np.ndarray, budget_s: float | None = None,
          max_rounds: int = 20) -> dict[str, float]:
    """Best wall time of one call on ``example`` for each runner (all already warm).

    The runners take turns, round after round, so a burst of load from other
    processes slows all of them alike; the minimum over rounds is the estimate
    least disturbed by such bursts. At least one round, then more while the
    time budget lasts (a ViT-base at fp32 gets one round; a small ResNet ~20).
    """
    budget_s = AUTO_TIME_BUDGET_S if budget_s is None else budget_s
    best = {name: float("inf") for name in runners}
    start = time.perf_counter()
    for _ in range(max_rounds):
        for name, runner in runners.items():
            t0 = time.perf_counter()
            runner(example)
            best[name] = min(best[name], time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return best


def choose_auto(model, example, cache_key, eager, reference, check, validated=None, calibration=None):
    """Time every available backend that passes the guard; return the fastest."""
    available = available_backends()
    skipped: list[Trial] = []
    accepted = {"eager": eager}
    for name in AUTO_ORDER:
        ok, why = available[name]
        if not ok:
            skipped.append(Trial(name, None, f"{name} unavailable ({why})"))
            continue
        if name == "onnx-int8" and cache_key is None:
            skipped.append(Trial(name, None, f"{name} skipped (no cache key to keep the exported file under)"))
            continue
        try:
            accepted[name] = checked(name, model, example, cache_key, reference, check, validated, calibration)
        except BackendUnavailable as exc:
            log.warning("auto: %s", exc)
            skipped.append(Trial(name, None, str(exc)))
    seconds = race(accepted, example) if len(accepted) > 1 else {"eager": float("nan")}
    trials = [Trial(name, seconds[name], runner.reason) for name, runner in accepted.items()] + skipped
    best_name = min(seconds, key=seconds.get)
    best = accepted[best_name]
    if len(accepted) > 1:
        times = ", ".join(f"{n} {seconds[n] * 1e3:.1f} ms" for n in sorted(seconds, key=seconds.get))
        reason = f"auto: {best_name} is the fastest on the example batch of {len(example)} ({times})"
    else:
        reason = "auto: fp32 PyTorch, no faster backend passed"
    if best is not eager:
        reason += f"; {best.reason}"
    if skipped:
        reason += ". Not used: " + "; ".join(t.note for t in skipped)
    best.reason = reason
    best.trials = tuple(trials)
    log.info("auto picked %s: %s", best_name, reason)
    return best
