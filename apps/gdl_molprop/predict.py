"""``gdl-molprop predict``: stream a CSV/SDF/.smi through one or more checkpoints.

Every input row comes back, in input order, with its original columns plus
``<target>_pred`` (``<target>_std`` with several checkpoints), ``status`` and ``note``.
Rows that cannot be predicted (invalid SMILES, unsupported element, failed embedding,
...) keep empty prediction cells, their status, and a line in ``<output>.errors.tsv``.
Molecules are prepared a chunk at a time in a process pool with the on-disk cache, so
memory stays constant whatever the input size.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator

import numpy as np
import torch

from gdl_molprop.data.cache import ConformerCache, default_cache_dir
from gdl_molprop.data.pipeline import default_workers, prepare_many
from gdl_molprop.data.readers import MolRecord, read_records
from gdl_molprop.inference import predict_molecules
from gdl_molprop.task import MolPropTask
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
from gdl_science.io.sharding import Shard

CHUNK = 256  # molecules prepared per pool round


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--smiles-column",
        default=None,
        help="SMILES column of a CSV input (default: the training one, else 'smiles')",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="conformer cache folder ('none' disables; default ~/.cache/...)",
    )
    parser.add_argument("--workers", type=int, default=0, help="RDKit processes (0: up to 4)")


def load_tasks(paths: list[str], device: torch.device) -> list[MolPropTask]:
    tasks = [load_task(MolPropTask, p) for p in paths]
    first = tasks[0]
    for path, task in zip(paths[1:], tasks[1:]):
        if (
            task.prep_settings != first.prep_settings
            or task.task_names != first.task_names
            or (task.cutoff != first.cutoff)
        ):
            raise UserInputError(
                f"{path}: its targets or molecule preparation differ from {paths[0]}; "
                "ensembles need checkpoints trained on the same setup"
            )
    return [t.to(device).eval() for t in tasks]


def _prepared_records(
    records: Iterator[MolRecord], settings, cache, workers, shard: Shard
) -> Iterator[Record]:
    """MolRecords -> core Records with (record, prepared) payloads; failures carry an error.

    In a sharded run (torchrun/srun) only this rank's rows get the RDKit work; the other
    rows pass through unprepared and ``run_predictions`` skips them by position.
    """
    start = 0
    while True:
        chunk = list(itertools.islice(records, CHUNK))
        if not chunk:
            return
        owned = [k for k in range(len(chunk)) if shard.owns(start + k)]
        prepared = prepare_many([chunk[k].source for k in owned], settings, cache, workers=workers)
        by_position = dict(zip(owned, prepared))
        for k, rec in enumerate(chunk):
            record_id = f"line {rec.line} ({rec.id})"
            mol = by_position.get(k)
            if mol is None:
                yield Record(id=record_id)  # another rank's row
                continue
            error = None if mol.ok else f"{mol.status}: {mol.note}"
            yield Record(id=record_id, payload=(rec, mol), error=error)
        start += len(chunk)


def predict(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    tasks = load_tasks(list(args.checkpoint), device)
    first = tasks[0]
    output = check_output_path(args.output, [args.input])
    smiles_column = args.smiles_column or first.hparams.get("smiles_column", "smiles")
    records = read_records(args.input, smiles_column, with_targets=False)
    head = next(records, None)
    if head is None:
        raise UserInputError(f"{args.input}: no records to predict")
    records = itertools.chain([head], records)

    names = first.task_names
    ensemble = len(tasks) > 1
    pred_columns = [f"{n}_pred" for n in names] + ([f"{n}_std" for n in names] if ensemble else [])
    input_columns = [c for c in head.columns if c not in [*pred_columns, "status", "note"]]
    columns = input_columns + pred_columns + ["status", "note"]

    cache = (
        None
        if args.cache_dir == "none"
        else ConformerCache(args.cache_dir or default_cache_dir(), first.prep_settings)
    )
    workers = args.workers or default_workers()
    errors = ErrorReport(output)

    def predict_batch(payloads):
        mols = [mol for _, mol in payloads]
        values = predict_molecules(tasks, mols, device)  # (M, T, C)
        return list(values)

    with StreamingTableWriter(output, columns) as writer:

        def row(
            rec: MolRecord, status: str, note: str, values: np.ndarray | None, order: int
        ) -> None:
            out = {c: rec.columns.get(c, "") for c in input_columns}
            for j, n in enumerate(names):
                out[f"{n}_pred"] = None if values is None else float(values[j].mean())
                if ensemble:
                    out[f"{n}_std"] = None if values is None else float(values[j].std(ddof=1))
            out["status"], out["note"] = status, note
            writer.write_row(out, order=order)

        def on_result(record: Record, values: np.ndarray) -> None:
            rec, mol = record.payload
            row(rec, "ok", mol.note, values, record.index)

        def on_error(record: Record) -> None:
            rec, mol = record.payload
            row(rec, mol.status, mol.note, None, record.index)

        summary = run_predictions(
            _prepared_records(records, first.prep_settings, cache, workers, Shard.from_env()),
            predict_batch,
            on_result,
            batch_size=args.batch_size,
            errors=errors,
            desc="predict",
            on_error=on_error,
        )
    errors.write()
    print(
        f"predicted {summary.n_ok} molecule(s), {summary.n_bad} bad; wrote {output}",
        file=sys.stderr,
    )
    return summary.exit_code
