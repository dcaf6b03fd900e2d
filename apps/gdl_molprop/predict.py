"""``gdl-molprop predict``: stream a CSV/SDF/.smi through one or more checkpoints.

Every input row comes back, in input order, with its original columns plus
``<target>_pred`` (``<target>_std`` with several checkpoints), ``status`` and ``note``.
Rows that cannot be predicted (invalid SMILES, unsupported element, failed embedding,
...) keep empty prediction cells, their status, and a line in ``<output>.errors.tsv``.
Molecules are prepared a chunk at a time in a process pool with the on-disk cache, so
memory stays constant whatever the input size.

The skeleton (ensemble loading and its compatibility check, ``_pred``/``_std`` columns,
writer, errors.tsv, exit codes) is the core's ``TablePrediction``; this module supplies
the records, the batch -> values map and the output row.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from gdl_molprop.data.batching import molecule_batch
from gdl_molprop.data.cache import ConformerCache, default_cache_dir
from gdl_molprop.data.chem import PreparedMolecule
from gdl_molprop.data.pipeline import default_workers, prepare_many
from gdl_molprop.data.readers import MolRecord, read_records
from gdl_molprop.task import MolPropTask
from gdl_science.graphs import scatter_mean
from gdl_science.io import (
    Record,
    TablePrediction,
    UserInputError,
    check_output_path,
    ensemble_rows,
    load_ensemble,
    prediction_columns,
    resolve_device,
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


def signature(task: MolPropTask) -> tuple:
    """What checkpoints of one ensemble must share: targets and molecule preparation."""
    return (tuple(task.task_names), task.prep_settings, task.cutoff)


@torch.no_grad()
def predict_molecules(
    tasks: Sequence[MolPropTask],
    mols: Sequence[PreparedMolecule],
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """(M, T, C) predictions of C checkpoints for M prepared (ok) molecules, in user
    units; a molecule's value is the mean over its conformers."""
    first = tasks[0]
    batch, owner = molecule_batch(mols, first.geometry, first.cutoff)
    batch = batch.to(device)
    out = []
    for task in tasks:
        values = task.predict_values(batch)  # (G, T)
        out.append(scatter_mean(values, owner.to(values.device), len(mols)).cpu())
    return torch.stack(out, dim=-1).numpy()


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
    tasks = load_ensemble(
        MolPropTask,
        list(args.checkpoint),
        device,
        signature,
        describe=lambda t: f"targets {t.task_names} with {t.prep_settings}",
    )
    first = tasks[0]
    # the core's guard: never the input, a checkpoint, a manifest or one of its members
    output = check_output_path(args.output, [args.input], args.checkpoint, expect="file")
    smiles_column = args.smiles_column or first.hparams.get("smiles_column", "smiles")
    records = read_records(args.input, smiles_column, with_targets=False)
    head = next(records, None)
    if head is None:
        raise UserInputError(f"{args.input}: no records to predict")
    records = itertools.chain([head], records)

    names = first.task_names
    pred_columns = prediction_columns(names, len(tasks))
    input_columns = [c for c in head.columns if c not in [*pred_columns, "status", "note"]]
    cache = (
        None
        if args.cache_dir == "none"
        else ConformerCache(args.cache_dir or default_cache_dir(), first.prep_settings)
    )

    def predict_batch(payloads):
        values = predict_molecules(tasks, [mol for _, mol in payloads], device)  # (M, T, C)
        return ensemble_rows(torch.from_numpy(values).permute(2, 0, 1), names)

    def row(rec: MolRecord, mol: PreparedMolecule, values: dict | None) -> dict:
        out = {c: rec.columns.get(c, "") for c in input_columns}
        out.update({c: None for c in pred_columns} if values is None else values)
        out["status"] = "ok" if values is not None else mol.status
        out["note"] = mol.note
        return out

    run = TablePrediction(
        app="gdl-molprop",
        input=args.input,
        output=output,
        columns=input_columns + pred_columns + ["status", "note"],
        row_of=lambda record, values: row(*record.payload, values),
        row_of_error=lambda record: row(*record.payload, None),
        noun="molecule",
    )
    workers = args.workers or default_workers()
    records_in = _prepared_records(records, first.prep_settings, cache, workers, Shard.from_env())
    return run.run(records_in, predict_batch, batch_size=args.batch_size)
