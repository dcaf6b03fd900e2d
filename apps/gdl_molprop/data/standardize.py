"""The parent molecule: salts and counter-ions stripped, as RDKit's standardiser does.

``rdMolStandardize.LargestFragmentChooser(preferOrganic=True)`` keeps the largest
*organic* fragment, so a small drug is kept beside a sulfate, a phosphate or a sodium
ion (keeping the fragment with most heavy atoms would keep the sulfate of
``CCN.OS(=O)(=O)O``). Only when counter-ions were removed is the parent neutralised by
``Uncharger`` (a carboxylate of a sodium salt becomes the acid, a protonated amine of a
hydrochloride the base): a single-component molecule drawn charged on purpose (a
zwitterion, a quaternary ammonium) keeps its charges.

The same parent is used for the features and for the scaffold of a scaffold split, so a
salt and its free base share a scaffold group and a split cannot leak through them.

Metals are not disconnected (no ``MetalDisconnector``): a complex drawn with its metal
bonded (cisplatin, auranofin, arsenic trioxide) is one fragment and is featurised whole,
the metal in the atom table's ``other`` slot; a metal drawn as a separate ion (the
calcium of calcium folinate, a Pt drawn apart from its ligands) is a counter-ion and is
stripped, which ``salt_features`` records.

``salt_features`` keeps, as a few molecule-level bits, what standardisation removed. The
form a compound was registered in can be information: in ClinTox all 14 multi-fragment
SMILES are failed, toxic compounds (how the set was assembled, not chemistry, but a model
that featurises every fragment, as Chemprop does, learns it). The bits give that back to
the readout without featurising the counter-ions as atoms of the molecule.
"""

from __future__ import annotations

import numpy as np
from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

_CHOOSER = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_UNCHARGER = rdMolStandardize.Uncharger()


def parent_molecule(mol: Chem.Mol) -> tuple[Chem.Mol, str]:
    """(parent, note): the molecule itself and "" when it has one fragment."""
    n_frags = len(Chem.GetMolFrags(mol))
    if n_frags == 1:
        return mol, ""
    parent = _CHOOSER.choose(mol)
    note = f"parent_fragment({n_frags} fragments)"
    charged = any(a.GetFormalCharge() for a in parent.GetAtoms())
    if charged:
        uncharged = _UNCHARGER.uncharge(parent)
        if Chem.MolToSmiles(uncharged) != Chem.MolToSmiles(parent):
            parent, note = uncharged, note + ";uncharged"
    return parent, note


def parent_smiles(smiles: str) -> str | None:
    """Canonical SMILES of the parent, or None when the text does not parse."""
    text = smiles.strip()
    mol = Chem.MolFromSmiles(text) if text else None
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return Chem.MolToSmiles(parent_molecule(mol)[0])


# Molecule-level bits of what standardisation removed (``salt_features``), in this order.
SALT_FEATURES = (
    "salt",  # fragments were removed (counter-ions, solvent)
    "uncharged",  # the parent was neutralised after its counter-ions were removed
    "metal_counterion",  # a removed fragment holds a metal (Na+, Ca2+, a Pt drawn apart)
    "halide_counterion",  # a removed fragment is one halogen atom (Cl-, HCl, Br-)
    "organic_counterion",  # a removed fragment holds carbon (maleate, mesylate, tartrate)
    "hydrate",  # a removed fragment is water
    "charged_parent",  # the parent keeps formal charges (quaternary ammonium, zwitterion)
)
# Non-metals and metalloids by atomic number (H, He, B, C, N, O, F, Ne, Si, P, S, Cl, Ar,
# As, Se, Br, Kr, Te, I, Xe, At, Rn); 0 is the dummy atom ``*``. The rest are metals.
_NON_METALS = frozenset((0, 1, 2, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 33, 34, 35, 36, 52,
                         53, 54, 85, 86))  # fmt: skip
_HALOGENS = frozenset((9, 17, 35, 53))


def salt_features(mol: Chem.Mol, parent: Chem.Mol) -> np.ndarray:
    """(len(SALT_FEATURES),) float32 0/1 bits of the molecule as given vs its parent."""
    frags = list(Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False))
    removed: list[Chem.Mol] = []
    uncharged = False
    if len(frags) > 1:
        # The kept fragment is the chooser's pick (before uncharging); the rest are removed.
        chosen = Chem.MolToSmiles(_CHOOSER.choose(mol))
        keys = [Chem.MolToSmiles(f) for f in frags]
        kept = keys.index(chosen) if chosen in keys else 0
        removed = frags[:kept] + frags[kept + 1 :]
        uncharged = Chem.MolToSmiles(parent) != chosen

    def heavy(f: Chem.Mol) -> list[int]:
        return [a.GetAtomicNum() for a in f.GetAtoms() if a.GetAtomicNum() != 1]

    bits = (
        bool(removed),
        uncharged,
        any(any(z not in _NON_METALS for z in heavy(f)) for f in removed),
        any(len(heavy(f)) == 1 and heavy(f)[0] in _HALOGENS for f in removed),
        any(6 in heavy(f) for f in removed),
        any(heavy(f) == [8] for f in removed),
        any(a.GetFormalCharge() for a in parent.GetAtoms()),
    )
    return np.asarray(bits, np.float32)
