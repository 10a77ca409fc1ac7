"""The room degradation, the robustness metric and the room augmentation (issue: faces in a dark room)."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.training.robustness import room_degrade, robustness


def _faces(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)


@pytest.mark.parametrize("size", [45, 32, 24])
def test_room_degrade_shrinks_dims_and_adds_repeatable_noise(size):
    faces = np.full((3, 48, 48), 200, np.uint8)
    small = room_degrade(faces, size, dim=0.5, noise=4.0, seed=1)
    assert small.shape == (3, size, size) and small.dtype == np.uint8
    assert abs(float(small.mean()) - 100.0) < 2.0, "dimmed to half the light"
    assert 2.5 < float(small.astype(float).std()) < 5.5, "sensor noise of about 4 grey levels"
    assert np.array_equal(small, room_degrade(faces, size, dim=0.5, noise=4.0, seed=1))


def test_room_degrade_refuses_colour_and_silly_sizes():
    with pytest.raises(ValueError, match="grey faces"):
        room_degrade(np.zeros((2, 48, 48, 3), np.uint8), 32)
    with pytest.raises(ValueError, match="face_px"):
        room_degrade(np.zeros((2, 48, 48), np.uint8), 2)


def test_robustness_compares_the_room_reading_with_the_clean_one():
    faces = _faces()

    def brightness_model(batch):        # "happy" for bright faces, "sad" for dark ones
        mean = np.array([f.mean() for f in batch])
        return np.stack([mean > 100, mean <= 100], 1).astype(float)

    r = robustness(brightness_model, faces, sizes=(45, 32), dim=1.0, noise=0.0)
    assert r.kept == {45: 1.0, 32: 1.0} and r.faces == 6
    dark = robustness(brightness_model, np.full((4, 48, 48), 150, np.uint8), sizes=(45,), dim=0.5, noise=0.0)
    assert dark.kept == {45: 0.0}, "dimming flips every reading of this model"
    assert "45 px" in dark.describe()


def test_room_augmentation_changes_only_the_chosen_share_and_stays_in_range():
    import torch

    from emotion.training.augment import AugmentConfig, room

    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 1, 80, 80) * 2 - 1
    out = room(x, AugmentConfig(room_p=0.5), g)
    changed = (out - x).abs().flatten(1).amax(1) > 1e-6
    assert 16 < int(changed.sum()) < 48 and out.shape == x.shape
    assert float(out.min()) >= -1.0 - 1e-6 and float(out.max()) <= 1.0 + 1e-6
    assert torch.equal(room(x, AugmentConfig(room_p=0.0), g), x)
    dim = room(torch.ones(8, 1, 80, 80), AugmentConfig(room_p=1.0, room_dim=(0.5, 0.5), room_noise=(0, 0),
                                                       room_gamma=(1, 1), room_blur_p=0.0), g)
    assert float(dim.mean()) == pytest.approx(0.0, abs=0.02), "half the light: 0.5 in [0,1] is 0 normalised"


def test_a_size_routed_pair_reads_the_small_faces_with_the_second_model_and_scores_them_against_the_labels():
    faces = np.full((4, 48, 48), 150, np.uint8)

    def close_up(batch):            # bright -> class 0
        mean = np.array([f.mean() for f in batch])
        return np.stack([mean > 100, mean <= 100], 1).astype(float)

    def back_row(batch):            # knows that a dim room halves the light
        mean = np.array([f.mean() for f in batch])
        return np.stack([mean > 50, mean <= 50], 1).astype(float)

    alone = robustness(close_up, faces, sizes=(45,), dim=0.5, noise=0.0, truth=np.zeros(4, int))
    assert alone.kept == {45: 0.0} and alone.accuracy == {45: 0.0} and alone.small_model == ""
    pair = robustness(close_up, faces, sizes=(45,), dim=0.5, noise=0.0, small_predict=back_row,
                      small_model="room", truth=np.array([0, 0, 1, -1]))
    assert pair.kept == {45: 1.0}, "the close-up reading (class 0) is kept by the back-row model"
    assert pair.accuracy == {45: 0.5}, "two of four labels are class 0 (-1: no label counts as wrong)"
    assert pair.to_dict()["small_model"] == "room" and "read by room" in pair.describe()
