"""``auto``: time every backend that passes the guard on the example batch, and keep the fastest.

Racing costs seconds (each backend is built, checked against fp32 and timed),
so the outcome is remembered per machine: a small JSON file in
``cache_dir("runtime")`` keyed by the checkpoint's hash, the CPU, the thread
count and the versions of the libraries that run it. A later process builds
only the winner (still under the agreement guard) instead of racing again; if
it no longer builds, the race runs again and the file is rewritten.

The file also keeps what each backend cost to build. A caller that knows its
job is small (``expected_faces``: one photo, not a film) gets the backend with
the least build-plus-run time for that many faces, so scoring one photo does
not pay seconds of graph compilation to save milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from ..errors import BackendUnavailable
from ..io import atomic_write
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
    build_s: float | None = None  # seconds to build it and pass the guard


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


def _machine() -> dict:
    """What makes a measured decision valid: CPU, thread count and the versions that run the model."""
    from importlib import metadata

    from .. import __version__
    from .torch_backends import cpu_flags

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {}
    for package in ("torch", "transformers", "onnxruntime", "onnx", "intel_extension_for_pytorch"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    flags = hashlib.sha256(" ".join(sorted(cpu_flags())).encode()).hexdigest()[:12]
    # torch's default thread count follows these; reading them here does not need torch imported
    threads = os.environ.get("OMP_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS") or str(os.cpu_count())
    return {"cpu": cpu, "flags": flags, "threads": threads, "emotion": __version__, **versions}


def _decision_path(cache_key: str, shape: tuple[int, ...]):
    from ..paths import cache_dir

    ident = json.dumps({"checkpoint": cache_key, "example": list(shape), **_machine()}, sort_keys=True)
    return cache_dir("runtime") / f"auto-{hashlib.sha256(ident.encode()).hexdigest()[:24]}.json"


def remembered(cache_key: str, shape: tuple[int, ...]) -> str | None:
    """The backend ``auto`` chose on this machine for a checkpoint and example-batch shape, or None."""
    decision = _load_decision(_decision_path(cache_key, tuple(shape)))
    return decision["best"] if decision is not None else None


def _load_decision(path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data.get("best"), str) or not isinstance(data.get("trials"), list):
            raise ValueError("not a decision")
        return data
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as exc:
        log.info("auto: ignoring the unreadable decision %s (%s); racing again", path.name, exc)
        return None


def _save_decision(path, best: str, trials: list[Trial], reason: str) -> None:
    def number(x):
        return None if x is None or x != x else round(float(x), 6)  # NaN (nothing raced) -> null

    data = {"best": best, "reason": reason, "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "trials": [{"backend": t.backend, "seconds": number(t.seconds), "build_s": number(t.build_s),
                        "note": t.note} for t in trials]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(data, indent=1))
    except OSError as exc:  # a read-only cache only costs the next process a race
        log.info("auto: could not remember the decision (%s)", exc)


def _cheapest(decision: dict, expected_faces: int | None, rows: int) -> str:
    """The backend to build: the race's winner, or for a small job the least build-plus-run time."""
    best = decision["best"]
    if expected_faces is None:
        return best
    costs = {}
    for t in decision["trials"]:
        if t.get("seconds") is not None and t.get("build_s") is not None:
            costs[t["backend"]] = t["build_s"] + t["seconds"] * max(1.0, expected_faces / max(rows, 1))
    return min(costs, key=costs.get) if costs else best


def remembered_int8(cache_key: str, example: np.ndarray, calibration=None, expected_faces: int | None = None):
    """The onnx-int8 runner when this machine's remembered ``auto`` choice for the checkpoint is onnx-int8 and
    its file is cached, built without torch; else None (then the model is loaded and ``auto`` runs as usual).

    The file is named by the checkpoint's hash, the example's shape, the calibration, the export recipe
    and onnxruntime's version, so it is the file that passed the agreement guard when it was chosen.
    """
    from .onnx_int8 import cached_runner

    path = _decision_path(cache_key, example.shape)
    decision = _load_decision(path)
    if decision is None or _cheapest(decision, expected_faces, len(example)) != "onnx-int8":
        return None
    runner = cached_runner(cache_key, example, calibration)
    if runner is None:
        return None
    timed = {t["backend"]: t["seconds"] for t in decision["trials"] if t.get("seconds") is not None}
    times = ", ".join(f"{n} {v * 1e3:.1f} ms" for n, v in sorted(timed.items(), key=lambda kv: kv[1]))
    runner.reason = (f"auto: onnx-int8 is the fastest on this machine (measured {decision.get('measured', '?')}: "
                     f"{times}; remembered in {path.name}); its agreement with fp32 was checked when it was "
                     "chosen, and the file is the one checked, so PyTorch is not loaded")
    runner.trials = tuple(Trial(t["backend"], t.get("seconds"), t.get("note", ""), t.get("build_s"))
                          for t in decision["trials"])
    return runner


