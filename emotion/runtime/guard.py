"""The agreement guard: a backend other than fp32 must give fp32's answers.

Every faster backend (bf16, IPEX, ONNX int8) is checked at load on an example
batch, and against what the checkpoint recorded on real validation faces
(``backend_agreement.json``). See :class:`Agreement` for what counts as agreeing.

The rule judges what users see, not one face: top-1 agreement with fp32 (near-ties counted as agreeing)
of at least 99 %; the typical and the high-percentile change of a probability (mean and 99th percentile
over faces of each face's largest |Δp|) at most 0.01 and 0.05; and, where the checkpoint recorded it,
accuracy on its selection split within 0.3 points of fp32. The worst single face is reported but does
not decide alone (on a small example batch, fewer than 100 rows, the 99th percentile is the worst row).

Where the checkpoint recorded the backend's agreement on real faces for this very build (the same int8
activation ranges and weight recipe), those numbers are what users see, and they decide; the example
batch (8 synthetic images, whose activations lie outside the ranges real faces give) is then a smoke
test that the build runs and answers as fp32 does: the same top-1 on 99 % of its rows and no row moved
by more than :data:`SMOKE_PROB_DIFF`. Without such a record the example batch is held to the whole rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BackendUnavailable

#: a non-fp32 backend must give fp32's top-1 class on at least this share of the example rows
MIN_AGREEMENT = 0.99
#: ... the 99th percentile over faces of the largest |Δp| (softmax of the logits) may not pass this
MAX_PROB_DIFF = 0.05
#: ... nor the mean over faces of the largest |Δp|
MAX_MEAN_DIFF = 0.01
#: ... and the accuracy on the recorded split may drop by at most this (0.3 points)
MAX_ACCURACY_DROP = 0.003
#: rows below which the 99th percentile is the worst row
PERCENTILE_ROWS = 100
#: fp32 probabilities this close count as a tie: a backend may pick either class (see :class:`Agreement`)
TIE_MARGIN = 0.02
#: with a real-face record, the example batch only has to show no gross error: no row moved by more than this
SMOKE_PROB_DIFF = 0.10


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
    mean_prob_diff: float | None = None     # mean over rows of each row's largest |Δp|
    p99_prob_diff: float | None = None      # its 99th percentile
    accuracy_drop: float | None = None      # fp32's accuracy minus this backend's, where labels were known

    @property
    def tail(self) -> float:
        """The |Δp| the rule holds: the 99th percentile, or the worst row on a small batch or an old record."""
        if self.p99_prob_diff is None or self.rows < PERCENTILE_ROWS:
            return self.max_prob_diff
        return self.p99_prob_diff

    @property
    def ok(self) -> bool:
        return (self.top1_ties >= MIN_AGREEMENT and self.tail <= MAX_PROB_DIFF
                and (self.mean_prob_diff is None or self.mean_prob_diff <= MAX_MEAN_DIFF)
                and (self.accuracy_drop is None or self.accuracy_drop <= MAX_ACCURACY_DROP))

    @property
    def runs_as_fp32(self) -> bool:
        """The smoke test of a build whose agreement on real faces is recorded: fp32's top-1 and no gross error."""
        return self.top1_ties >= MIN_AGREEMENT and self.max_prob_diff <= SMOKE_PROB_DIFF

    def describe(self) -> str:
        spread = (f"|Δp| mean {self.mean_prob_diff:.4f}, p99 {self.p99_prob_diff:.3f}, worst face "
                  f"{self.max_prob_diff:.3f}" if self.p99_prob_diff is not None else f"max |Δp| {self.max_prob_diff:.3f}")
        accuracy = "" if self.accuracy_drop is None else f", accuracy {-self.accuracy_drop * 100:+.2f} points"
        return (f"agrees with fp32 on {self.top1_ties:.1%} of {self.rows} rows ({self.top1:.1%} strict top-1), "
                f"{spread}{accuracy}")

    def why_rejected(self) -> str:
        return (f"{self.describe()}; needs >= {MIN_AGREEMENT:.0%} (near-ties within {TIE_MARGIN} count as "
                f"agreeing), |Δp| p99 <= {MAX_PROB_DIFF} and mean <= {MAX_MEAN_DIFF}, accuracy within "
                f"{MAX_ACCURACY_DROP * 100:.1f} points")

    def why_not_smoke(self) -> str:
        return (f"{self.describe()}; even with its agreement on real faces recorded, the example batch needs "
                f">= {MIN_AGREEMENT:.0%} of fp32's top-1 and no row moved by more than {SMOKE_PROB_DIFF}")


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
    per_row = np.abs(p_ref - p_new).max(axis=1)
    return Agreement(float(same.mean()), float((same | tie).mean()), float(per_row.max()), rows,
                     float(per_row.mean()), float(np.percentile(per_row, 99)))


def recorded_agreement(key: str, validated: dict | None) -> Agreement | None:
    """The agreement recorded on real faces under ``key`` (a backend, or ``onnx-int8:reduce_range``), or None."""
    rec = (validated or {}).get("backends", {}).get(key)
    if not rec:
        return None
    optional = {k: float(rec[k]) for k in ("mean_prob_diff", "p99_prob_diff", "accuracy_drop") if rec.get(k) is not None}
    return Agreement(float(rec["top1"]), float(rec["top1_ties"]), float(rec["max_prob_diff"]), int(rec["rows"]),
                     **optional)


def validated_rejection(name: str, validated: dict | None) -> str | None:
    """Why ``name`` (a :func:`~emotion.runtime.int8_recipe.record_key`) fails on the checkpoint's recorded
    validation faces, or None.

    The example batch is synthetic; a checkpoint may ship ``backend_agreement.json`` with each
    backend's agreement with fp32 measured on real validation faces (see
    ``python -m emotion evaluate --record-agreement``). Those numbers are held to the same guard.
    """
    a = recorded_agreement(name, validated)
    if a is None or a.ok:
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
