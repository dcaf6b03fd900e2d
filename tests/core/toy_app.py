"""A tiny app built only from the core, to test the shared training and CLI machinery.

Task: predict the GC fraction of a DNA sequence, which is reverse-complement invariant.
The equivariant model ties its weights by evaluating one branch on both strands.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torchmetrics
from torch import nn
from torch.utils.data import TensorDataset

from gdl_science.blueprint import MLPHead
from gdl_science.cli import AppSpec
from gdl_science.io import (
    ErrorReport,
    Record,
    StreamingTableWriter,
    UserInputError,
    check_output_path,
    load_task,
    run_predictions,
)
from gdl_science.symmetry import ONE_HOT, ReverseComplementGroup, check_equivariance
from gdl_science.training import GDLDataModule, GDLTask, StepOutput, SymmetryMode

RC = ReverseComplementGroup()


def one_hot(seq: str) -> torch.Tensor:
    idx = torch.tensor(["ACGT".index(c) for c in seq])
    return nn.functional.one_hot(idx, 4).T.float()  # (4, L)


class ToyTask(GDLTask):
    def __init__(
        self,
        symmetry: SymmetryMode = "equivariant",
        width: int = 8,
        lr: float = 0.01,
        num_targets: int = 1,
        seconds_per_step: float = 0.0,
        optimizer: str = "adamw",
    ) -> None:
        super().__init__(symmetry=symmetry, lr=lr, scheduler="constant", optimizer=optimizer)
        self.save_hyperparameters()
        self.conv = nn.Conv1d(4, width, 3, padding=1)
        self.head = MLPHead(width, num_targets)
        self.transforms_applied = 0

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x).relu().mean(-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.symmetry == "equivariant":
            return 0.5 * (self.branch(x) + self.branch(RC.act_on_one_hot(1, x)))
        return self.branch(x)

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

    def check_symmetry(self, input_path=None, dtype=torch.float64):
        x = torch.stack([one_hot(s) for s in ["ACGTTGCA", "GGGAAACC"]]).to(dtype)
        return check_equivariance(self.to(dtype), RC, x, RC.action(ONE_HOT))


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
        self.train_set = TensorDataset(x[: self.n // 2], y[: self.n // 2])
        self.val_set = TensorDataset(x[self.n // 2 :], y[self.n // 2 :])

    def train_dataloader(self):
        return self.make_loader(self.train_set, shuffle=self.shuffle)

    def val_dataloader(self):
        return self.make_loader(self.val_set, shuffle=False)

    def test_dataloader(self):
        return self.make_loader(self.val_set, shuffle=False)


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
    task = load_task(ToyTask, args.checkpoint[0])
    errors = ErrorReport(out)
    with StreamingTableWriter(out, ["id", "gc_pred"]) as writer:
        summary = run_predictions(
            read_records(inp),
            lambda xs: task(torch.stack(xs)).squeeze(1).tolist(),
            lambda rec, y: writer.write_row({"id": rec.id, "gc_pred": y}, order=rec.index),
            batch_size=args.batch_size,
            errors=errors,
        )
    errors.write()
    return summary.exit_code


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
