"""Atom, bond and molecule features (fixed tables, so checkpoints stay valid across runs).

Atoms follow Chemprop's atom features as one-hots, with stereo given as CIP labels:
``R``/``S`` (a stereocentre whose configuration is known), ``stereo_unknown`` (a
stereocentre with no configuration). Bonds carry ``E``/``Z`` from the CIP ranks.

Why CIP labels and not RDKit's CW/CCW chiral tags (what Chemprop uses): a tag is
relative to the order in which the SMILES lists an atom's neighbours, so
``C[C@H](N)C(=O)O`` and ``N[C@@H](C)C(=O)O`` (both L-alanine) carry opposite tags. A
feature that changes with the atom order would break the permutation invariance the
model promises; R/S and E/Z are properties of the molecule. A mirror image swaps R and
S and leaves E/Z, which is how the E(3) mode makes the model blind to mirror images
(``layers/chirality.py``).

Every element RDKit parses is featurised: the 13 organic elements of ``ELEMENTS`` get a
slot each, any other (metals, metalloids such as As, noble gases, the dummy atom ``*``)
the one ``other`` slot, as Chemprop's unknown-element bit does; the mass column still
tells Pt from Gd. Refusing them would drop valid drugs (cisplatin analogues, contrast
agents, arsenic trioxide) from training and leave them unpredicted.
"""

from __future__ import annotations

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors

ELEMENTS = ("H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I")
ELEMENT_INDEX = {Chem.GetPeriodicTable().GetAtomicNumber(s): i for i, s in enumerate(ELEMENTS)}
OTHER_ELEMENT = len(ELEMENTS)  # the column of every element outside ELEMENTS
# Bump when the atom or bond feature table changes: checkpoints record it, and one made
# with another table is refused with a one-line message (``task.check_feature_version``).
# 2: the "other element" slot (before it, such molecules were refused).
FEATURE_VERSION = 2
_DEGREES = 6  # 0..5
_CHARGES = (-2, -1, 0, 1, 2)
_HYBRIDISATIONS = (
    Chem.HybridizationType.SP,
    Chem.HybridizationType.SP2,
    Chem.HybridizationType.SP3,
    Chem.HybridizationType.SP3D,
    Chem.HybridizationType.SP3D2,
)
_NUM_HS = 5  # 0..4
# Element (+ other), degree, charge, hybridisation, aromatic, Hs, in ring, [R, S, stereo
# unknown], mass.
_ELEMENT_SLOTS = len(ELEMENTS) + 1
ATOM_FEATURES = _ELEMENT_SLOTS + _DEGREES + len(_CHARGES) + len(_HYBRIDISATIONS) + 1 + _NUM_HS + 5
# Columns of the R and S flags in the atom features (the mirror image swaps them).
CIP_R = ATOM_FEATURES - 4
CIP_S = ATOM_FEATURES - 3
_BOND_TYPES = (
    Chem.BondType.SINGLE,
    Chem.BondType.DOUBLE,
    Chem.BondType.TRIPLE,
    Chem.BondType.AROMATIC,
)
# Not bonded (a radius-graph pair), the bond types, conjugated, in ring, E, Z.
BOND_FEATURES = 1 + len(_BOND_TYPES) + 4


def _one_hot(value, choices) -> list[float]:
    return [1.0 if value == c else 0.0 for c in choices]


def assign_stereo(mol: Chem.Mol) -> None:
    """CIP labels on atoms (``_CIPCode``) and E/Z on double bonds, in place."""
    Chem.AssignStereochemistry(mol, cleanIt=True, force=True)


def _stereo(atom: Chem.Atom) -> list[float]:
    code = atom.GetPropsAsDict().get("_CIPCode") if atom.HasProp("_CIPCode") else None
    unknown = code is None and atom.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED
    return [float(code == "R"), float(code == "S"), float(unknown)]


def atom_features(atom: Chem.Atom) -> list[float]:
    """(ATOM_FEATURES,) of one atom of a molecule that went through ``assign_stereo``."""
    element = [0.0] * _ELEMENT_SLOTS
    element[ELEMENT_INDEX.get(atom.GetAtomicNum(), OTHER_ELEMENT)] = 1.0
    return (
        element
        + _one_hot(min(atom.GetDegree(), _DEGREES - 1), range(_DEGREES))
        + _one_hot(atom.GetFormalCharge(), _CHARGES)
        + _one_hot(atom.GetHybridization(), _HYBRIDISATIONS)
        + [float(atom.GetIsAromatic())]
        + _one_hot(min(atom.GetTotalNumHs(), _NUM_HS - 1), range(_NUM_HS))
        + [float(atom.IsInRing())]
        + _stereo(atom)
        + [0.01 * atom.GetMass()]
    )


def bond_features(bond: Chem.Bond) -> list[float]:
    stereo = bond.GetStereo()
    return [
        0.0,
        *_one_hot(bond.GetBondType(), _BOND_TYPES),
        float(bond.GetIsConjugated()),
        float(bond.IsInRing()),
        float(stereo == Chem.BondStereo.STEREOE),
        float(stereo == Chem.BondStereo.STEREOZ),
    ]


def graph_arrays(mol: Chem.Mol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(atom features (N, ATOM_FEATURES) f32, bonds (B, 2) i64, bond features (B, F) f32)."""
    feats = np.asarray([atom_features(a) for a in mol.GetAtoms()], np.float32)
    bonds = np.asarray(
        [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()], np.int64
    ).reshape(-1, 2)
    bfeats = np.asarray([bond_features(b) for b in mol.GetBonds()], np.float32)
    return feats.reshape(-1, ATOM_FEATURES), bonds, bfeats.reshape(-1, BOND_FEATURES)


# RDKit's 2D descriptors minus the slow or unstable ones (qed: 1.5 ms/molecule alone;
# Ipc overflows to 1e30 for large molecules).
DESCRIPTOR_NAMES = tuple(n for n, _ in Descriptors._descList if n not in ("qed", "Ipc", "SPS"))
_DESCRIPTOR_FUNCTIONS = dict(Descriptors._descList)


def descriptors_of(mol: Chem.Mol) -> np.ndarray:
    """(len(DESCRIPTOR_NAMES),) float32, squashed by sign(x) log(1 + |x|) so counts and
    areas of any size are O(1); a descriptor RDKit cannot compute is 0."""
    values = []
    for name in DESCRIPTOR_NAMES:
        try:
            v = float(_DESCRIPTOR_FUNCTIONS[name](mol))
        except Exception:  # RDKit raises on some exotic molecules: a missing value
            v = 0.0
        values.append(v if np.isfinite(v) else 0.0)
    x = np.asarray(values, np.float64)
    return (np.sign(x) * np.log1p(np.abs(x))).astype(np.float32)
