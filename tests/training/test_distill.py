"""Distillation teachers and warm starts, on a real tiny checkpoint trained in the test."""

import json

import numpy as np
import pytest

from emotion.cli import main as cli_main
from emotion.errors import ModelLoadError, SettingsError
from emotion.labels import CANONICAL
from emotion.training.distill import Teacher
from emotion.training.model_def import ArchConfig, grey_state_from_checkpoint
from emotion.training.train import TrainConfig


def _grey_batch(n=4, side=32, seed=0):
    import torch

    return torch.from_numpy(np.random.default_rng(seed).uniform(-1, 1, (n, 1, side, side)).astype(np.float32))


def test_teacher_gives_the_checkpoints_own_probabilities(trained):
    """On a grey batch the teacher returns what the exported checkpoint itself says, in fp32."""
    import torch
    from transformers import AutoModelForImageClassification

    cfg, ckpt, _, _, _ = trained
    x = _grey_batch()
    got = Teacher.load([ckpt], CANONICAL)(x)
    ref = AutoModelForImageClassification.from_pretrained(ckpt).eval()
    with torch.no_grad():
        want = ref(pixel_values=x.repeat(1, 3, 1, 1)).logits.softmax(1)
    assert got.shape == (4, 8)
    torch.testing.assert_close(got.sum(1), torch.ones(4))
    assert (got - want).abs().max() < 0.03   # bf16 on CPUs that have it


def test_teacher_follows_the_students_label_order_and_side(trained):
    cfg, ckpt, _, _, _ = trained
    x = _grey_batch()
    plain = Teacher.load([ckpt], CANONICAL)(x)
    backwards = Teacher.load([ckpt], tuple(reversed(CANONICAL)))(x)
    assert np.allclose(backwards.numpy(), plain.numpy()[:, ::-1], atol=1e-6)
    # a student at another input side: the batch is resized to the teacher's side first
    import torch.nn.functional as F

    big = F.interpolate(x, size=(48, 48), mode="bilinear", align_corners=False)
    assert Teacher.load([ckpt], CANONICAL)(big).shape == (4, 8)


def test_two_teachers_are_averaged(trained):
    cfg, ckpt, _, _, _ = trained
    x = _grey_batch()
    one = Teacher.load([ckpt], CANONICAL)(x)
    two = Teacher.load([ckpt, ckpt], CANONICAL)(x)
    assert np.allclose(one.numpy(), two.numpy(), atol=1e-6)


def test_teacher_without_a_students_class_is_refused(trained, tmp_path):
    """A 7-class (FER2013-style) teacher cannot give targets for an 8-class student."""
    import shutil

    from safetensors.torch import load_file, save_file

    _, ckpt, _, _, _ = trained
    d = tmp_path / "t"
    shutil.copytree(ckpt, d)
    state = load_file(d / "model.safetensors")
    for k in ("classifier.1.weight", "classifier.1.bias"):
        state[k] = state[k][:7].contiguous()
    save_file(state, d / "model.safetensors", metadata={"format": "pt"})
    cfg = json.loads((d / "config.json").read_text())
    cfg["id2label"] = {str(i): l for i, l in enumerate(CANONICAL[:7])}
    cfg["label2id"] = {l: i for i, l in enumerate(CANONICAL[:7])}
    (d / "config.json").write_text(json.dumps(cfg))
    seven = Teacher.load([d], CANONICAL[:7])(_grey_batch())   # loads and serves a 7-class student
    assert seven.shape == (4, 7)
    with pytest.raises(ModelLoadError, match="has no class contempt"):
        Teacher.load([d], CANONICAL)


@pytest.mark.parametrize("change, match", [
    ({"image_mean": [0.485, 0.456, 0.406]}, "normalisation"),
    ({"size": {"height": 32, "width": 40}}, "square input size"),
])
def test_teacher_with_other_preprocessing_is_refused(trained, tmp_path, change, match):
    import shutil

    _, ckpt, _, _, _ = trained
    d = tmp_path / "t"
    shutil.copytree(ckpt, d)
    pre = json.loads((d / "preprocessor_config.json").read_text())
    (d / "preprocessor_config.json").write_text(json.dumps({**pre, **change}))
    with pytest.raises(ModelLoadError, match=match):
        Teacher.load([d], CANONICAL)


