"""``gdl-dna predict``: stream any input through one or more checkpoints into a TSV.

Output: ``id`` then ``<label>_pred`` per label (per class for multiclass), plus
``<label>_std`` across checkpoints when several are given. Records stream in batches
(constant memory apart from the set of ids seen, kept to report duplicates); bad records
(unknown characters, intervals past a chromosome end, duplicate ids, ...) go to
``<output>.errors.tsv`` and the run goes on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence

import torch

from gdl_dna.data import encode_window, iter_records
from gdl_dna.task import DNATask
from gdl_science.io import (
    ErrorReport,
    Record,
    StreamingTableWriter,
    UserInputError,
    check_output_path,
    load_task,
    resolve_device,
    run_predictions,
)


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--genome", default=None, help="indexed genome FASTA (BED input)")


def load_ensemble(paths: Sequence[str], device: torch.device) -> list[DNATask]:
    tasks = [load_task(DNATask, p).to(device).eval() for p in paths]
    first = tasks[0]
    for path, task in zip(paths[1:], tasks[1:]):
        if task.spec != first.spec or task.sequence_length != first.sequence_length:
            raise UserInputError(
                f"{path}: checkpoint predicts {task.spec.output_names()} on windows of "
                f"{task.sequence_length}, unlike {paths[0]}; ensemble only compatible models"
            )
    return tasks


def unique_records(path: str, genome: str | None) -> Iterator[Record]:
    seen: set[str] = set()
    for r in iter_records(path, genome):
        error = r.error
        if error is None and r.id in seen:
            error = "duplicate id"
        seen.add(r.id)
        yield Record(r.id, r.sequence, f"{r.where}: {error}" if error else None)


def predict(args: argparse.Namespace) -> int:
    output = check_output_path(args.output, [p for p in (args.input, args.genome) if p])
    device = resolve_device(args.device)
    tasks = load_ensemble(args.checkpoint, device)
    window = tasks[0].sequence_length
    stems = tasks[0].spec.output_names()
    columns = ["id"] + [f"{s}_pred" for s in stems]
    if len(tasks) > 1:
        columns += [f"{s}_std" for s in stems]

    @torch.no_grad()
    def predict_batch(sequences: Sequence[str]) -> list[dict[str, float]]:
        x = torch.stack([encode_window(s, window) for s in sequences]).to(device)
        values = torch.stack([t.predict_values(x) for t in tasks])  # (M, B, n)
        mean, std = values.mean(0).cpu(), values.std(0, unbiased=False).cpu()
        rows = []
        for i in range(x.shape[0]):
            row = {f"{s}_pred": float(mean[i, j]) for j, s in enumerate(stems)}
            if len(tasks) > 1:
                row.update({f"{s}_std": float(std[i, j]) for j, s in enumerate(stems)})
            rows.append(row)
        return rows

    errors = ErrorReport(output)
    with StreamingTableWriter(output, columns) as writer:
        summary = run_predictions(
            unique_records(args.input, args.genome),
            predict_batch,
            lambda record, row: writer.write_row({"id": record.id, **row}, order=record.index),
            batch_size=args.batch_size,
            errors=errors,
            desc="predict",
        )
    errors.write()
    print(f"predicted {summary.n_ok} sequence(s) -> {output}", file=sys.stderr)
    if summary.n_ok == 0:
        print(f"gdl-dna: error: {args.input}: no record could be predicted", file=sys.stderr)
    return summary.exit_code
