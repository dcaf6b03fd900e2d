"""The predict skeleton every app's ``predict`` command is built from.

An app supplies three things: the records (a lazy iterator of ``Record``), how a batch
of payloads becomes values (``(M, B, n)``: one slice per checkpoint), and its output row
per record. The core owns the rest: loading the ensemble with its compatibility check,
the ``<name>_pred`` / ``<name>_std`` columns, the streaming writer, ``errors.tsv``, the
summary on stderr and the exit code (0: every valid record predicted; 2: none could be).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from gdl_science.io.checkpoint import load_task
from gdl_science.io.ensemble_manifest import expand_checkpoints
from gdl_science.io.errors import ErrorReport
from gdl_science.io.predict_loop import Record, run_predictions
from gdl_science.io.table_writer import StreamingTableWriter
from gdl_science.io.user_error import UserInputError

T = TypeVar("T")


def load_ensemble(
    task_class: type[T],
    paths: Sequence[str],
    device: torch.device,
    signature: Callable[[T], Hashable],
    describe: Callable[[T], str] = lambda task: "a different setup",
) -> list[T]:
    """Load checkpoints in eval mode on ``device``; all must share ``signature(task)``.

    ``signature`` is what must agree for predictions to be averaged (targets, window,
    preparation, ...); a mismatch is a user error naming both files. An ``ensemble.json``
    written by ``fit --ensemble_size N`` (or its folder) stands for its N members.
    """
    paths = expand_checkpoints(paths)
    if not paths:
        raise UserInputError("predict needs at least one --checkpoint")
    tasks = [load_task(task_class, p) for p in paths]
    reference = signature(tasks[0])
    for path, task in zip(paths[1:], tasks[1:]):
        if signature(task) != reference:
            raise UserInputError(
                f"{path}: checkpoint predicts {describe(task)}, unlike {paths[0]} "
                f"({describe(tasks[0])}); ensemble only compatible models"
            )
    return [t.to(device).eval() for t in tasks]  # type: ignore[attr-defined]


def prediction_columns(names: Sequence[str], n_models: int) -> list[str]:
    """``<name>_pred`` per output, then ``<name>_std`` per output for an ensemble."""
    columns = [f"{n}_pred" for n in names]
    if n_models > 1:
        columns += [f"{n}_std" for n in names]
    return columns


def ensemble_rows(values: torch.Tensor, names: Sequence[str]) -> list[dict[str, float]]:
    """(M, B, n) values of M checkpoints -> B rows of means (and stds when M > 1)."""
    values = values.detach().double().cpu()
    mean = values.mean(0)
    std = values.std(0, unbiased=False)
    rows = []
    for i in range(values.shape[1]):
        row = {f"{n}_pred": float(mean[i, j]) for j, n in enumerate(names)}
        if values.shape[0] > 1:
            row.update({f"{n}_std": float(std[i, j]) for j, n in enumerate(names)})
        rows.append(row)
    return rows


@dataclass
class TablePrediction:
    """One ``predict`` run that writes a table (dna, molprop).

    Attributes:
        app: the program name for messages (``gdl-dna``).
        input: the input path (named in messages).
        output: the output table (written atomically; ``<output>.errors.tsv`` beside it).
        columns: every output column, in order.
        row_of: (record, result of predict_batch) -> the output row.
        row_of_error: (record) -> a row for a bad record, when bad records keep a row
            (molprop keeps every input row with a status); None drops them.
        noun: what a record is, for the summary line (``sequence``, ``molecule``).
    """

    app: str
    input: str | Path
    output: Path
    columns: Sequence[str]
    row_of: Callable[[Record, Any], Mapping[str, Any]]
    row_of_error: Callable[[Record], Mapping[str, Any]] | None = None
    noun: str = "record"

    def run(
        self,
        records: Iterable[Record],
        predict_batch: Callable[[Sequence[Any]], Sequence[Any]],
        batch_size: int,
        total: int | None = None,
    ) -> int:
        """Stream, write, report; returns the exit code (DESIGN.md section 4)."""
        errors = ErrorReport(self.output)
        with StreamingTableWriter(self.output, self.columns) as writer:
            on_error = None
            if self.row_of_error is not None:
                make = self.row_of_error

                def on_error(record: Record) -> None:
                    writer.write_row(make(record), order=record.index)

            summary = run_predictions(
                records,
                predict_batch,
                lambda record, result: writer.write_row(
                    self.row_of(record, result), order=record.index
                ),
                batch_size=batch_size,
                errors=errors,
                desc="predict",
                total=total,
                on_error=on_error,
            )
        errors.write()  # says "N bad record(s) skipped; see <output>.errors.tsv" itself
        print(f"predicted {summary.n_ok} {self.noun}(s) -> {self.output}", file=sys.stderr)
        if summary.n_ok == 0:
            print(f"{self.app}: error: {self.input}: no record could be predicted", file=sys.stderr)
        return summary.exit_code