def choose_auto(model, example, cache_key, eager, reference, check, validated=None, calibration=None,
                expected_faces: int | None = None):
    """The fastest backend that passes the guard: remembered for this machine, else raced now.

    ``reference()`` gives fp32's logits of ``example`` (computed on first use). ``expected_faces``
    (a small job) trades a backend's build time against its speed; see the module docstring.
    """
    path = _decision_path(cache_key, example.shape) if cache_key is not None else None
    decision = _load_decision(path) if path is not None else None
    if decision is not None:
        name = _cheapest(decision, expected_faces, len(example))
        try:
            runner = eager if name == "eager" else checked(name, model, example, cache_key, reference(), check,
                                                           validated, calibration)
        except BackendUnavailable as exc:
            log.info("auto: the remembered choice %s no longer builds (%s); racing again", name, exc)
        else:
            timed = {t["backend"]: t["seconds"] for t in decision["trials"]
                     if t.get("seconds") is not None and t["seconds"] == t["seconds"]}   # raced (not NaN)
            times = ", ".join(f"{n} {v * 1e3:.1f} ms" for n, v in sorted(timed.items(), key=lambda kv: kv[1]))
            if len(timed) < 2:   # nothing else passed the guard, so nothing was raced
                others = "; ".join(f"{t['backend']}: {t.get('note', '')}" for t in decision["trials"]
                                   if t["backend"] != name and t.get("note"))
                runner.reason = (f"auto: {name} is the only backend that passed the guard on this machine (checked "
                                 f"{decision.get('measured', '?')}; remembered in {path.name})"
                                 + (f"; {others}" if others else ""))
            else:
                why = ("the fastest on this machine" if name == decision["best"]
                       else f"the quickest to build and run for about {expected_faces} faces")
                runner.reason = (f"auto: {name} is {why} (measured {decision.get('measured', '?')}: {times}; "
                                 f"remembered in {path.name})")
            if name != "eager" and check:
                runner.reason += f"; {runner.agreement.describe()}"
            runner.trials = tuple(Trial(t["backend"], t.get("seconds"), t.get("note", ""), t.get("build_s"))
                                  for t in decision["trials"])
            log.info("auto picked %s: %s", name, runner.reason)
            return runner
    best = race_backends(model, example, cache_key, eager, reference(), check, validated, calibration)
    if path is not None:
        _save_decision(path, best.name, list(best.trials), best.reason)
        if expected_faces is not None:
            name = _cheapest(_load_decision(path) or {"best": best.name, "trials": []}, expected_faces, len(example))
            if name == "eager" and best is not eager:
                eager.reason = f"auto: eager, the quickest to build and run for about {expected_faces} faces"
                eager.trials = best.trials
                return eager
    return best


def race_backends(model, example, cache_key, eager, reference, check, validated=None, calibration=None):
    """Time every available backend that passes the guard; return the fastest (its ``trials`` say how each did)."""
    available = available_backends()
    skipped: list[Trial] = []
    accepted = {"eager": eager}
    built = {"eager": 0.0}
    for name in AUTO_ORDER:
        ok, why = available[name]
        if not ok:
            skipped.append(Trial(name, None, f"{name} unavailable ({why})"))
            continue
        if name == "onnx-int8" and cache_key is None:
            skipped.append(Trial(name, None, f"{name} skipped (no cache key to keep the exported file under)"))
            continue
        started = time.perf_counter()
        try:
            accepted[name] = checked(name, model, example, cache_key, reference, check, validated, calibration)
            built[name] = time.perf_counter() - started
        except BackendUnavailable as exc:
            log.info("auto: %s", exc)  # shown with --verbose; the decision file keeps it too
            skipped.append(Trial(name, None, str(exc)))
    seconds = race(accepted, example) if len(accepted) > 1 else {"eager": float("nan")}
    trials = [Trial(name, seconds[name], runner.reason, built[name]) for name, runner in accepted.items()] + skipped
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
