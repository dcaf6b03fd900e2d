"""benchmarks/medseg_mirrored.py: flipped held-out scans and the consistency measure."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nibabel as nib
import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load():
    spec = importlib.util.spec_from_file_location("mm", BENCHMARKS / "medseg_mirrored.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _save(path: Path, data: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, np.diag([1.0, 1.0, 2.0, 1.0])), str(path))


def test_consistency_is_one_only_for_flip_equivariant_predictions(tmp_path):
    bench = _load()
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 3, size=(6, 7, 5)).astype(np.uint8)
    _save(tmp_path / "a" / "c1.nii.gz", pred)
    # the flipped scan's prediction is the flip of the original: an equivariant pipeline
    _save(tmp_path / "eq" / "c1.nii.gz", np.flip(pred, 1).copy())
    # a pipeline that ignores the flip (predicts the same array): not equivariant
    _save(tmp_path / "same" / "c1.nii.gz", pred)
    assert bench.consistency(tmp_path / "a", tmp_path / "eq", 1, [1, 2]) == 1.0
    assert bench.consistency(tmp_path / "a", tmp_path / "same", 1, [1, 2]) < 0.8
    assert bench.foreground_labels({"background": 0, "a": 1, "b": 2}) == [1, 2]
    assert bench.foreground_labels({"0": "background", "1": "a"}) == [1]


def test_write_flipped_flips_image_and_label_together(tmp_path):
    bench = _load()
    img = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    _save(tmp_path / "src" / "imagesTr" / "c_0000.nii.gz", img)
    _save(tmp_path / "src" / "labelsTr" / "c.nii.gz", (img > 10).astype(np.uint8))
    out = bench.write_flipped(tmp_path / "src", tmp_path / "flip", 2)
    got = nib.load(str(out / "imagesTr" / "c_0000.nii.gz"))
    lab = np.asanyarray(nib.load(str(out / "labelsTr" / "c.nii.gz")).dataobj)
    np.testing.assert_array_equal(np.asanyarray(got.dataobj), img[:, :, ::-1])
    np.testing.assert_array_equal(lab, (img[:, :, ::-1] > 10))
    np.testing.assert_array_equal(got.affine, np.diag([1.0, 1.0, 2.0, 1.0]))  # same frame


def test_mirrored_benchmark_runs_a_real_checkpoint(tmp_path, trained, phantom_dataset):
    """The fixture's checkpoint on the phantoms, one axis: the rows, the table, a refusal."""
    bench = _load()
    bench.main(["--checkpoint", f"small={trained}", "--data", str(phantom_dataset),
                "--axes", "0", "--work", str(tmp_path / "w"), "--out", str(tmp_path),
                "--name", "mm"])
    row = json.loads((tmp_path / "mm.json").read_text())["rows"][0]
    assert 0 <= row["as_is"] <= 1 and 0 <= row["flipped"]["0"] <= 1
    assert 0 <= row["consistency"]["0"] <= 1
    assert "| small |" in (tmp_path / "mm.md").read_text()
    try:
        bench.main(["--checkpoint", "nolabel", "--data", str(phantom_dataset)])
    except SystemExit as err:
        assert "expected LABEL=PATH" in str(err)
    else:
        raise AssertionError("a checkpoint spec without LABEL= was accepted")
