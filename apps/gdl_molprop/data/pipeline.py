"""Prepare many molecules: cache look-up, then RDKit work spread over worker processes.

Sources are SMILES strings or SDF mol blocks. The order of the results is the order of
the sources, whatever the number of workers. Molecules from an SDF with real 3D
coordinates are not cached (their coordinates are the user's, not ours to key by SMILES).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Sequence
from dataclasses import dataclass

from rdkit import Chem

from gdl_molprop.data.cache import ConformerCache
from gdl_molprop.data.chem import (
    PreparedMolecule,
    PrepSettings,
    canonical_key,
    failed,
    parse_smiles,
    prepare_mol,
)
from gdl_science.io import progress


@dataclass(frozen=True)
class MoleculeSource:
    """What to prepare: a SMILES string, or an SDF mol block (coordinates used as given)."""

    smiles: str = ""
    molblock: str | None = None
    error: str | None = None  # a row the reader could not read (reported as invalid_record)


def _parse(source: MoleculeSource) -> tuple[Chem.Mol | None, PreparedMolecule | None]:
    if source.error is not None:
        return None, failed("invalid_record", source.error)
    if source.molblock is None:
        return parse_smiles(source.smiles)
    mol = Chem.MolFromMolBlock(source.molblock, sanitize=True, removeHs=True)
    if mol is None:
        return None, failed("invalid_record", "RDKit cannot read this SDF record")
    if mol.GetNumAtoms() == 0:
        return None, failed("empty", "SDF record has no atoms")
    return mol, None


def _prepare_one(args: tuple[MoleculeSource, PrepSettings]) -> PreparedMolecule:
    source, settings = args
    mol, failure = _parse(source)
    if failure is not None:
        return failure
    try:
        return prepare_mol(mol, settings, use_given_coordinates=source.molblock is not None)
    except Exception as exc:  # last line of defence: an RDKit surprise is a row status
        return failed("embed_failed", f"RDKit error: {exc}", canonical_key(mol))


def _uses_given_coordinates(source: MoleculeSource) -> bool:
    return source.molblock is not None


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def prepare_many(
    sources: Sequence[MoleculeSource],
    settings: PrepSettings,
    cache: ConformerCache | None = None,
    workers: int = 1,
    show_progress: bool = False,
) -> list[PreparedMolecule]:
    """Prepare every source; never raises for a bad molecule (see ``chem.STATUSES``)."""
    results: list[PreparedMolecule | None] = [None] * len(sources)
    todo: list[int] = []
    keys: dict[int, str] = {}
    for i, source in enumerate(sources):
        if cache is None or _uses_given_coordinates(source) or source.error is not None:
            todo.append(i)
            continue
        mol, failure = _parse(source)
        if failure is not None:
            results[i] = failure
            continue
        keys[i] = canonical_key(mol)
        hit = cache.get(keys[i])
        if hit is None:
            todo.append(i)
        else:
            results[i] = hit

    jobs = [(sources[i], settings) for i in todo]
    if workers > 1 and len(jobs) >= 2 * workers:
        # fork is cheap and safe here: the workers run RDKit only, no torch threads.
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        with ctx.Pool(workers) as pool:
            done = pool.imap(_prepare_one, jobs, chunksize=8)
            prepared = list(
                progress(done, total=len(jobs), desc="conformers", unit="mol")
                if show_progress
                else done
            )
    else:
        it = (
            progress(jobs, total=len(jobs), desc="conformers", unit="mol")
            if show_progress
            else jobs
        )
        prepared = [_prepare_one(job) for job in it]

    for i, mol in zip(todo, prepared):
        results[i] = mol
        if cache is not None and i in keys and mol.canonical_smiles == keys[i]:
            cache.put(mol)
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]
