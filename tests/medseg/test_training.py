"""Training: overfitting a tiny set, augment mode, save -> load -> same predictions, configs."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from gdl_medseg.cli import SPEC
from gdl_medseg.data.phantoms import PhantomConfig, write_dataset
from gdl_medseg.datamodule import MedSegDataModule
from gdl_medseg.task import MedSegTask

from gdl_science.cli import run_app
from gdl_science.io import load_task
from gdl_science.symmetry import OctahedralGroup, rotate_grid

REPO = Path(__file__).resolve().parents[2]


def _trainer(tmp_path: Path, **kw) -> pl.Trainer:
    defaults = dict(
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=tmp_path,
    )
    return pl.Trainer(**{**defaults, **kw})


def test_overfits_a_tiny_set(tmp_path):
    """Two fixed foreground patches of 32^3 phantoms, 60 Adam steps: Dice on them gets high."""
    root = write_dataset(tmp_path / "ds", PhantomConfig(cases=2, size=32))
    torch.manual_seed(0)
    dm = MedSegDataModule(
        str(root), patch_size=13, foreground_fraction=1.0, cache_dir=str(tmp_path / "cache")
    )
    dm.prepare_data()
    dm.setup("fit")
    patches = dm._patches("train", 2, train=False)
    patches.centred = False
    batch = tuple(torch.stack(t) for t in zip(patches[0], patches[1]))
    task = MedSegTask(
        1, 4, group="octahedral", channels=[48, 48], convs_per_level=1, lr=0.05,
        scheduler="constant", deep_supervision=False,
    )
    opt = task.configure_optimizers()
    task.train()
    for _ in range(60):
        out = task.step(batch)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    fg = out.target > 0
    dice = 2 * ((out.preds == out.target) & fg).sum() / ((out.preds > 0).sum() + fg.sum())
    assert out.loss < 0.3 and dice > 0.9, (float(out.loss), float(dice))


def test_augment_transforms_image_and_label_together():
    task = MedSegTask(1, 4, group="octahedral", channels=[4], convs_per_level=1, symmetry="augment")
    image = torch.randn(3, 1, 5, 5, 5)
    label = (image[:, 0] > 0).long()
    rot_image, rot_label = task.random_transform((image, label), torch.Generator().manual_seed(0))
    assert torch.equal(rot_label, (rot_image[:, 0] > 0).long())
    assert not torch.equal(rot_image, image)
    task.hparams.group = "inplane"
    task.hparams.target_spacing = [1.0, 1.0, 4.0]
    inplane = task.group().elements
    assert len(inplane) == 4 and all(int(r[2, 2]) == 1 for r in inplane)
    task.hparams.group = "mirror"
    assert [r.diagonal().tolist() for r in task.group().elements] == [[1, 1, 1], [-1, 1, 1]]


def test_fit_save_load_same_predictions(phantom_dataset, tmp_path):
    dm = MedSegDataModule(
        str(phantom_dataset),
        patch_size=9,
        samples_per_epoch=2,
        val_samples=2,
        cache_dir=str(tmp_path / "cache"),
    )
    task = MedSegTask(
        1, 4, dm.label_names, group="octahedral", channels=[24, 24], convs_per_level=1,
        patch_size=9,
    )
    trainer = _trainer(tmp_path, max_epochs=1, limit_val_batches=1)
    trainer.fit(task, dm)
    assert task.hparams.target_spacing == [1.0, 1.0, 1.0]  # the plan came from the data
    assert task.hparams.channels == [24, 24] and task.hparams.group == "octahedral"  # given
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    loaded = load_task(MedSegTask, path)
    assert loaded.plan_hparams == task.plan_hparams
    x = torch.randn(1, 1, 9, 9, 9)
    task.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), task(x), atol=1e-6, rtol=1e-6)
    # The loaded network is still exactly equivariant.
    report = loaded.check_symmetry(None, torch.float64)
    assert report.max_abs < 1e-10 and len(report.per_element) == 24  # escnn + export each


@pytest.mark.parametrize("symmetry", ["none", "augment"])
def test_plain_modes_train_and_are_not_equivariant(phantom_dataset, tmp_path, symmetry):
    dm = MedSegDataModule(
        str(phantom_dataset),
        patch_size=17,
        samples_per_epoch=2,
        val_samples=2,
        cache_dir=str(tmp_path / "cache"),
    )
    task = MedSegTask(
        1,
        4,
        dm.label_names,
        group="octahedral",
        channels=[24, 24],
        convs_per_level=1,
        symmetry=symmetry,
        plain_channels="matched",
    )
    _trainer(tmp_path, max_epochs=1, limit_val_batches=1).fit(task, dm)
    assert sum(p.numel() for p in task.parameters()) < 5000  # matched, not 24x wider
    assert task.check_symmetry(None, torch.float64).max_abs > 1e-4


def test_bad_patch_size_is_a_usage_error(phantom_dataset, tmp_path, capsys):
    code = run_app(
        SPEC,
        [
            "fit",
            "--config",
            "configs/medseg/small.yaml",
            "--data.path",
            str(phantom_dataset),
            "--data.patch_size",
            "19",
            "--model.channels",
            "[24, 24, 24]",
            "--data.cache_dir",
            str(tmp_path / "c"),
            "--trainer.default_root_dir",
            str(tmp_path),
        ],
    )
    assert code == 2
    assert "use 21" in capsys.readouterr().err


def test_rotating_a_volume_rotates_the_prediction(phantom_dataset, tmp_path):
    """The sliding-window predictor on a valid-size cube: rotate in, rotated out."""
    from gdl_medseg.layers.sliding_window import sliding_window

    task = MedSegTask(1, 4, group="octahedral", channels=[24, 24], convs_per_level=1).eval()
    net = task.net.export()
    image = np.random.default_rng(0).normal(size=(1, 25, 25, 25)).astype(np.float32)
    probs = sliding_window([net], image, 17, 4, overlap=0.5)
    for r in OctahedralGroup().elements[::5]:
        rotated = rotate_grid(r, torch.from_numpy(image)).numpy()
        expected = rotate_grid(r, torch.from_numpy(probs)).numpy()
        np.testing.assert_allclose(sliding_window([net], rotated, 17, 4), expected, atol=1e-5)


def test_anisotropic_data_trains_an_inplane_network(tmp_path):
    """1x1x4 mm phantoms: the plan picks in-plane rotations and the task rebuilds its
    network as C4-equivariant about the through-plane axis; the checkpoint reloads it."""
    root = write_dataset(tmp_path / "aniso", PhantomConfig(cases=3, size=24, anisotropic=True))
    dm = MedSegDataModule(
        str(root),
        patch_size=13,
        samples_per_epoch=2,
        val_samples=2,
        cache_dir=str(tmp_path / "cache"),
    )
    task = MedSegTask(1, 4, dm.label_names, channels=[8, 8], convs_per_level=1)
    assert task.group_name == "mirror"  # before the plan
    trainer = _trainer(tmp_path, max_epochs=1, limit_val_batches=1)
    trainer.fit(task, dm)
    assert task.hparams.rotations == "inplane" and task.net.group == "inplane"
    assert task.axis == 2
    report = task.check_symmetry(None, torch.float64)
    assert report.group == "C4(axis 2)"
    assert len(report.per_element) == 4 and report.max_abs < 1e-10  # escnn + export each
    trainer.save_checkpoint(tmp_path / "a.ckpt")
    loaded = load_task(MedSegTask, tmp_path / "a.ckpt")
    assert loaded.net.group == "inplane"
    x = torch.randn(1, 1, 13, 13, 13)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), task.eval()(x), atol=1e-6, rtol=1e-6)
