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
"""

from __future__ import annotations

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
