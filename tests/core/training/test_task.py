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


def test_subclass_declares_only_its_own_arguments_and_the_base_saves_all():
    task = ToyTask(width=5, symmetry="augment", lr=0.2, warmup_steps=3)
    hp = dict(task.hparams)
    assert hp["width"] == 5 and hp["symmetry"] == "augment"
    assert hp["lr"] == 0.2 and hp["warmup_steps"] == 3 and hp["optimizer"] == "adamw"
    assert task.symmetry == "augment" and not task.equivariant
    assert isinstance(task.net, torch.nn.Module)


def test_check_symmetry_runs_on_a_copy_and_leaves_the_task_as_it_was():
    task = ToyTask(width=4).train()
    before = {k: v.clone() for k, v in task.state_dict().items()}
    report = task.check_symmetry(dtype=torch.float64)
    assert report.max_abs < 1e-12  # tied weights: exactly RC invariant in float64
    assert all(p.dtype == torch.float32 for p in task.parameters())
    assert task.training
    assert all(torch.equal(before[k], v) for k, v in task.state_dict().items())
    plain = ToyTask(width=4, symmetry="none").check_symmetry(dtype=torch.float64)
    assert plain.max_abs > 1e-6  # and the check does see an untied net


def test_rebuild_network_builds_a_fresh_net():
    task = ToyTask(width=4)
    old = task.net
    task.rebuild_network()
    assert task.net is not old and type(task.net) is type(old)
