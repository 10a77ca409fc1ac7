import numpy as np
import pytest

from emotion.errors import DataError
from emotion.training.metrics import classification_report, confusion_figure


@pytest.mark.parametrize("y_true, y_pred, acc, f1", [
    ([0, 1, 2, 2], [0, 1, 2, 2], 1.0, 1.0),
    ([0, 0, 1, 1], [1, 1, 0, 0], 0.0, 0.0),
    ([0, 0, 0, 1], [0, 0, 0, 0], 0.75, (6 / 7 + 0) / 2),
])
def test_accuracy_and_macro_f1(y_true, y_pred, acc, f1):
    r = classification_report(y_true, y_pred, ("a", "b", "c"))
    assert r.accuracy == pytest.approx(acc)
    assert r.macro_f1 == pytest.approx(f1)
    assert r.confusion.sum() == len(y_true)


def test_per_class_and_confusion_orientation():
    r = classification_report([0, 0, 1], [0, 1, 1], ("x", "y"))
    assert r.confusion.tolist() == [[1, 1], [0, 1]]      # rows true, columns predicted
    assert r.per_class["x"].recall == pytest.approx(0.5)
    assert r.per_class["y"].precision == pytest.approx(0.5)
    assert r.per_class["x"].support == 2
    d = r.to_dict()
    assert set(d) >= {"accuracy", "macro_f1", "n", "per_class"}
    assert "confusion" in r.table()
    fig = confusion_figure(r)
    assert np.allclose(np.asarray(fig.data[0].z).sum(1), 1.0)


@pytest.mark.parametrize("y_true, y_pred", [([], []), ([0, 1], [0]), ([0, 5], [0, 1])])
def test_bad_inputs(y_true, y_pred):
    with pytest.raises(DataError):
        classification_report(y_true, y_pred, ("a", "b"))
