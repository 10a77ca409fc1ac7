"""How a model is run fast on this CPU: eager fp32, bf16 (AMX / AVX-512), IPEX, ONNX int8.

``build_runner(model, example, backend="auto", cache_key=None) -> Runner``
    ``model`` is a transformers image-classification model (torch, eval mode),
    ``example`` a float32 numpy batch (N, C, H, W) used for warm-up, for the
    agreement check against fp32 and, for ``auto``, for timing. Returns a
    callable runner: ``runner.name`` (``eager``/``bf16``/``ipex``/``onnx-int8``),
    ``runner.reason`` (why this backend runs, for display) and
    ``runner(pixel_values float32 NCHW) -> float32 logits (N, L)``.

Every backend other than fp32 eager is checked on ``example`` at load: if its
top-1 class agrees with fp32 on fewer than :data:`MIN_AGREEMENT` of the rows
(a flip between classes fp32 rates within :data:`TIE_MARGIN` of each other
counts as agreeing), or any class probability differs by more than
:data:`MAX_PROB_DIFF`, it is rejected with a logged reason. An explicitly
requested backend that is unavailable or rejected raises
:class:`~emotion.errors.BackendUnavailable`; ``auto`` moves on to the next one
and keeps the reasons for display.

The PyTorch backends live in :mod:`emotion.runtime_torch`, the ONNX one in
:mod:`emotion.runtime_onnx`; :data:`BUILDERS` maps names to them.

>>> runner = build_runner(model, example, "auto", cache_key="3f2a...")   # doctest: +SKIP
>>> runner.name, runner.reason                                           # doctest: +SKIP
('onnx-int8', 'auto: onnx-int8 is the fastest on the example batch of 8 (onnx-int8 33.4 ms, eager 86.7 ms, ...')
>>> logits = runner(pixel_values)                                        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import runtime_torch
from .errors import BackendUnavailable
from .runtime_torch import (  # noqa: F401 - re-exported
    TorchRunner,
    bf16_support,
    cpu_flags,
    import_ipex,
    logits_module,
)

log = logging.getLogger(__name__)

BACKENDS = ("auto", "eager", "bf16", "ipex", "onnx-int8")

#: a non-fp32 backend must give fp32's top-1 class on at least this share of the example rows
MIN_AGREEMENT = 0.99
#: ... and no class probability may move by more than this (absolute, softmax of the logits)
MAX_PROB_DIFF = 0.05
#: fp32 probabilities this close count as a tie: a backend may pick either class (see :class:`Agreement`)
TIE_MARGIN = 0.02
#: ``auto`` races the candidates for about this long (at least one call each)
AUTO_TIME_BUDGET_S = 1.0


# ---------------------------------------------------------------- what this machine can do


def available_backends() -> dict[str, tuple[bool, str]]:
    """Each concrete backend -> (available on this machine, why or why not).

    "Available" means it can be built here; whether it is accurate enough for a
    given model is decided at load by the agreement check.

    >>> available_backends()["eager"]
    (True, 'fp32 PyTorch, always available')
    """
    out: dict[str, tuple[bool, str]] = {"eager": (True, "fp32 PyTorch, always available")}
    ok, why = runtime_torch.bf16_support()
    out["bf16"] = (ok, f"bf16 weights + channels_last: {why}" if ok else why)
    ipex, why = runtime_torch.import_ipex()
    out["ipex"] = (True, f"intel_extension_for_pytorch {ipex.__version__}") if ipex is not None else (False, why)
    from .runtime_onnx import onnx_available

    out["onnx-int8"] = onnx_available()
    return out


# ---------------------------------------------------------------- backends


def _build_onnx_int8(model, example, cache_key, calibration=None):
    from .runtime_onnx import build_onnx_int8

    return build_onnx_int8(model, example, cache_key, calibration)


#: backend name -> builder(model, example, cache_key, calibration=None) -> runner; raises BackendUnavailable.
#: ``calibration`` is the checkpoint's int8 activation ranges (or None); only onnx-int8 uses them.
BUILDERS: dict[str, Callable] = {
    "eager": runtime_torch.build_eager,
    "bf16": runtime_torch.build_bf16,
    "ipex": runtime_torch.build_ipex,
    "onnx-int8": _build_onnx_int8,
}

#: the order ``auto`` tries them in (all are timed; the order only breaks ties)
AUTO_ORDER = ("ipex", "bf16", "onnx-int8")


# ---------------------------------------------------------------- the agreement guard


@dataclass(frozen=True)
class Agreement:
    """How closely a backend's outputs follow fp32 on the same batch.

    ``top1`` is the plain share of rows with the same arg-max class.
    ``top1_ties`` also counts a row as agreeing when fp32 itself rates the two
    classes within :data:`TIE_MARGIN` of each other: a flip between near-tied
    classes is rounding noise, not a different answer (random-weight models
    and ambiguous faces are full of such ties). The guard uses ``top1_ties``
    and the probability difference; a backend that really changes answers
    fails both.
    """

    top1: float
    top1_ties: float
    max_prob_diff: float
    rows: int

    @property
    def ok(self) -> bool:
        return self.top1_ties >= MIN_AGREEMENT and self.max_prob_diff <= MAX_PROB_DIFF

    def describe(self) -> str:
        return (f"agrees with fp32 on {self.top1_ties:.1%} of {self.rows} rows ({self.top1:.1%} strict top-1), "
                f"max |Δp| {self.max_prob_diff:.3f}")

    def why_rejected(self) -> str:
        return (f"{self.describe()}; needs >= {MIN_AGREEMENT:.0%} (near-ties within {TIE_MARGIN} count as "
                f"agreeing) and max |Δp| <= {MAX_PROB_DIFF}")


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def compare(reference: np.ndarray, candidate: np.ndarray) -> Agreement:
    """Agreement of ``candidate`` logits with fp32 ``reference`` logits, both (N, L).

    >>> compare(np.array([[2.0, 0.0]]), np.array([[0.0, 2.0]])).ok
    False
    """
    reference = np.asarray(reference)
    candidate = np.asarray(candidate)
    if reference.shape != candidate.shape or reference.ndim != 2:
        raise BackendUnavailable(f"backend returned logits of shape {candidate.shape}, expected {reference.shape}")
    rows = len(reference)
    if rows == 0:
        return Agreement(1.0, 1.0, 0.0, 0)
    if not np.all(np.isfinite(candidate)):
        return Agreement(0.0, 0.0, float("inf"), rows)
    p_ref, p_new = softmax(reference), softmax(candidate)
    want, got = p_ref.argmax(1), p_new.argmax(1)
    same = want == got
    index = np.arange(rows)
    tie = p_ref[index, want] - p_ref[index, got] <= TIE_MARGIN
    return Agreement(float(same.mean()), float((same | tie).mean()), float(np.abs(p_ref - p_new).max()), rows)


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class Trial:
    """What ``auto`` found out about one backend at load (kept on the runner as ``runner.trials``)."""

    backend: str
    seconds: float | None       # best time for one call on the example batch; None when not raced
    note: str                   # why it was skipped or rejected, or its agreement


def _race(runners: dict, example: np.ndarray, budget_s: float = AUTO_TIME_BUDGET_S,
          max_rounds: int = 20) -> dict[str, float]:
    """Best wall time of one call on ``example`` for each runner (all already warm).

    The runners take turns, round after round, so a burst of load from other
    processes slows all of them alike; the minimum over rounds is the estimate
    least disturbed by such bursts. At least one round, then more while the
    time budget lasts (a ViT-base at fp32 gets one round; a small ResNet ~20).
    """
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


def _validated_rejection(name: str, validated: dict | None) -> str | None:
    """Why ``name`` fails on the checkpoint's recorded validation faces, or None.

    The example batch is synthetic; a checkpoint may ship ``backend_agreement.json`` with each
    backend's agreement with fp32 measured on real validation faces (see
    ``python -m emotion evaluate --record-agreement``). Those numbers are held to the same guard.
    """
    rec = (validated or {}).get("backends", {}).get(name)
    if not rec:
        return None
    a = Agreement(float(rec["top1"]), float(rec["top1_ties"]), float(rec["max_prob_diff"]), int(rec["rows"]))
    if a.ok:
        return None
    return f"{name}: rejected, differs from fp32 on {validated.get('source', 'validation faces')}: {a.why_rejected()}"


def _recipe_mismatch(name: str, runner, validated: dict | None) -> str | None:
    """Why a recorded agreement does not apply to ``runner`` (int8 quantised with other ranges), or None."""
    rec = (validated or {}).get("backends", {}).get(name) or {}
    recorded, built = rec.get("calibration"), getattr(runner, "calibration", None)
    if recorded is None or built is None or recorded == built:
        return None
    return (f"{name}: rejected, its agreement on {validated.get('source', 'validation faces')} was recorded with "
            f"activation ranges from {recorded}, but this build has ranges from {built}; record it again with "
            "`python -m emotion evaluate --record-agreement`")


def _checked(name: str, model, example, cache_key, reference, check: bool, validated: dict | None = None,
             calibration=None):
    """Build backend ``name`` and hold it to fp32 on ``example``; raises BackendUnavailable."""
    if check and (why := _validated_rejection(name, validated)):
        raise BackendUnavailable(why)
    runner = BUILDERS[name](model, example, cache_key, calibration=calibration)
    if check and (why := _recipe_mismatch(name, runner, validated)):
        raise BackendUnavailable(why)
    try:
        got = runner(example)  # also the warm-up
    except (RuntimeError, ValueError, TypeError) as exc:
        raise BackendUnavailable(f"{name}: failed on the example batch: {type(exc).__name__}: {exc}") from exc
    agreement = compare(reference, got)
    runner.agreement = agreement
    if not check:
        return runner
    if not agreement.ok:
        raise BackendUnavailable(f"{name}: rejected, differs from fp32: {agreement.why_rejected()}")
    runner.reason = f"{runner.reason}; {agreement.describe()}"
    return runner


def example_for(model, rows: int = 8) -> np.ndarray:
    """A fixed pseudo-random batch shaped for ``model`` (from its config), for when none is given."""
    config = model.config
    size = getattr(config, "image_size", None)
    if size is None:
        raise BackendUnavailable("no example batch given and the model config has no image_size; "
                                 "pass an example batch of preprocessed images")
    h, w = (size, size) if isinstance(size, int) else tuple(size)[:2]
    rng = np.random.default_rng(0)
    return rng.standard_normal((rows, int(getattr(config, "num_channels", 3)), h, w)).astype(np.float32)


def build_runner(model, example: np.ndarray | None = None, backend: str = "auto", cache_key: str | None = None,
                 *, check: bool = True, validated: dict | None = None, calibration=None):
    """A runner for ``model`` on ``backend`` (see the module docstring).

    ``cache_key`` names the checkpoint (its hash): the ONNX int8 file is cached
    under it, and ``auto`` only tries ONNX when it is given (exporting on every
    load would cost seconds). ``check=False`` skips the agreement guard (the
    benchmark uses it to measure rejected backends too). ``validated`` is a checkpoint's recorded
    agreement on real faces (``backend_agreement.json``); a backend that fails it there is rejected.
    ``calibration`` (:class:`~emotion.runtime_onnx.Calibration`, ``int8_calibration.json``) gives
    onnx-int8 activation ranges measured on real faces instead of the example batch's.
    """
    if backend not in BACKENDS:
        raise BackendUnavailable(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    model.eval()
    if example is None:
        if backend == "eager":
            return BUILDERS["eager"](model, None, cache_key)
        example = example_for(model)
        log.info("no example batch given; validating on a pseudo-random batch %s", example.shape)
    example = np.ascontiguousarray(example, dtype=np.float32)
    if example.ndim != 4 or len(example) == 0:
        raise BackendUnavailable(f"example batch must be float32 (N, C, H, W) with N >= 1, got shape {example.shape}")
    eager = BUILDERS["eager"](model, example, cache_key)
    reference = eager(example)  # also the warm-up
    if backend == "eager":
        return eager
    if backend != "auto":
        try:
            runner = _checked(backend, model, example, cache_key, reference, check, validated, calibration)
        except BackendUnavailable as exc:
            raise BackendUnavailable(f"{exc}. Use backend 'auto' (picks one that works) or 'eager'") from exc
        log.info("backend %s: %s", runner.name, runner.reason)
        return runner
    return _auto(model, example, cache_key, eager, reference, check, validated, calibration)


def _auto(model, example, cache_key, eager, reference, check, validated=None, calibration=None):
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
            accepted[name] = _checked(name, model, example, cache_key, reference, check, validated, calibration)
        except BackendUnavailable as exc:
            log.warning("auto: %s", exc)
            skipped.append(Trial(name, None, str(exc)))
    seconds = _race(accepted, example) if len(accepted) > 1 else {"eager": float("nan")}
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
