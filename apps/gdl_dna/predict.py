"""``gdl-dna predict``: stream any input through one or more checkpoints into a TSV.

Output: ``id`` then ``<label>_pred`` per label (per class for multiclass), plus
``<label>_std`` across checkpoints when several are given. The core's predict skeleton
(``gdl_science.io.TablePrediction``) streams, writes atomically and reports; this module
supplies the records and the batch function. Sequences are padded by the checkpoint's
window rule (``auto``: any length, nothing cropped; fixed: centre-cropped, counted on
stderr). Bad records (unknown characters, intervals past a chromosome end, duplicate
ids, ...) go to ``<output>.errors.tsv`` and the run goes on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence

import torch

from gdl_dna.data import encode, iter_records
from gdl_dna.data.framing import count_cropped
from gdl_dna.task import DNATask
from gdl_science.io import (
    Record,
    TablePrediction,
    check_output_path,
    ensemble_rows,
    load_ensemble,
    prediction_columns,
    resolve_device,
)


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--genome", default=None, help="indexed genome FASTA (BED input)")


def signature(task: DNATask) -> tuple:
    """What checkpoints must share to be averaged: outputs and window rule."""
    return (tuple(task.spec.output_names()), task.frame_rule)


def describe(task: DNATask) -> str:
    rule = task.frame_rule
    window = f"window {rule.reference}" if rule.fixed else "window auto"
    return f"{task.spec.output_names()} with {window}"


def load_models(paths: Sequence[str], device: torch.device) -> list[DNATask]:
    return load_ensemble(DNATask, paths, device, signature, describe)


def unique_records(path: str, genome: str | None) -> Iterator[Record]:
    seen: set[str] = set()
    for r in iter_records(path, genome):
        error = r.error
        if error is None and r.id in seen:
            error = "duplicate id"
        seen.add(r.id)
        yield Record(r.id, r.sequence, f"{r.where}: {error}" if error else None)


def predict(args: argparse.Namespace) -> int:
    inputs = [p for p in (args.input, args.genome) if p]
    output = check_output_path(args.output, inputs, args.checkpoint, expect="file")
    device = resolve_device(args.device)
    tasks = load_models(args.checkpoint, device)
    stems = tasks[0].spec.output_names()
    cropped = [0]

    def predict_batch(sequences: Sequence[str]) -> list[dict[str, float]]:
        one_hots = [encode(s) for s in sequences]
        cropped[0] += count_cropped([a.shape[1] for a in one_hots], tasks[0].frame_rule)
        values = torch.stack([t.predict_sequences(one_hots) for t in tasks])  # (M, B, n)
        return ensemble_rows(values, stems)

    run = TablePrediction(
        app="gdl-dna",
        input=args.input,
        output=output,
        columns=["id", *prediction_columns(stems, len(tasks))],
        row_of=lambda record, row: {"id": record.id, **row},
        noun="sequence",
    )
    code = run.run(unique_records(args.input, args.genome), predict_batch, args.batch_size)
    if cropped[0]:
        print(
            f"gdl-dna: warning: {cropped[0]} sequence(s) longer than the checkpoint's window "
            f"{tasks[0].frame_rule.reference} were centre-cropped",
            file=sys.stderr,
        )
    return code
