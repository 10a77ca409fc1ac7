"""Weight averaging of checkpoints (emotion.training.average, `python -m emotion average`)."""

import json

import pytest

torch = pytest.importorskip("torch")

from emotion.cli import main as cli_main
from emotion.errors import ModelLoadError, SettingsError
from emotion.training.average import arch_of_checkpoint, average_checkpoints, average_state
from emotion.training.model_def import ArchConfig, build_model, export_checkpoint, grey_state_from_checkpoint

TINY = ArchConfig(side=32, widths=(8, 16, 16, 16), depths=(1, 1, 1, 1))  # the `trained` fixture's (conftest.py)


def _shifted(ckpt, out, delta: float):
    """A copy of ``ckpt`` with ``delta`` added to every floating-point weight and statistic."""
    state = grey_state_from_checkpoint(ckpt, TINY)
    model = build_model(TINY, num_channels=1)
    model.load_state_dict({k: v + delta if v.is_floating_point() else v for k, v in state.items()})
    return export_checkpoint(model, TINY, out)


def test_arch_is_read_back_from_an_exported_checkpoint(trained):
    assert arch_of_checkpoint(trained[1]) == TINY


def test_weighted_average_of_every_tensor(trained, tmp_path):
    ckpt = trained[1]
    other = _shifted(ckpt, tmp_path / "b", 0.4)
    out = average_checkpoints([ckpt, other], tmp_path / "soup", weights=[3, 1], storage="float32")
    base = grey_state_from_checkpoint(ckpt, TINY)
    got = grey_state_from_checkpoint(out, TINY)
    for k, v in base.items():
        if v.is_floating_point():
            assert torch.allclose(got[k], v + 0.1, atol=1e-5), k  # 3/4 * v + 1/4 * (v + 0.4)
        else:
            assert torch.equal(got[k], v), k
    summary = json.loads((out / "training_summary.json").read_text())
    assert [p["weight"] for p in summary["averaged"]] == [0.75, 0.25]
    assert summary["averaged"][0]["summary"]["best_epoch"] >= 1  # the ingredients' own summaries are kept


def test_side_and_storage_of_the_result(trained, tmp_path):
    ckpt = trained[1]
    out = average_checkpoints([ckpt, ckpt], tmp_path / "soup", side=40)
    assert arch_of_checkpoint(out).side == 40
    from safetensors.torch import load_file

    assert all(v.dtype == torch.float16 for v in load_file(out / "model.safetensors").values()
               if v.is_floating_point())
    from transformers import pipeline

    from PIL import Image

    clf = pipeline("image-classification", model=str(out))
    assert len(clf(Image.new("RGB", (50, 60), (90, 90, 90)), top_k=8)) == 8


@pytest.mark.parametrize("weights, message", [([1], "2 checkpoints"), ([1, -1], "non-negative"),
                                              ([0, 0], "positive sum"), ([1, float("nan")], "non-negative")])
def test_bad_weights_are_refused(trained, weights, message):
    with pytest.raises(SettingsError, match=message):
        average_state([trained[1], trained[1]], weights)


def test_checkpoints_that_cannot_be_averaged(trained, tmp_path):
    ckpt = trained[1]
    with pytest.raises(SettingsError, match="at least two"):
        average_state([ckpt])
    wide = ArchConfig(side=32, widths=(8, 16, 16, 24), depths=(1, 1, 1, 1))
    other = export_checkpoint(build_model(wide, 1), wide, tmp_path / "wide")
    with pytest.raises(SettingsError, match=r"widths \[8, 16, 16, 24\].*cannot be averaged"):
        average_state([ckpt, other])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="not a checkpoint"):
        average_state([ckpt, tmp_path / "empty"])


def test_average_command_scores_publictest_and_writes_the_recipe(trained, tmp_path, capsys):
    _, ckpt, _, fer, plus = trained
    other = _shifted(ckpt, tmp_path / "b", 0.01)
    out = tmp_path / "soup"
    assert cli_main(["average", str(ckpt), str(other), "--out", str(out), "--fer2013", str(fer),
                     "--ferplus", str(plus)]) == 0
    printed = capsys.readouterr()
    assert "PublicTest accuracy" in printed.out and "averaged checkpoint written" in printed.err
    recipe = json.loads((out / "inference.json").read_text())
    assert set(recipe) == {"mirror", "temperature", "accuracy_plain", "accuracy_mirror", "source"}
    assert 0.05 <= recipe["temperature"] <= 20  # fitted on the same PublicTest faces, as training does
    assert cli_main(["average", str(ckpt), str(other), "--out", str(tmp_path / "x"), "--fer2013", str(fer)]) == 1
    assert "--fer2013 and --ferplus go together" in capsys.readouterr().err
    assert cli_main(["average", str(ckpt), str(other), "--out", str(tmp_path / "x"), "--weights", "1,a"]) == 1
    assert "comma-separated numbers" in capsys.readouterr().err
