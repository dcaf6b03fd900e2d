"""benchmarks/medseg_ensemble.py: the validation split, the manifest, and a real run."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from gdl_science.io.ensemble_manifest import read_manifest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load():
    spec = importlib.util.spec_from_file_location("me", BENCHMARKS / "medseg_ensemble.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_validation_cases_are_the_data_modules_split(phantom_dataset, cache_dir):
    """The benchmark's val cases are exactly those the data module validates on."""
    from apps.gdl_medseg.datamodule import MedSegDataModule

    bench = _load()
    dm = MedSegDataModule(path=str(phantom_dataset), cache_dir=str(cache_dir))
    dm.setup("fit")
    ids = sorted(f.name[: -len("_0000.nii.gz")] for f in (phantom_dataset / "imagesTr").iterdir())
    assert bench.validation_cases(ids) == dm.splits["val"]
    assert set(bench.validation_cases(ids)).isdisjoint(dm.splits["train"])


# slow: 12 predict/evaluate commands (2 minutes on a slow 2-core CPU).
@pytest.mark.slow
def test_ensemble_benchmark_scores_members_and_their_average(tmp_path, trained, phantom_dataset):
    bench = _load()
    argv = ["--member", f"a={trained}", "--member", f"b={trained}", "--ensemble", "ab=a,b",
            "--data", str(phantom_dataset), "--work", str(tmp_path / "w"),
            "--out", str(tmp_path), "--name", "me"]
    bench.main(argv)
    rows = {r["label"]: r for r in json.loads((tmp_path / "me.json").read_text())["rows"]}
    assert set(rows) == {"a", "b", "ab"} and rows["ab"]["members"] == ["a", "b"]
    size, members = read_manifest(tmp_path / "w" / "ensemble_ab" / "ensemble.json")
    assert size == 2 and [m.settings for m in members] == ["a", "b"]
    # two copies of one checkpoint average to that checkpoint: the same Dice everywhere
    for split in ("val", "heldout"):
        one, both = rows["a"][split]["dice_mean"], rows["ab"][split]["dice_mean"]
        assert both == pytest.approx(one, abs=1e-4)
        assert 0 <= rows["a"][split]["dice_mean"] <= 1
    assert "| ab | a+b |" in (tmp_path / "me.md").read_text()
    with pytest.raises(SystemExit, match="of --member labels"):
        bench.main([*argv[:4], "--ensemble", "ab=a,zz", "--data", str(phantom_dataset)])
