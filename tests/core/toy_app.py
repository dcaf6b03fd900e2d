"""A tiny app built only from the core, to test the shared training and CLI machinery.

Task: predict the GC fraction of a DNA sequence, which is reverse-complement invariant.
The equivariant model ties its weights by evaluating one branch on both strands.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import torch
import torchmetrics
from torch import nn
from torch.utils.data import TensorDataset

from gdl_science.blueprint import MLPHead
from gdl_science.cli import AppSpec
from gdl_science.io import (
    Record,
    TablePrediction,
    UserInputError,
    check_output_path,
    ensemble_rows,
    load_ensemble,
    prediction_columns,
)
from gdl_science.symmetry import ONE_HOT, ReverseComplementGroup
from gdl_science.training import (
    GDLDataModule,
    GDLTask,
    SelectionMetric,
    StepOutput,
    SymmetryCheck,
)

RC = ReverseComplementGroup()


def one_hot(seq: str) -> torch.Tensor:
    idx = torch.tensor(["ACGT".index(c) for c in seq])
    return nn.functional.one_hot(idx, 4).T.float()  # (4, L)


class ToyTask(GDLTask):
    """Own arguments only; the seven shared ones arrive through ``**base_kwargs``."""

    def __init__(
        self,
        width: int = 8,
        num_targets: int = 1,
        seconds_per_step: float = 0.0,
        scramble_from_epoch: int = -1,
        **base_kwargs: Any,
    ) -> None:
        base_kwargs.setdefault("lr", 0.01)
        base_kwargs.setdefault("scheduler", "constant")
        super().__init__(**base_kwargs)
        self.transforms_applied = 0

    def build_network(self, equivariant: bool) -> nn.Module:
        return ToyNet(self.hparams.width, self.hparams.num_targets, equivariant)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def on_train_epoch_start(self) -> None:
        crash_if_asked(self.current_epoch, str(self.trainer.default_root_dir))
        # Test aid: from this epoch on, the weights are scrambled before training, so the
        # val metric gets worse and the best epoch is an earlier one than the last.
        if 0 <= self.hparams.scramble_from_epoch <= self.current_epoch:
            with torch.no_grad():
                for p in self.net.parameters():
                    p.add_(torch.randn_like(p) * 3.0)

    def step(self, batch):
        if self.training and self.hparams.seconds_per_step:
            time.sleep(self.hparams.seconds_per_step)  # lets tests kill a fit mid-epoch
        x, y = batch
        pred = self(x)
        return StepOutput(nn.functional.mse_loss(pred, y), pred, y, batch_size=len(x))

    def random_transform(self, batch, generator):
        self.transforms_applied += 1
        x, y = batch
        return RC.act_on_one_hot(RC.sample(generator), x), y

    def configure_metrics(self):
        return torchmetrics.MetricCollection({"mse": torchmetrics.MeanSquaredError()})

    def selection_metric(self) -> SelectionMetric:
        return SelectionMetric("val/mse", "min")

    def symmetry_check(self, input_path, dtype) -> SymmetryCheck:
        x = torch.stack([one_hot(s) for s in ["ACGTTGCA", "GGGAAACC"]]).to(dtype)
        return SymmetryCheck(self, RC, x, RC.action(ONE_HOT))


CRASH_ENV = "GDL_TOY_CRASH"


def crash_if_asked(epoch: int, root: str) -> None:
    """Test aid: ``GDL_TOY_CRASH=<epoch>:<marker file>[:<text in root>]`` kills the fit at
    the start of that epoch (after the previous epoch's last.ckpt was saved), once: the
    marker is created, so rerunning the same command resumes, as after a real kill."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    at, marker, *where = spec.split(":")
    if epoch == int(at) and not Path(marker).exists() and (not where or where[0] in root):
        Path(marker).touch()
        raise SystemExit(f"{CRASH_ENV}: killed at the start of epoch {epoch}")


class ToyNet(nn.Module):
    """Conv -> ReLU -> mean -> MLP; equivariant: the branch averaged over both strands."""

    def __init__(self, width: int, num_targets: int, equivariant: bool) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, width, 3, padding=1)
        self.head = MLPHead(width, num_targets)
        self.equivariant = equivariant

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x).relu().mean(-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.equivariant:
            return 0.5 * (self.branch(x) + self.branch(RC.act_on_one_hot(1, x)))
        return self.branch(x)


class ToyData(GDLDataModule):
    def __init__(
        self,
        path: str | None = None,
        n: int = 96,
        length: int = 16,
        batch_size: int = 16,
        seed: int = 0,
        shuffle: bool = True,
    ) -> None:
        super().__init__(path=path, batch_size=batch_size, seed=seed)
        self.save_hyperparameters()
        self.n, self.length, self.shuffle = n, length, shuffle
        self.num_targets = 1

    def setup(self, stage: str) -> None:
        if self.path is not None and not Path(self.path).is_file():
            raise UserInputError(f"{self.path}: no such file")
        g = torch.Generator().manual_seed(self.seed)
        idx = torch.randint(0, 4, (self.n, self.length), generator=g)
        x = nn.functional.one_hot(idx, 4).transpose(1, 2).float()
        y = ((idx == 1) | (idx == 2)).float().mean(1, keepdim=True)
        val = TensorDataset(x[self.n // 2 :], y[self.n // 2 :])
        self.datasets = {"train": TensorDataset(x[: self.n // 2], y[: self.n // 2]),
                         "val": val, "test": val}

    def train_dataloader(self):
        return self.make_loader(self.datasets["train"], shuffle=self.shuffle)


def read_records(path: Path):
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        seq = line.strip().upper()
        bad = sorted(set(seq) - set("ACGT"))
        if not seq:
            yield Record(f"line{line_no}", error=f"{path} line {line_no}: empty sequence")
        elif bad:
            yield Record(
                f"line{line_no}", error=f"{path} line {line_no}: unknown character {bad[0]!r}"
            )
        else:
            yield Record(f"line{line_no}", one_hot(seq))


def predict(args: argparse.Namespace) -> int:
    inp = Path(args.input)
    if not inp.is_file():
        raise UserInputError(f"{inp}: no such file")
    out = check_output_path(args.output, [inp])
    tasks = load_ensemble(ToyTask, args.checkpoint, torch.device("cpu"),
                          signature=lambda t: t.hparams.num_targets)
    names = ["gc"]

    @torch.no_grad()
    def predict_batch(xs):
        x = torch.stack(xs)
        return ensemble_rows(torch.stack([t(x) for t in tasks]), names)

    job = TablePrediction(
        app="gdl-toy",
        input=inp,
        output=out,
        columns=["id", *prediction_columns(names, len(tasks))],
        row_of=lambda record, row: {"id": record.id, **row},
    )
    return job.run(read_records(inp), predict_batch, batch_size=args.batch_size)


SPEC = AppSpec(
    name="toy",
    task_class=ToyTask,
    datamodule_class=ToyData,
    predict=predict,
    links=(("data.num_targets", "model.num_targets"),),
)


if __name__ == "__main__":  # `python -m tests.core.toy_app fit ...`, for multi-process tests
    import sys

    from gdl_science.cli import run_app

    sys.exit(run_app(SPEC))