def test_teacher_that_is_not_a_checkpoint(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        Teacher.load([tmp_path], CANONICAL)


def test_init_state_is_the_trained_grey_model(trained):
    """grey_state_from_checkpoint undoes the RGB export: the same weights as the run's best.pt."""
    import torch

    cfg, ckpt, _, _, _ = trained
    state = grey_state_from_checkpoint(ckpt, cfg.arch)
    best = torch.load(ckpt.parent / "best.pt", weights_only=False)["model"]
    assert state.keys() == best.keys()
    for k in best:
        torch.testing.assert_close(state[k], best[k], rtol=1e-5, atol=1e-6)


def test_init_from_another_architecture_says_what_differs(trained):
    cfg, ckpt, _, _, _ = trained
    other = ArchConfig(side=32, widths=(8, 16, 32, 32), depths=(1, 1, 1, 1))
    with pytest.raises(ModelLoadError, match=r"does not fit widths \[8, 16, 32, 32\].*checkpoint \(16,"):
        grey_state_from_checkpoint(ckpt, other)


def test_distill_weight_is_checked():
    with pytest.raises(SettingsError, match="between 0 and 1"):
        TrainConfig(fer2013="x", ferplus=None, out="y", distill=1.5)


def test_train_command_with_init_and_teacher(trained, tmp_path, capsys):
    """A warm-started, distilled run through the CLI: it trains, and its summary says how it was made."""
    cfg, ckpt, _, fer, plus = trained
    out = tmp_path / "run"
    code = cli_main(["train", "--fer2013", str(fer), "--ferplus", str(plus), "--out", str(out), "--epochs", "1",
                     "--batch-size", "16", "--threads", "1", "--side", "32", "--widths", "8,16,16,16",
                     "--depths", "1,1,1,1", "--init", str(ckpt), "--teacher", str(ckpt), "--distill", "0.7",
                     "--lr", "0.01", "--cache-dir", cfg.cache_dir])
    assert code == 0
    assert "epoch   1" in capsys.readouterr().out
    summary = json.loads((out / "checkpoint" / "training_summary.json").read_text())
    assert summary["config"]["teachers"] == [str(ckpt)]
    assert summary["config"]["init"] == str(ckpt) and summary["config"]["distill"] == 0.7
    # the saved settings round-trip, so --resume can rebuild the same teacher
    again = TrainConfig.from_dict(json.loads((out / "config.json").read_text()))
    assert again.teachers == (str(ckpt),) and again.init == str(ckpt)


def test_distillation_changes_the_targets(trained, tmp_path):
    """Same seed, same start: with distill=1 the first epoch's loss differs from distill=0's."""
    from dataclasses import replace

    from emotion.training.train import train

    cfg, ckpt, _, _, _ = trained
    losses = {}
    for w in (0.0, 1.0):
        rows = []
        train(replace(cfg, out=str(tmp_path / f"w{w}"), epochs=1, init=str(ckpt), teachers=(str(ckpt),), distill=w,
                      lr=1e-6), progress=rows.append)
        losses[w] = rows[0].train_loss
    assert abs(losses[0.0] - losses[1.0]) > 1e-3


def test_resuming_a_finished_distilled_run_exports_without_its_teachers(trained, tmp_path):
    """A finished run's --resume only exports, so it does not need (or load) its teachers any more."""
    import shutil
    from dataclasses import replace

    from emotion.training.train import train

    cfg, ckpt, _, _, _ = trained
    teacher = tmp_path / "teacher"
    shutil.copytree(ckpt, teacher)
    run = tmp_path / "run"
    train(replace(cfg, out=str(run), epochs=1, teachers=(str(teacher),), lr=0.01))
    shutil.rmtree(teacher)
    rows = []
    again = train(replace(cfg, out=str(run)), resume=True, progress=rows.append, resume_epochs=1)
    assert rows == [] and (again / "model.safetensors").exists()
    with pytest.raises(ModelLoadError, match="no such directory"):
        train(replace(cfg, out=str(run)), resume=True, resume_epochs=2)   # more epochs need the teacher
