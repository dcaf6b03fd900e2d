"""RDKit preparation of one molecule: parse, standardise, embed, featurise, with a status.

Every input row ends with exactly one ``status`` (see ``STATUSES``) and a short ``note``
saying what was done (parent fragment kept, uncharged, UFF instead of MMFF,
random-coordinate retry, coordinates taken from the SDF, ...). Nothing here raises for
a bad molecule: RDKit errors become statuses, so one bad SMILES never aborts a run.

The steps live in their own modules: ``standardize`` (the parent molecule),
``conformers`` (3D coordinates), ``features`` (atom/bond/descriptor tables) and
``settings`` (``PrepSettings``). The result, ``PreparedMolecule``, holds plain numpy
arrays only, so it pickles cheaply across processes and stores in the on-disk cache
without pickle (``np.savez``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem, RDLogger

from gdl_molprop.data.conformers import embed
from gdl_molprop.data.features import (
    ATOM_FEATURES,
    BOND_FEATURES,
    DESCRIPTOR_NAMES,
    ELEMENT_INDEX,
    assign_stereo,
    descriptors_of,
    graph_arrays,
)
from gdl_molprop.data.settings import PrepSettings
from gdl_molprop.data.standardize import SALT_FEATURES, parent_molecule, salt_features

RDLogger.DisableLog("rdApp.*")  # statuses and notes carry the reasons; keep stderr clean

STATUSES = (
    "ok",
    "invalid_smiles",  # SMILES syntax or sanitisation (valence, aromaticity) error
    "invalid_record",  # an SDF record RDKit cannot read
    "empty",  # blank SMILES or a molecule with no atoms
    "too_large",  # more heavy atoms than the configured limit
    "embed_failed",  # ETKDGv3 failed, also with random coordinates, or raised
    "no_forcefield",  # neither MMFF94 nor UFF has parameters for the molecule
)


@dataclass
class PreparedMolecule:
    """One prepared molecule. Arrays are empty unless ``status == "ok"``.

    atom_features (N, ATOM_FEATURES) float32; bonds (B, 2) int64 atom pairs (each once);
    bond_features (B, BOND_FEATURES) float32; conformers (K, N, 3) float64 (K = 0 in 2D);
    descriptors (``molecule_feature_count(settings)``,) float32: the RDKit descriptors
    and/or the salt bits, the molecule-level features of the readout.
    """

    status: str
    note: str = ""
    canonical_smiles: str = ""
    atom_features: np.ndarray = field(
        default_factory=lambda: np.zeros((0, ATOM_FEATURES), np.float32)
    )
    bonds: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    bond_features: np.ndarray = field(
        default_factory=lambda: np.zeros((0, BOND_FEATURES), np.float32)
    )
    conformers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.float64))
    descriptors: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def failed(status: str, note: str, smiles: str = "") -> PreparedMolecule:
    return PreparedMolecule(status=status, note=note, canonical_smiles=smiles)


def parse_smiles(text: str) -> tuple[Chem.Mol | None, PreparedMolecule | None]:
    """SMILES text -> sanitised molecule, or a failed record saying why.

    A space inside the cell is an error rather than RDKit's "rest is a name" rule, which
    would silently drop half of what the user typed (``.smi`` readers split names off
    before calling this).
    """
    text = text.strip()
    if not text:
        return None, failed("empty", "blank SMILES")
    if any(c.isspace() for c in text):
        return None, failed("invalid_smiles", f"SMILES contains whitespace: {text!r}")
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        return None, failed("invalid_smiles", "SMILES syntax error")
    if mol.GetNumAtoms() == 0:
        return None, failed("empty", "SMILES has no atoms")
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several sanitisation exception types
        return None, failed("invalid_smiles", f"sanitisation failed: {exc}")
    return mol, None


def canonical_key(mol: Chem.Mol) -> str:
    """Canonical isomeric SMILES of the molecule as given (before standardisation)."""
    return Chem.MolToSmiles(mol, isomericSmiles=True)


def prepare_mol(
    mol: Chem.Mol, settings: PrepSettings, use_given_coordinates: bool
) -> PreparedMolecule:
    """A sanitised molecule -> parent -> features (+ conformers unless 2D), with a status.

    use_given_coordinates: take the molecule's own 3D conformer (SDF input) instead of
    embedding (see ``conformers.embed``).
    """
    key = canonical_key(mol)
    notes: list[str] = []
    try:
        needed = settings.standardize or settings.salt_features
        parent, parent_note = parent_molecule(mol) if needed else (mol, "")
        salt = salt_features(mol, parent) if settings.salt_features else None
    except Exception as exc:  # RDKit standardiser errors on exotic valences
        return failed("invalid_smiles", f"standardisation failed: {exc}", key)
    if settings.standardize:
        mol = parent
        if parent_note:
            notes.append(parent_note)
    other = sorted({a.GetSymbol() for a in mol.GetAtoms() if a.GetAtomicNum() not in ELEMENT_INDEX})
    if other:  # featurised in the atom table's "other" slot (features.OTHER_ELEMENT)
        notes.append(f"other_element({','.join(other)})")
    # The limit guards conformer embedding (ETKDG's time grows steeply with size); a bond
    # graph of any size is cheap, so 2D keeps large molecules (peptides, macrolides).
    if settings.geometry != "2d" and mol.GetNumHeavyAtoms() > settings.max_heavy_atoms:
        return failed(
            "too_large", f"{mol.GetNumHeavyAtoms()} heavy atoms > {settings.max_heavy_atoms}", key
        )

    conformers = np.zeros((0, 0, 3), np.float64)
    graph_mol = Chem.AddHs(mol) if settings.hydrogens else mol
    if settings.geometry != "2d":  # "3d", or "auto" that no task type resolved (3d)
        embedded = embed(mol, settings, use_given_coordinates, notes)
        if isinstance(embedded[0], str):  # (status, note): failed
            status, note = embedded
            if not settings.fallback_2d:
                return failed(status, note, key)
            notes += ["2d_only", status]  # predicted from the bond graph
        else:
            mol_h, ids = embedded
            graph_mol = mol_h if settings.hydrogens else Chem.RemoveHs(mol_h)
            conformers = np.stack([graph_mol.GetConformer(i).GetPositions() for i in ids])

    assign_stereo(graph_mol)
    feats, bonds, bfeats = graph_arrays(graph_mol)
    molecule = [descriptors_of(mol)] if settings.use_descriptors else []
    molecule += [salt] if salt is not None else []
    return PreparedMolecule(
        status="ok",
        note=";".join(notes),
        canonical_smiles=key,
        atom_features=feats,
        bonds=bonds,
        bond_features=bfeats,
        conformers=conformers.astype(np.float64),
        descriptors=np.concatenate(molecule) if molecule else np.zeros((0,), np.float32),
    )


def molecule_feature_count(settings: PrepSettings) -> int:
    """Width of ``PreparedMolecule.descriptors`` (the readout's molecule-level inputs)."""
    return len(DESCRIPTOR_NAMES) * settings.use_descriptors + len(SALT_FEATURES) * bool(
        settings.salt_features
    )


def prepare_smiles(text: str, settings: PrepSettings) -> PreparedMolecule:
    """SMILES text -> prepared molecule (never raises for a bad molecule)."""
    mol, failure = parse_smiles(text)
    if failure is not None:
        return failure
    return prepare_mol(mol, settings, use_given_coordinates=False)


__all__ = [
    "ATOM_FEATURES",
    "BOND_FEATURES",
    "DESCRIPTOR_NAMES",
    "STATUSES",
    "PrepSettings",
    "PreparedMolecule",
    "canonical_key",
    "failed",
    "molecule_feature_count",
    "parse_smiles",
    "prepare_mol",
    "prepare_smiles",
]
