"""The shared predict command refuses bad usage before loading a model or reading a record."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gdl_science.cli import run_app
from tests.core.io.test_ensemble_predict import save
from tests.core.toy_app import SPEC, ToyTask


@pytest.fixture
def setup(tmp_path):
    torch.manual_seed(0)
    ckpt = save(ToyTask(width=4), tmp_path / "model.ckpt")
    inp = tmp_path / "seqs.txt"
    inp.write_text("ACGT\nGGCC\n")
    return ckpt, inp


def predict(ckpt, inp, output, *extra):
    argv = ["predict", "--checkpoint", ckpt, "--input", str(inp), "--output", str(output)]
    return run_app(SPEC, [*argv, *extra])


@pytest.mark.parametrize("size", ["0", "-1", "two"])
def test_batch_size_must_be_positive(setup, tmp_path, capsys, size):
    ckpt, inp = setup
    with pytest.raises(SystemExit) as exc:
        predict(ckpt, inp, tmp_path / "p.tsv", "--batch-size", size)
    assert exc.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("gdl-toy predict: error: argument --batch-size:")


def test_output_that_is_the_checkpoint_is_refused_and_the_checkpoint_kept(setup, capsys):
    ckpt, inp = setup
    before = Path(ckpt).read_bytes()
    assert predict(ckpt, inp, ckpt) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"gdl-toy: error: {ckpt}: output would overwrite the checkpoint {ckpt}; "
        "choose another path"
    )
    assert Path(ckpt).read_bytes() == before


def test_output_folder_is_refused_before_predicting(setup, tmp_path, capsys, monkeypatch):
    ckpt, inp = setup
    (tmp_path / "out").mkdir()
    loaded = []
    monkeypatch.setattr(ToyTask, "on_load_checkpoint", lambda self, c: loaded.append(c))
    assert predict(ckpt, inp, tmp_path / "out") == 2
    assert "is a folder; --output names the file to write" in capsys.readouterr().err
    assert loaded == []  # refused before any model was loaded
    assert predict(ckpt, inp, tmp_path / "out" / "p.tsv") == 0 and loaded


def test_text_file_as_checkpoint_is_exit_2_one_line(setup, tmp_path, capsys):
    _, inp = setup
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model\n")
    assert predict(str(notes), inp, tmp_path / "p.tsv") == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "not a readable gdl-science checkpoint" in line and "weights_only" not in line
