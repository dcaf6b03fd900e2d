"""RDKit preparation of one molecule: parse, clean, embed, featurise, with a status code.

Every input row ends with exactly one ``status`` (see ``STATUSES``) and a short ``note``
saying what was done (largest fragment kept, UFF instead of MMFF, random-coordinate
retry, coordinates taken from the SDF, ...). Nothing here raises for a bad molecule:
RDKit errors, including the ones ``EmbedMolecule`` *raises* for metal complexes, become
statuses, so one bad SMILES never aborts a run.

The result, ``PreparedMolecule``, holds plain numpy arrays only, so it pickles cheaply
across processes and stores in the on-disk cache without pickle (``np.savez``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem import AllChem, Descriptors

RDLogger.DisableLog("rdApp.*")  # statuses and notes carry the reasons; keep stderr clean

STATUSES = (
    "ok",
    "invalid_smiles",  # SMILES syntax or sanitisation (valence, aromaticity) error
    "invalid_record",  # an SDF record RDKit cannot read
    "empty",  # blank SMILES or a molecule with no atoms
    "unsupported_element",  # an element outside ELEMENTS (metals, noble gases, ...)
    "too_large",  # more heavy atoms than the configured limit
    "embed_failed",  # ETKDGv3 failed, also with random coordinates, or raised
    "no_forcefield",  # neither MMFF94 nor UFF has parameters for the molecule
)

# The element table: one-hot node features, fixed so checkpoints stay valid across runs.
ELEMENTS = ("H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I")
_ELEMENT_INDEX = {Chem.GetPeriodicTable().GetAtomicNumber(s): i for i, s in enumerate(ELEMENTS)}
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
# ... + aromatic, Hs, in ring, chiral, mass / 100 (Chemprop's atom features, as one-hots).
ATOM_FEATURES = len(ELEMENTS) + _DEGREES + len(_CHARGES) + len(_HYBRIDISATIONS) + 1 + _NUM_HS + 3
# Bond features: none (a radius-graph pair that is not bonded), single, double, triple,
# aromatic, conjugated, in ring.
_BOND_TYPES = (
    Chem.BondType.SINGLE,
    Chem.BondType.DOUBLE,
    Chem.BondType.TRIPLE,
    Chem.BondType.AROMATIC,
)
BOND_FEATURES = 1 + len(_BOND_TYPES) + 2
# Bump when preparation or features change, so stale cache entries are never reused.
PREP_VERSION = 2
FORCEFIELDS = ("mmff", "none")


@dataclass(frozen=True)
class PrepSettings:
    """How molecules are prepared; part of the cache key and of the checkpoint.

    geometry: "3d" embeds conformers; "2d" skips RDKit 3D work (bond graph only).
    hydrogens: keep explicit hydrogens as graph nodes (they are always added for embedding).
    num_conformers: conformers per molecule (predictions can be averaged over them).
    seed: ETKDG random seed, fixed so runs are reproducible.
    max_heavy_atoms: larger molecules get status ``too_large``.
    max_attempts: ETKDG attempts before the random-coordinate retry.
    forcefield: "mmff" optimises ETKDG conformers with MMFF94 (UFF where MMFF has no
        parameters; neither -> ``no_forcefield``); "none" keeps the ETKDG geometry, which
        is 2.5x faster (``benchmarks/molprop_prep_speed.py``); the radial basis has a
        resolution of about 0.2 Å.
    fallback_2d: a molecule that cannot be embedded or optimised is kept as a bond graph
        without coordinates (status ``ok``, note ``2d_only``) instead of failing; for
        models whose 2D part can predict alone (the hybrid D-MPNN).
    descriptors: also compute RDKit's 2D descriptors (``DESCRIPTOR_NAMES``) per molecule.
    embed_hydrogens: embed with explicit hydrogens (RDKit's advice). False embeds the
        heavy-atom graph directly, another 2.3x faster (5.6x with the MMFF step gone,
        ``benchmarks/molprop_prep_speed.py``), with ETKDG's bond lengths, angles and
        torsion preferences still applied; only with ``hydrogens=False`` and
        ``forcefield="none"`` (MMFF needs the hydrogens).
    """

    geometry: str = "3d"
    hydrogens: bool = False
    num_conformers: int = 1
    seed: int = 0
    max_heavy_atoms: int = 100
    max_attempts: int = 3
    forcefield: str = "mmff"
    fallback_2d: bool = False
    descriptors: bool = False
    embed_hydrogens: bool = True

    def key(self) -> str:
        """A short stable hash of the settings (the cache folder name)."""
        payload = {**asdict(self), "version": PREP_VERSION}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class PreparedMolecule:
    """One prepared molecule. Arrays are empty unless ``status == "ok"``.

    atom_features (N, ATOM_FEATURES) float32; bonds (B, 2) int64 atom pairs (each once);
    bond_features (B, BOND_FEATURES) float32; conformers (K, N, 3) float64 (K = 0 in 2D).
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
    """Canonical isomeric SMILES of the molecule as given (before fragment selection)."""
    return Chem.MolToSmiles(mol, isomericSmiles=True)


def largest_fragment(mol: Chem.Mol) -> tuple[Chem.Mol, str]:
    """Keep the fragment with most heavy atoms (salts, hydrates); say so in the note."""
    frags = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)
    if len(frags) == 1:
        return mol, ""
    best = max(frags, key=lambda m: (m.GetNumHeavyAtoms(), m.GetNumAtoms()))
    return best, f"largest_fragment({len(frags)} fragments)"


