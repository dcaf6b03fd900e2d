"""The shared CLI through a toy app: LightningCLI fit, predict, check-symmetry, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gdl_science.cli import run_app
from tests.core.toy_app import SPEC

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fit")
    code = run_app(
        SPEC,
        [
            "fit",
            "--trainer.max_epochs=2",
            f"--trainer.default_root_dir={root}",
            "--trainer.enable_progress_bar=false",
            "--model.width=6",
        ],
    )
    assert code == 0
    (ckpt,) = root.glob("**/checkpoints/last.ckpt")
    return ckpt


def test_fit_writes_a_last_checkpoint_and_reports_it(trained, capsys):
    assert trained.stat().st_size > 0
    assert not list(trained.parent.glob("*.tmp*"))  # atomic checkpoint writing left no temp


def test_predict_streams_good_rows_and_reports_bad_ones(trained, tmp_path, capsys):
    inp = tmp_path / "seqs.txt"
    inp.write_text("ACGTAC\nACGXT\n\nGGGGCC\n")
    out = tmp_path / "out" / "preds.tsv"
    code = run_app(
        SPEC, ["predict", "--checkpoint", str(trained), "--input", str(inp), "--output", str(out)]
    )
    assert code == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "id\tgc_pred" and [r.split("\t")[0] for r in rows[1:]] == ["line1", "line4"]
    errors = (tmp_path / "out" / "preds.tsv.errors.tsv").read_text().splitlines()
    assert errors[1].startswith("line2\t") and "unknown character 'X'" in errors[1]
    assert "line 3: empty sequence" in errors[2]
    assert "2 bad record(s)" in capsys.readouterr().err


def test_predict_with_nothing_valid_exits_2(trained, tmp_path):
    inp = tmp_path / "bad.txt"
    inp.write_text("NNNN\n")
    code = run_app(
        SPEC,
        [
            "predict",
            "--checkpoint",
            str(trained),
            "--input",
            str(inp),
            "--output",
            str(tmp_path / "p.tsv"),
        ],
    )
    assert code == 2


def test_predict_refuses_to_overwrite_its_input(trained, tmp_path, capsys):
    inp = tmp_path / "seqs.txt"
    inp.write_text("ACGT\n")
    code = run_app(
        SPEC, ["predict", "--checkpoint", str(trained), "--input", str(inp), "--output", str(inp)]
    )
    assert code == 2
    assert inp.read_text() == "ACGT\n"
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gdl-toy: error: {inp}: output would overwrite the input; choose another path"]


def test_check_symmetry_prints_the_error(trained, capsys):
    assert run_app(SPEC, ["check-symmetry", "--checkpoint", str(trained)]) == 0
    out = capsys.readouterr().out
    value = float(out.split("max_equivariance_error=")[1].split()[0])
    assert value < 1e-5
    assert out.splitlines()[0] == "group=RC"  # which group the error is for


def test_bad_data_path_is_one_line_and_exit_2(tmp_path, capsys):
    code = run_app(
        SPEC,
        [
            "fit",
            "--data.path",
            str(tmp_path / "nope.txt"),
            f"--trainer.default_root_dir={tmp_path}",
            "--trainer.max_epochs=1",
        ],
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"gdl-toy: error: {tmp_path / 'nope.txt'}: no such file"


def test_bad_config_value_is_rejected(tmp_path):
    with pytest.raises(SystemExit) as exc:
        run_app(
            SPEC, ["fit", "--model.symmetry=rotations", f"--trainer.default_root_dir={tmp_path}"]
        )
    assert exc.value.code == 2


def test_corrupt_checkpoint_is_a_user_error(tmp_path, capsys):
    bad = tmp_path / "x.ckpt"
    bad.write_text("garbage")
    assert run_app(SPEC, ["check-symmetry", "--checkpoint", str(bad)]) == 2
    assert "not a readable gdl-science checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("app", ["dna", "molprop", "medseg"])
def test_console_scripts_answer_help(app):
    script = Path(sys.executable).parent / f"gdl-{app}"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "predict" in result.stdout and "check-symmetry" in result.stdout
