"""3D coordinates of one molecule: ETKDGv3 embedding, force-field clean-up, SDF coordinates.

Nothing here raises for a bad molecule: an RDKit error, including the ones
``EmbedMolecule`` *raises* for metal complexes, comes back as a failure
``(status, note)`` that the caller turns into the row's status.
"""

from __future__ import annotations

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem

from gdl_molprop.data.settings import PrepSettings

Failure = tuple[str, str]  # (status, note)


def embed_conformers(mol_h: Chem.Mol, settings: PrepSettings) -> tuple[list[int], str]:
    """ETKDGv3 conformers, retried with random coordinates; errors become a failure note."""
    params = AllChem.ETKDGv3()
    params.randomSeed = settings.conformer_seed
    # Without sequential seeds, RDKit 2026.09 returns k identical conformers for a fixed
    # seed (measured); with them, conformer i uses seed + i: distinct and reproducible.
    params.enableSequentialRandomSeeds = True
    notes = ""
    try:
        ids = list(AllChem.EmbedMultipleConfs(mol_h, settings.num_conformers, params))
        attempt = 1
        while not ids and attempt < settings.max_attempts:
            params.randomSeed = settings.conformer_seed + attempt
            ids = list(AllChem.EmbedMultipleConfs(mol_h, settings.num_conformers, params))
            attempt += 1
        if not ids:
            params.useRandomCoords = True
            params.randomSeed = settings.conformer_seed
            ids = list(AllChem.EmbedMultipleConfs(mol_h, settings.num_conformers, params))
            notes = "random_coords"
    except Exception as exc:  # EmbedMolecule can raise instead of failing (metal complexes)
        return [], f"embedding raised: {exc}"
    return ids, notes


def optimise_conformers(mol_h: Chem.Mol) -> str | None:
    """MMFF94 where it has parameters, else UFF; returns the force field used or None."""
    try:
        if AllChem.MMFFHasAllMoleculeParams(mol_h):
            AllChem.MMFFOptimizeMoleculeConfs(mol_h, maxIters=500)
            return "mmff"
        if AllChem.UFFHasAllMoleculeParams(mol_h):
            AllChem.UFFOptimizeMoleculeConfs(mol_h, maxIters=500)
            return "uff"
    except Exception:  # a force-field setup error is a missing force field for the user
        return None
    return None


def has_3d_coordinates(mol: Chem.Mol) -> bool:
    if mol.GetNumConformers() == 0:
        return False
    pos = mol.GetConformer().GetPositions()
    return bool(np.abs(pos[:, 2]).max() > 1e-4)


def embed(
    mol: Chem.Mol, settings: PrepSettings, use_given_coordinates: bool, notes: list[str]
) -> tuple[Chem.Mol, list[int]] | Failure:
    """(molecule with conformers, conformer ids), or the failure; appends notes.

    use_given_coordinates: take the molecule's own 3D conformer (SDF input); a record
    whose coordinates are all in a plane (a 2D depiction) is embedded instead and noted
    ``sdf_2d_regenerated``. Hydrogens are added for embedding unless the heavy-atom graph
    is embedded directly (``embed_hydrogens`` false, no force field).
    """
    given = use_given_coordinates and has_3d_coordinates(mol)
    heavy_only = not (settings.embed_hydrogens or settings.hydrogens or given)
    heavy_only = heavy_only and settings.forcefield == "none"
    mol_h = Chem.Mol(mol) if heavy_only else Chem.AddHs(mol, addCoords=given)
    if given:
        notes.append("coords_from_sdf")
        return mol_h, [mol_h.GetConformer().GetId()]
    if use_given_coordinates:
        notes.append("sdf_2d_regenerated")
    mol_h.RemoveAllConformers()
    ids, embed_note = embed_conformers(mol_h, settings)
    if not ids:
        return "embed_failed", embed_note or "ETKDGv3 found no conformer"
    if embed_note:
        notes.append(embed_note)
    if settings.forcefield == "mmff":
        forcefield = optimise_conformers(mol_h)
        if forcefield is None:
            return "no_forcefield", "neither MMFF94 nor UFF parameters"
        notes.append(forcefield)
    return mol_h, ids
