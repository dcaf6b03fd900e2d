"""The real console script: fit (embedded default) -> predict (bad rows) -> check-symmetry.

Also: every shipped config through fit, ensembles with std columns, .smi and SDF input,
and bad input (exit 2, one line naming the file and line).
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

from tests.ddp_helpers import app_command, last_checkpoint, run_cli

from .conftest import BAD_ROWS, GOOD_ROWS, METAL, SALT, write_csv

GDL = app_command("molprop")
CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "molprop"


def molprop(*args: str, timeout: float = 300):
    env_threads = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    old = {k: os.environ.get(k) for k in env_threads}
    os.environ.update(env_threads)
    try:
        return run_cli([*GDL, *map(str, args)], timeout=timeout)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def in_process(capsys, *args: str) -> tuple[int, str, str]:
    """The same CLI (run_app with the app's SPEC) without a new interpreter: fast checks."""
    from gdl_molprop.cli import SPEC

    from gdl_science.cli import run_app

    capsys.readouterr()
    code = run_app(SPEC, [str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_png(path: Path) -> None:
    """The file exists and decodes as an image of a sensible size."""
    import matplotlib.image

    assert path.is_file(), path
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def read_table(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fit")
    proc = molprop(
        "fit",
        "--config",
        CONFIGS / "small.yaml",
        "--trainer.default_root_dir",
        root,
        "--trainer.enable_progress_bar",
        "false",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "prepared 80 molecules: ok 80" in proc.stderr
    assert re.search(r"final metrics: .*val/rmse_SOL=", proc.stderr)
    return last_checkpoint(root)


def test_predict_csv_with_bad_rows(fitted, mixed_csv, tmp_path):
    out = tmp_path / "preds.csv"
    proc = molprop("predict", "--checkpoint", fitted, "--input", mixed_csv, "--output", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = read_table(out)
    expected = [*GOOD_ROWS[:4], *BAD_ROWS, METAL, SALT, *GOOD_ROWS[4:]]
    assert [r["id"] for r in rows] == [e[0] for e in expected]  # every row, input order
    assert list(rows[0]) == ["id", "smiles", "logS", "SOL_pred", "status", "note"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["syntax"]["status"] == "invalid_smiles" and by_id["syntax"]["SOL_pred"] == ""
    assert by_id["blank"]["status"] == "empty"
    assert by_id["with_name"]["status"] == "invalid_smiles"
    metal = by_id["ferric_chloride"]
    assert metal["status"] == "ok" and "other_element(Fe)" in metal["note"]
    assert by_id["sodium_benzoate"]["status"] == "ok"
    assert "parent_fragment" in by_id["sodium_benzoate"]["note"]
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == 14 and all(-15 < float(r["SOL_pred"]) < 5 for r in ok)
    errors = read_table(out.with_name("preds.csv.errors.tsv"))
    assert len(errors) == len(BAD_ROWS)
    assert "4 bad record(s)" in proc.stderr


def test_checkpoint_of_an_older_feature_table_is_refused_in_one_line(fitted, tmp_path, capsys):
    import torch
    from gdl_molprop.task import FEATURE_VERSION_KEY

    ckpt = torch.load(fitted, map_location="cpu", weights_only=True)
    assert ckpt[FEATURE_VERSION_KEY] == 2  # written by fit
    inp = write_csv(tmp_path / "in.csv", GOOD_ROWS[:2])
    # Without the key but with this table's shapes (hand-written): it loads.
    del ckpt[FEATURE_VERSION_KEY]
    torch.save(ckpt, tmp_path / "keyless.ckpt")
    code, _, err = in_process(capsys, "check-symmetry", "--checkpoint", tmp_path / "keyless.ckpt")
    assert code == 0, err[-2000:]
    # A checkpoint from before the key: the atom-feature input is one column narrower.
    name = next(k for k, v in ckpt["state_dict"].items() if v.ndim == 2 and "encode" in k)
    ckpt["state_dict"][name] = ckpt["state_dict"][name][:, 1:]
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    marked = tmp_path / "marked.ckpt"
    torch.save({**ckpt, FEATURE_VERSION_KEY: 1}, marked)
    for command in (
        ["predict", "--checkpoint", old, "--input", inp, "--output", tmp_path / "o.csv"],
        ["check-symmetry", "--checkpoint", old],
        ["check-symmetry", "--checkpoint", marked],
    ):
        code, _, err = in_process(capsys, *command)
        assert code == 2, err[-2000:]
        lines = [x for x in err.strip().splitlines() if x.startswith("gdl-molprop")]
        assert len(lines) == 1 and "atom features v1" in lines[0], err[-2000:]
        assert "Traceback" not in err and "size mismatch" not in err


def test_predict_ensemble_on_smi_and_sdf(fitted, tmp_path, capsys):
    smi = tmp_path / "mols.smi"
    smi.write_text("CCO ethanol\nc1ccccc1 benzene\nC1CC broken\n")
    second = fitted.parent / "best.ckpt"
    out = tmp_path / "ens.tsv"
    proc = molprop(
        "predict", "--checkpoint", fitted, "--checkpoint", second, "--input", smi, "--output", out
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert list(rows[0]) == ["smiles", "name", "SOL_pred", "SOL_std", "status", "note"]
    assert [r["status"] for r in rows] == ["ok", "ok", "invalid_smiles"]
    assert float(rows[0]["SOL_std"]) >= 0.0

    from gdl_molprop.data.embedded import embedded_path

    sdf = tmp_path / "few.sdf"
    text = embedded_path("solubility_test").read_text()
    sdf.write_text("$$$$\n".join(text.split("$$$$\n")[:5]) + "$$$$\n")
    out = tmp_path / "sdf_preds.csv"
    code, _, err = in_process(
        capsys, "predict", "--checkpoint", fitted, "--input", sdf, "--output", out
    )
    assert code == 0, err[-2000:]
    rows = read_table(out)
    assert len(rows) == 5 and rows[0]["id"] == "3-methylpentane" and "SOL" in rows[0]
    assert all(r["status"] == "ok" and "sdf_2d_regenerated" in r["note"] for r in rows)


def test_check_symmetry(fitted, capsys):
    proc = molprop("check-symmetry", "--checkpoint", fitted)  # float32 by default
    assert proc.returncode == 0, proc.stderr[-2000:]
    value = float(re.search(r"max_equivariance_error=(\S+)", proc.stdout).group(1))
    assert value <= 1e-5
    assert "E(3)" in proc.stderr and "reflection" in proc.stderr
    code, out, _ = in_process(
        capsys, "check-symmetry", "--checkpoint", fitted, "--dtype", "float64"
    )
    assert code == 0
    assert float(re.search(r"max_equivariance_error=(\S+)", out).group(1)) <= 1e-10


def test_bad_input_exits_2_with_one_line(fitted, tmp_path, mixed_csv, capsys):
    def one_line_error(code, err, *parts):
        assert code == 2, err[-2000:]
        lines = [x for x in err.strip().splitlines() if x.startswith("gdl-molprop")]
        assert len(lines) == 1
        for part in parts:
            assert part in lines[0], lines[0]

    no_col = tmp_path / "nocol.csv"
    no_col.write_text("id,SMILES_str\na,CCO\n")
    proc = molprop(
        "predict", "--checkpoint", fitted, "--input", no_col, "--output", tmp_path / "o.csv"
    )
    one_line_error(
        proc.returncode,
        proc.stderr,
        "nocol.csv line 1",
        "no SMILES column 'smiles'",
        "'SMILES_str'",
    )
    assert "Traceback" not in proc.stderr
    # In-process runs below share pytest's captured streams (logging handlers of earlier
    # runs may print their own noise), so only the exit code and the error line are checked.

    code, _, err = in_process(
        capsys, "predict", "--checkpoint", fitted, "--input", mixed_csv, "--output", mixed_csv
    )
    one_line_error(code, err, "overwrite the input")

    all_bad = tmp_path / "bad.csv"
    all_bad.write_text("smiles\nC1CC\nN(C)(C)(C)(C)C\nCCO,stray cell\n")
    out = tmp_path / "bad_preds.csv"
    code, _, err = in_process(
        capsys, "predict", "--checkpoint", fitted, "--input", all_bad, "--output", out
    )
    assert code == 2  # nothing could be predicted
    statuses = [r["status"] for r in read_table(out)]
    assert statuses == ["invalid_smiles", "invalid_smiles", "invalid_record"]

    code, _, err = in_process(
        capsys,
        "predict",
        "--checkpoint",
        tmp_path / "missing.ckpt",
        "--input",
        all_bad,
        "--output",
        out,
    )
    one_line_error(code, err, "missing.ckpt: checkpoint not found")

    # (a text target cell is masked with a note, not an error: see test_bad_input.py)


def test_predict_never_overwrites_a_model(fitted, tmp_path, mixed_csv, capsys):
    """--output equal to the checkpoint, the ensemble manifest, its folder or a member of
    it is refused with exit 2 and one line, and the model file is left as it was."""
    import shutil

    from gdl_science.io.ensemble_manifest import EnsembleMember, write_manifest

    ckpt = tmp_path / "model.ckpt"
    shutil.copy(fitted, ckpt)
    folder = tmp_path / "ens"
    (folder / "member_0").mkdir(parents=True)
    member = folder / "member_0" / "best.ckpt"
    shutil.copy(fitted, member)
    manifest = folder / "ensemble.json"
    write_manifest(
        manifest, 1, [EnsembleMember(0, "member_0/best.ckpt", "member_0/best.ckpt", "val/loss",
                                     0.5, "s")],
    )  # fmt: skip
    before = {p: p.read_bytes() for p in (ckpt, member, manifest)}
    for checkpoint, output in [
        (ckpt, ckpt),
        (manifest, manifest),
        (folder, manifest),
        (manifest, member),
        (folder, member),
    ]:
        code, _, err = in_process(
            capsys, "predict", "--checkpoint", checkpoint, "--input", mixed_csv,
            "--output", output,
        )  # fmt: skip
        lines = [x for x in err.strip().splitlines() if x.startswith("gdl-molprop")]
        assert code == 2 and len(lines) == 1 and str(output) in lines[0], err[-1500:]
    assert all(p.read_bytes() == b for p, b in before.items())


def test_default_config_runs(tmp_path, capsys):
    code, _, err = in_process(
        capsys,
        "fit",
        "--config",
        CONFIGS / "default.yaml",
        "--data.limit",
        "12",
        "--trainer.fast_dev_run",
        "true",
        "--trainer.default_root_dir",
        tmp_path,
    )
    assert code == 0, err[-3000:]
    assert "prepared 24 molecules" in err


def test_cluster_config_runs_ddp_on_one_cpu_process(tmp_path):
    proc = molprop(
        "fit",
        "--config",
        CONFIGS / "cluster.yaml",
        "--data.limit",
        "12",
        "--trainer.fast_dev_run",
        "true",
        "--trainer.default_root_dir",
        tmp_path,
        "--trainer.num_nodes",
        "1",
        "--trainer.devices",
        "1",
        "--trainer.accelerator",
        "cpu",
        "--data.num_workers",
        "0",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "prepared 24 molecules" in proc.stderr


def test_multitask_classification_on_2d_graphs(tmp_path, capsys):
    """Binary multi-task with blank cells, 2D graphs (no conformers): auROC/auPRC per task."""
    rows = [
        (
            n,
            s,
            str(int(float(y) > -1.5)),
            "" if i % 3 == 0 else str(i % 2),
            ("train", "train", "val", "test")[i % 4],
        )
        for i, (n, s, y) in enumerate(GOOD_ROWS * 2)
    ]
    from .conftest import write_csv

    path = write_csv(tmp_path / "clf.csv", rows, header=("id", "smiles", "soluble", "odd", "split"))
    code, _, err = in_process(
        capsys,
        "fit",
        "--config",
        CONFIGS / "small.yaml",
        "--data.path",
        path,
        "--data.task_type",
        "classification",
        "--data.split",
        "column",
        "--data.prep.geometry",
        "2d",
        "--data.limit",
        "null",
        "--trainer.default_root_dir",
        tmp_path / "run",
        "--trainer.enable_progress_bar",
        "false",
    )
    assert code == 0, err[-3000:]
    metrics = err.split("final metrics:")[-1]
    for key in ("val/auroc_soluble", "val/auprc_soluble", "val/auroc_odd", "val/loss"):
        assert key in metrics, metrics
    ckpt = last_checkpoint(tmp_path / "run")
    out = tmp_path / "p.csv"
    code, _, err = in_process(
        capsys, "predict", "--checkpoint", ckpt, "--input", path, "--output", out
    )
    assert code == 0, err[-2000:]
    preds = read_table(out)
    assert all(0 < float(r["soluble_pred"]) < 1 and 0 < float(r["odd_pred"]) < 1 for r in preds)
    code, stdout, _ = in_process(capsys, "check-symmetry", "--checkpoint", ckpt)
    assert code == 0 and float(stdout.split("max_equivariance_error=")[1].split()[0]) <= 1e-5
    # `test` draws ROC curves (AUROC in the titles) beside its logs
    code, _, err = in_process(
        capsys, "test", "--config", CONFIGS / "small.yaml", "--data.path", path,
        "--data.task_type", "classification", "--data.split", "column",
        "--data.prep.geometry", "2d",
        "--data.limit", "null", "--trainer.default_root_dir", tmp_path / "test",
        "--ckpt_path", ckpt,
    )  # fmt: skip
    assert code == 0, err[-2000:]
    assert_png(next((tmp_path / "test").glob("**/test_roc.png")))


@pytest.mark.slow
def test_crossval_writes_mean_sd_table(tmp_path, good_csv, capsys):
    out = tmp_path / "cv.md"
    code, _stdout, err = in_process(
        capsys,
        "crossval",
        "--folds",
        "3",
        "--replicates",
        "2",
        "--output",
        out,
        "--",
        "--config",
        CONFIGS / "small.yaml",
        "--data.path",
        good_csv,
        "--data.targets",
        "[logS]",
        "--trainer.enable_progress_bar",
        "false",
    )
    assert code == 0, err[-3000:]
    import json

    report = json.loads(out.with_name("cv.md.json").read_text())
    assert len(report["runs"]) == 6 and {r["fold"] for r in report["runs"]} == {0, 1, 2}
    assert "| test/rmse_logS |" in out.read_text() and " ± " in out.read_text()
    assert_png(out.with_name("cv.md.png"))  # parity plot of every held-out molecule
    assert len(list((tmp_path / "cv.md.runs").glob("**/test_parity.png"))) == 6


@pytest.mark.slow
@pytest.mark.parametrize("ensemble", [1, 2])
def test_benchmark_quick_mode(tmp_path, ensemble):
    import sys

    proc = run_cli(
        [
            sys.executable,
            "benchmarks/molprop_vs_chemprop.py",
            "--quick",
            "--no-chemprop",
            "--datasets",
            "freesolv:random",
            "--ensemble-size",
            str(ensemble),
            "--workdir",
            tmp_path,
            "--results-dir",
            tmp_path,
        ],
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    model = "default-ens2" if ensemble == 2 else "default"
    assert f"| freesolv | random | gdl-molprop ({model}) |" in proc.stdout
    if ensemble == 2:  # the ensemble's member 0 (the single model of its seed) beside it
        assert "| freesolv | random | gdl-molprop (default-member0) |" in proc.stdout
    assert (tmp_path / "molprop_vs_chemprop_quick.json").is_file()  # never in the repo


def test_exactness_benchmark_on_a_trained_checkpoint(fitted, tmp_path):
    import json
    import sys

    proc = run_cli(
        [sys.executable, "benchmarks/molprop_exactness.py", fitted, "--results-dir", tmp_path],
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads((tmp_path / "molprop_exactness.json").read_text())
    assert {r["dtype"] for r in rows} == {"float32", "float64"}
    assert all(r["within_bar"] for r in rows)


def test_custom_smiles_column_is_remembered_by_the_checkpoint(tmp_path, capsys):
    path = tmp_path / "in.csv"
    path.write_text("name,SMI,y\na,CCO,1\nb,CCN,2\nc,CCCl,3\nd,c1ccccc1,4\ne,CC=O,5\n")
    code, _, err = in_process(
        capsys,
        "fit",
        "--config",
        CONFIGS / "small.yaml",
        "--data.path",
        path,
        "--data.smiles_column",
        "SMI",
        "--trainer.max_epochs",
        "1",
        "--trainer.default_root_dir",
        tmp_path / "r",
        "--trainer.enable_progress_bar",
        "false",
    )
    assert code == 0, err[-2000:]
    ckpt = last_checkpoint(tmp_path / "r")
    out = tmp_path / "out.csv"
    code, _, err = in_process(
        capsys, "predict", "--checkpoint", ckpt, "--input", path, "--output", out
    )
    assert code == 0, err[-2000:]
    assert [r["status"] for r in read_table(out)] == ["ok"] * 5


def test_predict_streams_in_chunks_keeping_row_order(
    fitted, mixed_csv, tmp_path, capsys, monkeypatch
):
    from gdl_molprop import predict as predict_module

    monkeypatch.setattr(predict_module, "CHUNK", 4)  # many preparation rounds on a small file
    out = tmp_path / "chunked.csv"
    code, _, err = in_process(
        capsys,
        "predict",
        "--checkpoint",
        fitted,
        "--input",
        mixed_csv,
        "--output",
        out,
        "--batch-size",
        "3",
        "--workers",
        "2",
    )
    assert code == 0, err[-2000:]
    reference = tmp_path / "whole.csv"
    monkeypatch.setattr(predict_module, "CHUNK", 1000)
    code, _, _ = in_process(
        capsys,
        "predict",
        "--checkpoint",
        fitted,
        "--input",
        mixed_csv,
        "--output",
        reference,
        "--workers",
        "1",
    )
    assert code == 0
    assert out.read_text() == reference.read_text()
    assert [r["id"] for r in read_table(out)][:5] == [
        "ethanol",
        "phenol",
        "aspirin",
        "caffeine",
        "syntax",
    ]
