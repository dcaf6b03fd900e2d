"""How molecules are prepared: the one declaration of the preparation settings.

``PrepSettings`` is the data module's ``prep`` argument (``--data.prep.geometry 2d``,
``data: prep: {...}`` in YAML). The CLI links it, as a plain dict, into the task's
``prep`` hyperparameter, so a checkpoint alone prepares new molecules exactly as the
training data were (``predict``, ``check-symmetry``). Adding a setting means adding one
field here; nothing else declares or copies them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

# Bump when preparation or features change, so stale cache entries are never reused.
# 3: rdMolStandardize parent molecule; CIP R/S atom and E/Z bond stereo features.
# 4: 2D preparation keeps molecules above max_heavy_atoms (the limit is for embedding).
# 5: every element featurised (the "other element" slot); salt_features.
PREP_VERSION = 5
FORCEFIELDS = ("mmff", "none")


@dataclass(frozen=True)
class PrepSettings:
    """Molecule preparation (part of the cache key and of the checkpoint).

    The defaults are the recommended ones (``configs/molprop/default.yaml`` repeats them).
    """

    # "3d": embed ETKDGv3 conformers; "2d": bond graph only, no RDKit 3D work; "auto": 3d
    # for regression, 2d for classification (``resolved``; chosen on BBBP, docs/molprop.md).
    geometry: Literal["auto", "3d", "2d"] = "auto"
    # Radius (Å) of the 3D pair graph; graphs are built after the cache, so not in its key.
    cutoff: float = 5.0
    # Keep explicit hydrogens as graph nodes (they are always added for MMFF embedding).
    hydrogens: bool = False
    # Conformers per molecule; training draws one per visit, predict averages over all.
    num_conformers: int = 1
    # ETKDG random seed (conformer i uses seed + i), fixed so runs are reproducible.
    conformer_seed: int = 0
    # Larger molecules get status ``too_large`` when conformers are embedded (3d); 2d
    # bond graphs take molecules of any size.
    max_heavy_atoms: int = 100
    # ETKDG attempts before the random-coordinate retry.
    max_attempts: int = 3
    # "mmff": MMFF94 (UFF where MMFF lacks parameters) after ETKDG; "none": ETKDG as is.
    forcefield: Literal["mmff", "none"] = "none"
    # A molecule that cannot be embedded is kept as a bond graph (note ``2d_only``).
    fallback_2d: bool = True
    # RDKit's 2D descriptors (``features.DESCRIPTOR_NAMES``) per molecule, at the readout;
    # "auto": on for classification, off for regression (``resolved``). Off by default:
    # on the ClinTox validation splits they helped one seed and hurt the other, and on
    # Biogen they did not help (docs/molprop.md).
    descriptors: bool | Literal["auto"] = False
    # Embed with explicit hydrogens; False embeds the heavy-atom graph (needs forcefield none).
    embed_hydrogens: bool = False
    # Featurise the parent molecule (salts and counter-ions stripped, ``standardize.py``);
    # False: the molecule as written, every fragment kept (what Chemprop featurises).
    # Scaffold splits always use the parent, so a split cannot leak either way.
    standardize: bool = True
    # Molecule-level bits at the readout saying what standardisation removed (salt,
    # counter-ion kind, hydrate, neutralised, charged parent: ``standardize.SALT_FEATURES``).
    salt_features: bool = False

    def resolved(self, task_type: str) -> PrepSettings:
        """``auto`` settings made concrete for the task type (what the model records)."""
        classify = task_type == "classification"
        out = self
        if out.geometry == "auto":
            out = replace(out, geometry="2d" if classify else "3d")
        if out.descriptors == "auto":
            out = replace(out, descriptors=classify)
        return out

    @property
    def use_descriptors(self) -> bool:
        """Whether descriptors are computed ("auto" that no task type resolved: off)."""
        return self.descriptors is True

    def key(self) -> str:
        """A short stable hash of what the cached entries depend on (the cache folder)."""
        payload = {**asdict(self), "version": PREP_VERSION}
        payload.pop("cutoff")
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]

    def as_hparams(self) -> dict[str, Any]:
        """Primitive values only, for the checkpoint (reloads with weights_only=True)."""
        return asdict(self)

    @classmethod
    def from_hparams(cls, values: dict[str, Any] | None) -> PrepSettings:
        """Settings from a checkpoint's ``prep`` dict; unknown keys are a clear error."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown preparation settings {unknown}; known: {sorted(known)}")
        return cls(**values)


def as_settings(value: PrepSettings | dict[str, Any] | None) -> PrepSettings:
    """A PrepSettings from itself, a dict (YAML, hparams) or None (the defaults)."""
    return value if isinstance(value, PrepSettings) else PrepSettings.from_hparams(value)