def _one_hot(value, choices) -> list[float]:
    return [1.0 if value == c else 0.0 for c in choices]


def atom_features(atom: Chem.Atom) -> list[float]:
    """Element, degree, formal charge, hybridisation, aromatic, total Hs, in ring, chiral tag."""
    element = [0.0] * len(ELEMENTS)
    element[_ELEMENT_INDEX[atom.GetAtomicNum()]] = 1.0
    return (
        element
        + _one_hot(min(atom.GetDegree(), _DEGREES - 1), range(_DEGREES))
        + _one_hot(atom.GetFormalCharge(), _CHARGES)
        + _one_hot(atom.GetHybridization(), _HYBRIDISATIONS)
        + [float(atom.GetIsAromatic())]
        + _one_hot(min(atom.GetTotalNumHs(), _NUM_HS - 1), range(_NUM_HS))
        + [float(atom.IsInRing()), float(atom.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED)]
        + [0.01 * atom.GetMass()]
    )


def bond_features(bond: Chem.Bond) -> list[float]:
    return [
        0.0,
        *_one_hot(bond.GetBondType(), _BOND_TYPES),
        float(bond.GetIsConjugated()),
        float(bond.IsInRing()),
    ]


def embed_conformers(mol_h: Chem.Mol, settings: PrepSettings) -> tuple[list[int], str]:
    """ETKDGv3 conformers, retried with random coordinates; errors become a failure note."""
    params = AllChem.ETKDGv3()
    params.randomSeed = settings.seed
    # Without sequential seeds, RDKit 2026.09 returns k identical conformers for a fixed
    # seed (measured); with them, conformer i uses seed + i: distinct and reproducible.
    params.enableSequentialRandomSeeds = True
    notes = ""
    try:
        ids = list(AllChem.EmbedMultipleConfs(mol_h, settings.num_conformers, params))
        attempt = 1
        while not ids and attempt < settings.max_attempts:
            params.randomSeed = settings.seed + attempt
            ids = list(AllChem.EmbedMultipleConfs(mol_h, settings.num_conformers, params))
            attempt += 1
        if not ids:
            params.useRandomCoords = True
            params.randomSeed = settings.seed
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


