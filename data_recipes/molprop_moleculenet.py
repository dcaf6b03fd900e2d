"""Download MoleculeNet ESOL, FreeSolv, Lipophilicity and QM9 into gdl-molprop's input formats.

Sources are the files MoleculeNet/DeepChem publish (the URLs below). Each set becomes a
CSV with ``id``, ``smiles`` and its target column(s); QM9 becomes an SDF whose records
keep the DFT-optimised 3D coordinates (used as given by the app) with the 12 QM9
properties as SDF fields.

    python -m data_recipes.molprop_moleculenet esol OUT_DIR
    python -m data_recipes.molprop_moleculenet qm9 OUT_DIR --limit 5000

Downloads stream to a temporary file and are renamed into place when complete; an
existing converted file is kept (delete it to download again).
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

from gdl_science.io import atomic_write

BASE = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/"


@dataclass(frozen=True)
class CsvSet:
    """A MoleculeNet CSV: where it is, which columns hold id, SMILES and targets."""

    url: str
    id_column: str | None
    smiles_column: str
    targets: dict[str, str]  # source column -> our column name


CSV_SETS = {
    "esol": CsvSet(
        BASE + "delaney-processed.csv",
        "Compound ID",
        "smiles",
        {"measured log solubility in mols per litre": "logS"},
    ),
    "freesolv": CsvSet(BASE + "SAMPL.csv", "iupac", "smiles", {"expt": "expt"}),
    "lipophilicity": CsvSet(BASE + "Lipophilicity.csv", "CMPD_CHEMBLID", "smiles", {"exp": "logD"}),
}
QM9_URL = BASE + "gdb9.tar.gz"
QM9_PROPERTIES = (
    "mu",
    "alpha",
    "homo",
    "lumo",
    "gap",
    "r2",
    "zpve",
    "u0",
    "u298",
    "h298",
    "g298",
    "cv",
)


def download(url: str, dest: Path, opener: Callable = urlopen) -> Path:
    """Stream ``url`` to ``dest`` atomically (a partial download never looks complete)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with opener(url) as response, atomic_write(dest, "wb") as fh:
        shutil.copyfileobj(response, fh, length=1 << 20)
    return dest


def convert_csv(raw: Path, spec: CsvSet, out: Path) -> int:
    """MoleculeNet CSV -> ``id,smiles,<targets>``; SMILES are stripped of stray spaces."""
    with open(raw, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    missing = [c for c in [spec.smiles_column, *spec.targets] if rows and c not in rows[0]]
    if missing:
        raise ValueError(f"{raw}: columns {missing} not found; the source format changed?")
    with atomic_write(out, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "smiles", *spec.targets.values()])
        for i, row in enumerate(rows):
            ident = row[spec.id_column].strip() if spec.id_column else str(i)
            w.writerow([ident, row[spec.smiles_column].strip(), *(row[c] for c in spec.targets)])
    return len(rows)


def convert_qm9(archive: Path, out: Path, limit: int | None = None) -> int:
    """``gdb9.tar.gz`` (gdb9.sdf + gdb9.sdf.csv) -> one SDF with the properties as fields."""
    with tarfile.open(archive, "r:gz") as tar:
        names = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        sdf_text = tar.extractfile(names["gdb9.sdf"]).read().decode()
        table = list(
            csv.DictReader(io.StringIO(tar.extractfile(names["gdb9.sdf.csv"]).read().decode()))
        )
    records = [r for r in sdf_text.split("$$$$\n") if r.strip()]
    if len(records) != len(table):
        raise ValueError(f"{archive}: {len(records)} SDF records but {len(table)} property rows")
    n = 0
    with atomic_write(out) as fh:
        for block, props in zip(records, table):
            if limit is not None and n >= limit:
                break
            lines = block.rstrip("\n").split("\n")
            lines[0] = props["mol_id"]
            fh.write("\n".join(lines) + "\n")
            for key in QM9_PROPERTIES:
                fh.write(f"> <{key}>\n{props[key]}\n\n")
            fh.write("$$$$\n")
            n += 1
    return n


def fetch(name: str, out_dir: Path, limit: int | None = None, opener: Callable = urlopen) -> Path:
    """Download and convert one set; returns the converted file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if name == "qm9":
        out = out_dir / "qm9.sdf"
        if not out.exists():
            with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
                raw = download(QM9_URL, Path(tmp) / "gdb9.tar.gz", opener)
                convert_qm9(raw, out, limit)
        return out
    spec = CSV_SETS[name]
    out = out_dir / f"{name}.csv"
    if not out.exists():
        with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
            raw = download(spec.url, Path(tmp) / "raw.csv", opener)
            convert_csv(raw, spec, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=[*CSV_SETS, "qm9"])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="QM9: keep the first N molecules")
    args = parser.parse_args()
    print(fetch(args.name, args.out_dir, args.limit))


if __name__ == "__main__":
    main()
