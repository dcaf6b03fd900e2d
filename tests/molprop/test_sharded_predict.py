"""predict under torchrun-style ranks: each rank prepares only its rows; one ordered output."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.ddp_helpers import REPO, app_command, last_checkpoint

ROWS = [
    "a,CCO",
    "b,not_a_smiles",
    "c,c1ccccc1O",
    "d,",
    "e,CC(=O)O.[Na+]",
    "f,CCN",
    "g,[Pt]",
    "h,CCCC",
]


@pytest.mark.ddp
def test_two_ranks_write_the_single_process_output(tmp_path, capsys):
    # fit and the single-process predict run in-process (two interpreter start-ups fewer);
    # only the two ranks need processes of their own.
    from gdl_molprop.cli import SPEC

    from gdl_science.cli import run_app

    code = run_app(
        SPEC,
        [
            "fit",
            "--config",
            str(REPO / "configs/molprop/small.yaml"),
            "--trainer.max_epochs=1",
            "--trainer.enable_progress_bar=false",
            f"--trainer.default_root_dir={tmp_path / 'fit'}",
            f"--data.cache_dir={tmp_path / 'cache'}",
        ],
    )
    assert code == 0, capsys.readouterr().err[-2000:]
    inp = tmp_path / "in.csv"
    inp.write_text("name,smiles\n" + "\n".join(ROWS) + "\n")
    predict = [
        *app_command("molprop"),
        "predict",
        "--checkpoint",
        str(last_checkpoint(tmp_path / "fit")),
        "--input",
        str(inp),
        "--cache-dir",
        "none",
    ]
    single = [*predict[len(app_command("molprop")) :], "--output", str(tmp_path / "one.csv")]
    code = run_app(SPEC, single)
    assert code == 0, capsys.readouterr().err[-2000:]
    env = {**os.environ, "GDL_NO_PROGRESS": "1", "PYTHONPATH": str(REPO), "WORLD_SIZE": "2"}
    ranks = [
        subprocess.Popen(
            [*predict, "--output", str(tmp_path / "two.csv")],
            cwd=REPO,
            env={**env, "RANK": str(r)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in (1, 0)
    ]
    for proc in ranks:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()[-2000:]
    one = (tmp_path / "one.csv").read_text()
    assert (tmp_path / "two.csv").read_text() == one
    assert [line.split(",")[0] for line in one.splitlines()[1:]] == list("abcdefgh")
    assert (tmp_path / "two.csv.errors.tsv").read_text() == (
        tmp_path / "one.csv.errors.tsv"
    ).read_text()
    assert not list(tmp_path.glob(".two.csv*"))