def _has_3d_coordinates(mol: Chem.Mol) -> bool:
    if mol.GetNumConformers() == 0:
        return False
    pos = mol.GetConformer().GetPositions()
    return bool(np.abs(pos[:, 2]).max() > 1e-4)


def prepare_mol(
    mol: Chem.Mol, settings: PrepSettings, use_given_coordinates: bool
) -> PreparedMolecule:
    """A sanitised molecule -> features (+ conformers unless 2D), with its status.

    use_given_coordinates: take the molecule's own 3D conformer (SDF input) instead of
    embedding; a record whose coordinates are all in a plane (a 2D depiction) is
    embedded instead and noted ``sdf_2d_regenerated``.
    """
    key = canonical_key(mol)
    notes: list[str] = []
    mol, frag_note = largest_fragment(mol)
    if frag_note:
        notes.append(frag_note)
        try:
            Chem.SanitizeMol(mol)
        except Exception as exc:
            return failed("invalid_smiles", f"fragment sanitisation failed: {exc}", key)
    bad = sorted({a.GetSymbol() for a in mol.GetAtoms() if a.GetAtomicNum() not in _ELEMENT_INDEX})
    if bad:
        return failed("unsupported_element", "elements outside the table: " + ",".join(bad), key)
    if mol.GetNumHeavyAtoms() > settings.max_heavy_atoms:
        return failed(
            "too_large", f"{mol.GetNumHeavyAtoms()} heavy atoms > {settings.max_heavy_atoms}", key
        )

    conformers = np.zeros((0, 0, 3), np.float64)
    graph_mol = Chem.AddHs(mol) if settings.hydrogens else mol
    if settings.geometry == "3d":
        embedded = _embed(mol, settings, use_given_coordinates, notes)
        if isinstance(embedded, PreparedMolecule):  # failed
            if not settings.fallback_2d:
                embedded.canonical_smiles = key
                return embedded
            notes += ["2d_only", embedded.status]  # predicted from the bond graph
        else:
            mol_h, ids = embedded
            graph_mol = mol_h if settings.hydrogens else Chem.RemoveHs(mol_h)
            conformers = np.stack([graph_mol.GetConformer(i).GetPositions() for i in ids])

    feats = np.asarray([atom_features(a) for a in graph_mol.GetAtoms()], np.float32)
    bonds = np.asarray(
        [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in graph_mol.GetBonds()], np.int64
    ).reshape(-1, 2)
    bfeats = np.asarray([bond_features(b) for b in graph_mol.GetBonds()], np.float32).reshape(
        -1, BOND_FEATURES
    )
    return PreparedMolecule(
        status="ok",
        note=";".join(notes),
        canonical_smiles=key,
        atom_features=feats,
        bonds=bonds,
        bond_features=bfeats,
        conformers=conformers.astype(np.float64),
        descriptors=descriptors_of(mol) if settings.descriptors else np.zeros((0,), np.float32),
    )


def _embed(
    mol: Chem.Mol, settings: PrepSettings, use_given_coordinates: bool, notes: list[str]
) -> tuple[Chem.Mol, list[int]] | PreparedMolecule:
    """(molecule with hydrogens and conformers, conformer ids), or the failure."""
    given = use_given_coordinates and _has_3d_coordinates(mol)
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
        return failed("embed_failed", embed_note or "ETKDGv3 found no conformer")
    if embed_note:
        notes.append(embed_note)
    if settings.forcefield == "mmff":
        forcefield = optimise_conformers(mol_h)
        if forcefield is None:
            return failed("no_forcefield", "neither MMFF94 nor UFF parameters")
        notes.append(forcefield)
    return mol_h, ids


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


def prepare_smiles(text: str, settings: PrepSettings) -> PreparedMolecule:
    """SMILES text -> prepared molecule (never raises for a bad molecule)."""
    mol, failure = parse_smiles(text)
    if failure is not None:
        return failure
    return prepare_mol(mol, settings, use_given_coordinates=False)
