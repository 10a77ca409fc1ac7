"""The agreement guard: a backend other than fp32 must give fp32's answers.

Every faster backend (bf16, IPEX, ONNX int8) is checked at load on an example
batch, and against what the checkpoint recorded on real validation faces
(``backend_agreement.json``). See :class:`Agreement` for what counts as agreeing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BackendUnavailable

#: a non-fp32 backend must give fp32's top-1 class on at least this share of the example rows
MIN_AGREEMENT = 0.99
#: ... and no class probability may move by more than this (absolute, softmax of the logits)
MAX_PROB_DIFF = 0.05
#: fp32 probabilities this close count as a tie: a backend may pick either class (see :class:`Agreement`)
TIE_MARGIN = 0.02


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


def validated_rejection(name: str, validated: dict | None) -> str | None:
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


def recipe_mismatch(name: str, runner, validated: dict | None) -> str | None:
    """Why a recorded agreement does not apply to ``runner`` (int8 quantised with other ranges), or None."""
    rec = (validated or {}).get("backends", {}).get(name) or {}
    recorded, built = rec.get("calibration"), getattr(runner, "calibration", None)
    if recorded is None or built is None or recorded == built:
        return None
    return (f"{name}: rejected, its agreement on {validated.get('source', 'validation faces')} was recorded with "
            f"activation ranges from {recorded}, but this build has ranges from {built}; record it again with "
            "`python -m emotion evaluate --record-agreement`")
