"""Calibration: ECE and reliability on hand-computed cases, temperature fitting, the reliability diagram."""

import numpy as np
import pytest

from emotion.errors import DataError
from emotion.model import views_to_probabilities
from emotion.training.calibration import (BINS, expected_calibration_error, fit_temperature, reliability,
                                          reliability_figure)


def test_ece_by_hand():
    # top-1 confidences 0.95 (right), 0.9 (wrong), 0.55 (right), 0.52 (wrong); 15 bins of width 1/15,
    # one face in each of four bins:
    #   bin 14 (0.9333, 1]: 0.95 right -> |1 - 0.95| = 0.05;  bin 13 (0.8667, 0.9333]: 0.9 wrong -> 0.9
    #   bin 8 (0.5333, 0.6]: 0.55 right -> 0.45;   bin 7 (0.4667, 0.5333]: 0.52 wrong -> 0.52
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.45, 0.55], [0.52, 0.48]])
    truth = np.array([0, 1, 1, 1])
    r = reliability(probs, truth)
    assert r.ece == pytest.approx((0.05 + 0.9 + 0.45 + 0.52) / 4)
    assert r.counts.tolist() == [0] * 7 + [1, 1, 0, 0, 0, 0, 1, 1] and r.n == 4 and len(r.edges) == BINS + 1
    assert r.accuracy[14] == 1 and r.accuracy[13] == 0 and np.isnan(r.accuracy[0])


def test_ece_pools_faces_of_one_bin():
    # both in the top bin, one right (0.97) and one wrong (0.96875): |0.5 - mean confidence|, not the
    # mean of the per-face gaps (0.5)
    probs = np.array([[0.97, 0.03], [0.03125, 0.96875]])
    assert expected_calibration_error(probs, np.array([0, 0])) == pytest.approx(abs(0.5 - (0.97 + 0.96875) / 2))
    # a confidence exactly on an edge goes to the lower bin: 0.6 = 9/15 -> bin 8
    assert reliability(np.array([[0.6, 0.4]]), np.array([0])).counts[8] == 1


def test_perfect_and_worst_calibration():
    assert expected_calibration_error(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])) == 0.0
    assert expected_calibration_error(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1, 0])) == 1.0


def test_bad_inputs_are_refused():
    with pytest.raises(DataError, match="nothing to calibrate"):
        reliability(np.zeros((0, 3)), np.zeros(0, int))
    with pytest.raises(DataError, match=r"\(N, L\)"):
        reliability(np.ones((3, 2)) / 2, np.zeros(2, int))
    with pytest.raises(DataError, match="class indices"):
        fit_temperature(np.zeros((2, 3)), np.array([0, 3]))


@pytest.mark.parametrize("true_t", [0.5, 2.0])
def test_fit_temperature_recovers_the_temperature_labels_were_drawn_with(true_t):
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, (20000, 5))
    p = views_to_probabilities(logits[None], true_t)
    truth = (rng.random(len(p))[:, None] > np.cumsum(p, 1)).sum(1)
    fitted = fit_temperature(logits, truth)
    assert fitted == pytest.approx(true_t, rel=0.06)
    # and it calibrates: the ECE after is small and below the ECE at T = 1
    after = expected_calibration_error(views_to_probabilities(logits[None], fitted), truth)
    assert after < 0.02 < expected_calibration_error(views_to_probabilities(logits[None]), truth)


def test_fit_temperature_with_mirror_views_minimises_their_nll():
    rng = np.random.default_rng(2)
    views = rng.normal(0, 2, (2, 500, 4))
    truth = views.mean(0).argmax(1)  # over-confident labels: a low temperature fits
    t = fit_temperature(views, truth)

    def nll(temp):
        p = views_to_probabilities(views, temp)
        return -np.mean(np.log(p[np.arange(len(truth)), truth]))

    assert t < 1 and nll(t) <= min(nll(t * 0.9), nll(t * 1.1), nll(1.0))


def test_reliability_figure_is_offline_html(tmp_path):
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    truth = np.array([0, 1, 1])
    fig = reliability_figure({"uncalibrated": reliability(probs, truth)}, "tiny")
    assert [t.name for t in fig.data] == ["perfectly calibrated", "uncalibrated (ECE 0.300)"]
    out = tmp_path / "r.html"
    fig.write_html(out, include_plotlyjs=True)
    text = out.read_text()
    assert "<script src=\"http" not in text and "Plotly" in text
