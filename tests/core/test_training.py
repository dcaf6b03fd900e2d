"""The base task: training works, the symmetry switch works, checkpoints round-trip."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch

from gdl_science.io import load_task
from gdl_science.training import split_indices, validate_symmetry_mode
from tests.core.toy_app import ToyData, ToyTask


def fit(task: ToyTask, tmp_path, epochs: int = 8) -> pl.Trainer:
    trainer = pl.Trainer(
        max_epochs=epochs,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        enable_checkpointing=False,
    )
    trainer.fit(task, datamodule=ToyData())
    return trainer


def test_training_reduces_loss_and_logs_metrics_per_stage(tmp_path):
    torch.manual_seed(0)
    task = ToyTask(symmetry="equivariant")
    data = ToyData()
    data.setup("fit")
    x, y = data.datasets["val"].tensors
    before = torch.nn.functional.mse_loss(task(x), y).item()
    trainer = fit(task, tmp_path)
    after = torch.nn.functional.mse_loss(task.eval()(x), y).item()
    assert after < 0.5 * before
    assert {"train/loss_epoch", "val/loss", "val/mse", "train/mse"} <= set(trainer.callback_metrics)
    assert task.transforms_applied == 0  # augmentation only in 'augment' mode


def test_augment_mode_transforms_every_training_batch(tmp_path):
    task = ToyTask(symmetry="augment")
    fit(task, tmp_path, epochs=1)
    assert task.transforms_applied == 3  # 48 training sequences / batch 16


def test_symmetry_mode_is_validated():
    assert validate_symmetry_mode("none") == "none"
    with pytest.raises(ValueError, match="equivariant, augment, none"):
        ToyTask(symmetry="rotations")


def test_checkpoint_round_trip_gives_the_same_predictions(tmp_path):
    task = ToyTask(symmetry="none", width=5)
    trainer = fit(task, tmp_path, epochs=1)
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    loaded = load_task(ToyTask, path)
    assert loaded.hparams.width == 5 and loaded.symmetry == "none"
    x = torch.rand(3, 4, 16)
    torch.testing.assert_close(loaded(x), task.eval()(x))


def test_split_indices_is_seeded_disjoint_and_complete():
    a = split_indices(50, 0.2, 0.1, seed=3)
    assert a == split_indices(50, 0.2, 0.1, seed=3)
    assert a != split_indices(50, 0.2, 0.1, seed=4)
    train, val, test = a
    assert (len(train), len(val), len(test)) == (35, 10, 5)
    assert sorted(train + val + test) == list(range(50))
    assert all(len(s) == 1 for s in split_indices(3, 0.1, 0.1, seed=0)[1:])
