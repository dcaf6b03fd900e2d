"""The core predict skeleton: ensembles (mean and std columns) and their compatibility check."""

from __future__ import annotations

import torch

from gdl_science.cli import run_app
from gdl_science.io import ensemble_rows, prediction_columns
from tests.core.toy_app import SPEC, ToyTask


def save(task: ToyTask, path) -> str:
    import lightning.pytorch as pl

    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(task)
    trainer.save_checkpoint(path)
    return str(path)


def test_columns_and_rows_of_an_ensemble():
    assert prediction_columns(["a", "b"], 1) == ["a_pred", "b_pred"]
    assert prediction_columns(["a"], 3) == ["a_pred", "a_std"]
    values = torch.tensor([[[1.0], [2.0]], [[3.0], [2.0]]])  # (M=2, B=2, n=1)
    assert ensemble_rows(values, ["a"]) == [
        {"a_pred": 2.0, "a_std": 1.0},
        {"a_pred": 2.0, "a_std": 0.0},
    ]


def test_two_checkpoints_give_mean_and_std_and_mismatches_are_refused(tmp_path, capsys):
    torch.manual_seed(0)
    a, b = save(ToyTask(width=4), tmp_path / "a.ckpt"), save(ToyTask(width=4), tmp_path / "b.ckpt")
    inp = tmp_path / "seqs.txt"
    inp.write_text("ACGTAC\nGGXT\n")
    out = tmp_path / "p.tsv"
    args = ["predict", "--checkpoint", a, "--checkpoint", b, "--input", str(inp)]
    assert run_app(SPEC, [*args, "--output", str(out)]) == 0
    header, row = out.read_text().splitlines()
    assert header == "id\tgc_pred\tgc_std" and row.startswith("line1\t")
    assert float(row.split("\t")[2]) > 0  # two different models disagree
    err = capsys.readouterr().err
    assert "predicted 1 record(s) ->" in err and "1 bad record(s) skipped" in err
    other = save(ToyTask(width=4, num_targets=2), tmp_path / "c.ckpt")
    bad = ["predict", "--checkpoint", a, "--checkpoint", other, "--input", str(inp)]
    assert run_app(SPEC, [*bad, "--output", str(tmp_path / "q.tsv")]) == 2
    err = capsys.readouterr().err
    assert "c.ckpt: checkpoint predicts" in err and "ensemble only compatible models" in err
    assert not (tmp_path / "q.tsv").exists()
