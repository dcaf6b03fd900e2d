"""The task: masked loss, target scaling, augmentation, overfitting, save -> load round trip."""

from __future__ import annotations

import math

import pytest
import torch
from gdl_molprop.data.chem import PrepSettings, prepare_smiles
from gdl_molprop.data.featurize import molecule_graph
from gdl_molprop.datamodule import MolPropDataModule
from gdl_molprop.predict import predict_molecules
from gdl_molprop.task import MolPropTask

from gdl_science.graphs import GraphBatch
from gdl_science.io import load_task
from gdl_science.symmetry import tolerance

from .conftest import GOOD_ROWS


def _batch(targets):
    mols = [prepare_smiles(s, PrepSettings()) for _, s, _ in GOOD_ROWS[: len(targets)]]
    return GraphBatch.collate([molecule_graph(m, 0, "3d", 5.0, t) for m, t in zip(mols, targets)])


def test_missing_targets_are_masked():
    torch.manual_seed(0)
    task = MolPropTask(
        task_names=["a", "b"],
        target_mean=[1.0, -2.0],
        target_std=[2.0, 0.5],
        width=16,
        num_layers=1,
        dropout=0.0,  # train mode: equal losses need a deterministic forward
    )
    full = _batch([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    out = task.step(full)
    assert torch.isfinite(out.loss)
    # Changing a value that is then marked missing must not change the loss.
    gap_a = _batch([[1.0, math.nan], [3.0, -1.0], [0.5, 0.0]])
    gap_b = _batch([[1.0, math.nan], [3.0, -1.0], [0.5, 0.0]])
    gap_b.y[0, 1] = math.nan
    assert torch.isfinite(task.step(gap_a).loss)
    assert torch.equal(task.step(gap_a).loss, task.step(gap_b).loss)
    assert not torch.equal(task.step(gap_a).loss, out.loss)


def test_predictions_are_in_user_units():
    torch.manual_seed(0)
    task = MolPropTask(
        task_names=["y"], target_mean=[5.0], target_std=[3.0], width=16, num_layers=1
    ).eval()
    batch = _batch([[0.0]] * 3)
    torch.testing.assert_close(task.predict_values(batch), task(batch) * 3.0 + 5.0)
    clf = MolPropTask(task_names=["y"], task_type="classification", width=16, num_layers=1).eval()
    probs = clf.predict_values(batch)
    assert ((probs > 0) & (probs < 1)).all()


def test_augment_transform_moves_coordinates_and_atoms():
    task = MolPropTask(symmetry="augment", width=16, num_layers=1)
    batch = _batch([[0.0]] * 3)
    moved = task.random_transform(batch, torch.Generator().manual_seed(0))
    assert not torch.allclose(moved.pos, batch.pos)
    # Same molecules: the multiset of interatomic distances per molecule is unchanged.
    for g in range(3):
        a, b = batch.pos[batch.batch == g], moved.pos[moved.batch == g]
        da = torch.cdist(a.double(), a.double()).flatten().sort().values
        db = torch.cdist(b.double(), b.double()).flatten().sort().values
        torch.testing.assert_close(da, db, atol=1e-4, rtol=0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model overfitted on 12 real molecules, and its checkpoint."""
    from .conftest import write_csv

    root = tmp_path_factory.mktemp("overfit")
    # Train on everything: the split column marks every row train (val/test empty).
    rows = [(*row, "train") for row in GOOD_ROWS]
    path = write_csv(root / "mols.csv", rows, header=("id", "smiles", "logS", "split"))
    dm = MolPropDataModule(
        path=str(path), targets=["logS"], split="column", batch_size=12, prep_workers=1
    )
    task = MolPropTask(
        task_names=dm.task_names,
        target_mean=dm.target_mean,
        target_std=dm.target_std,
        prep=dm.prep_hparams,
        width=32,
        num_layers=2,
        head_hidden=32,
    )
    dm.setup("fit")
    # A plain loop (Lightning's per-epoch overhead would dominate 150 one-batch epochs).
    torch.manual_seed(0)
    batch = GraphBatch.collate([dm.datasets["train"][i] for i in range(len(dm.datasets["train"]))])
    opt = torch.optim.Adam(task.parameters(), lr=3e-3)
    task.train()
    for _ in range(150):
        opt.zero_grad()
        task.step(batch).loss.backward()
        opt.step()
    # The checkpoint layout load_task reads: weights + primitive hyperparameters.
    ckpt = root / "model.ckpt"
    torch.save({"state_dict": task.state_dict(), "hyper_parameters": dict(task.hparams)}, ckpt)
    return task.eval(), ckpt, dm


def test_overfits_a_tiny_set(trained):
    task, _, dm = trained
    batch = GraphBatch.collate([dm.datasets["train"][i] for i in range(len(dm.datasets["train"]))])
    with torch.no_grad():
        pred = task.predict_values(batch)
    rmse = (pred - batch.y).pow(2).mean().sqrt().item()
    assert rmse < 0.25, rmse  # target sd is about 1.5 log units


def test_checkpoint_round_trip_gives_same_predictions(trained):
    task, ckpt, _ = trained
    loaded = load_task(MolPropTask, ckpt)
    assert loaded.task_names == ["logS"] and loaded.prep_settings == task.prep_settings
    mols = [prepare_smiles(s, loaded.prep_settings) for s in ["CCO", "c1ccccc1Cl", "CCCCO"]]
    a = predict_molecules([task], mols)
    b = predict_molecules([loaded], mols)
    assert abs(a - b).max() == 0.0


def test_trained_model_check_symmetry(trained):
    task, _, _ = trained
    for dtype in (torch.float32, torch.float64):
        report = task.check_symmetry(None, dtype)
        report.assert_equivariant(tolerance(dtype))
    assert next(task.parameters()).dtype == torch.float32  # restored after the check
