"""The real `gdl-medseg` commands end to end: fit -> predict -> check-symmetry -> evaluate.

The checkpoint comes from `fit --config configs/medseg/small.yaml` (conftest.trained).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from gdl_medseg.cli import SPEC
from gdl_medseg.postprocess import apply_lcc
from gdl_medseg.task import MedSegTask

from gdl_science.cli import run_app
from gdl_science.io import load_task

from .conftest import run_cli as cli


@pytest.fixture(scope="module")
def predicted(trained, phantom_dataset, tmp_path_factory) -> tuple[Path, Path, object]:
    """One predict run over the phantoms plus two broken files; returns (input, output, result)."""
    tmp = tmp_path_factory.mktemp("predict")
    inputs = tmp / "in"
    shutil.copytree(phantom_dataset / "imagesTr", inputs)
    (inputs / "broken_0000.nii.gz").write_bytes(b"\x1f\x8b\x08 truncated gzip")
    img = nib.load(inputs / "phantom_000_0000.nii.gz")
    nib.save(
        nib.Nifti1Image(np.zeros((*img.shape, 2), np.float32), img.affine),
        inputs / "fourd_0000.nii.gz",
    )
    out = tmp / "out"
    res = cli(
        "predict",
        "--checkpoint",
        str(trained),
        "--input",
        str(inputs),
        "--output",
        str(out),
        "--save-probabilities",
    )
    return inputs, out, res


def test_predict_writes_nifti_in_original_geometry(predicted, trained) -> None:
    inputs, out, res = predicted
    lcc = list(load_task(MedSegTask, trained).hparams.get("lcc_labels") or [])
    assert res.returncode == 0, res.stderr[-2000:]
    images = sorted(inputs.glob("phantom_*_0000.nii.gz"))
    assert len(images) == 4
    orientations = set()
    for image_path in images:
        case = image_path.name.replace("_0000.nii.gz", "")
        image, pred = nib.load(image_path), nib.load(out / f"{case}.nii.gz")
        assert pred.shape == image.shape
        np.testing.assert_allclose(pred.affine, image.affine)
        orientations.add(nib.aff2axcodes(pred.affine))
        assert pred.get_data_dtype() == np.uint8
        assert set(np.unique(np.asarray(pred.dataobj)).tolist()) <= {0, 1, 2, 3}
        probs = nib.load(out / f"{case}_probabilities.nii.gz")
        assert probs.shape == (*image.shape, 4)
        np.testing.assert_allclose(np.asarray(probs.dataobj).sum(-1), 1.0, atol=1e-4)
        # The label map is the argmax of the written probabilities, voxel for voxel, after
        # the largest-component post-processing that fit decided (``lcc_labels``).
        argmax = np.asarray(probs.dataobj).argmax(-1)
        expected = apply_lcc(argmax, lcc) if lcc else argmax
        assert np.array_equal(expected, np.asarray(pred.dataobj))
    assert orientations == {("R", "A", "S"), ("L", "P", "S")}  # both stored orientations seen
    assert "gdl-medseg predict: 4 case(s)" in res.stderr and "test-time mirroring" in res.stderr


def test_predict_reports_bad_cases_and_continues(predicted) -> None:
    _, out, res = predicted
    report = out.with_name("out.errors.tsv").read_text().splitlines()
    assert report[0] == "id\treason"
    reasons = dict(line.split("\t", 1) for line in report[1:])
    assert set(reasons) == {"broken", "fourd"}
    assert "broken_0000.nii.gz" in reasons["broken"] and "cannot read NIfTI" in reasons["broken"]
    assert "expected a 3D image" in reasons["fourd"]
    assert "2 bad record(s)" in res.stderr
    assert not list(out.glob("broken*")) and not list(out.glob("fourd*"))


def test_check_symmetry_reports_exact_equivariance(trained) -> None:
    res = cli("check-symmetry", "--checkpoint", str(trained))
    assert res.returncode == 0, res.stderr[-2000:]
    err = float(re.search(r"max_equivariance_error=(\S+)", res.stdout).group(1))
    rel = float(re.search(r"max_relative_equivariance_error=(\S+)", res.stdout).group(1))
    assert rel <= 1e-5 and err <= 1e-4
    # The group is named; all 24 rotations are checked (escnn net and its export each).
    assert re.search(r"^octahedral: max_abs=", res.stderr, re.M)
    assert len(re.findall(r"^  \[\[", res.stderr, re.M)) == 24


def test_evaluate_and_verify(predicted, phantom_dataset, tmp_path) -> None:
    _, out, _ = predicted
    csv_path = tmp_path / "metrics.csv"
    res = cli(
        "evaluate",
        "--pred",
        str(out),
        "--ref",
        str(phantom_dataset / "labelsTr"),
        "--output",
        str(csv_path),
        "--dataset-json",
        str(phantom_dataset / "dataset.json"),
    )
    assert res.returncode == 0, res.stderr
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "case,label,dice,hd95_mm,volume_pred_ml,volume_ref_ml,volume_diff_ml"
    assert len(lines) == 1 + 4 * 3  # 4 cases x 3 foreground labels
    assert "| rod |" in res.stdout and (tmp_path / "metrics.csv.summary.md").is_file()


def test_evaluate_overlays_show_worst_and_best_cases(predicted, phantom_dataset, tmp_path):
    _, out, _ = predicted
    csv_path = tmp_path / "m.csv"
    argv = ["evaluate", "--pred", str(out), "--ref", str(phantom_dataset / "labelsTr"),
            "--output", str(csv_path), "--dataset-json", str(phantom_dataset / "dataset.json")]
    assert run_app(SPEC, [*argv, "--overlays", "1"]) == 2  # needs --images
    images = str(phantom_dataset / "imagesTr")
    assert run_app(SPEC, [*argv, "--overlays", "1", "--images", images]) == 0
    pngs = sorted((tmp_path / "m.csv.overlays").glob("*.png"))
    assert [p.name.split("_")[1] for p in pngs] == ["worst", "best"]
    from PIL import Image

    for png in pngs:
        with Image.open(png) as im:
            im.verify()
        with Image.open(png) as im:
            assert im.format == "PNG" and im.size[0] > 500
            colours = set(im.convert("RGB").getdata())
        # The prediction's magenta contour is drawn (some pixels are close to pure magenta).
        assert any(r > 200 and g < 80 and b > 200 for r, g, b in colours)


# Error paths run in-process through the same entry point (run_app(SPEC)): the console
# script only adds process start-up, which the tests above already exercise.


def test_verify_reports_every_case(phantom_dataset, capsys) -> None:
    assert run_app(SPEC, ["verify", str(phantom_dataset)]) == 0
    out = capsys.readouterr().out
    assert "4/4 cases OK" in out and "orientation=LPS" in out


def test_predict_refuses_to_overwrite_its_input(trained, phantom_dataset, tmp_path) -> None:
    shutil.copy(phantom_dataset / "imagesTr" / "phantom_000_0000.nii.gz", tmp_path / "scan.nii.gz")
    before = (tmp_path / "scan.nii.gz").read_bytes()
    res = cli(
        "predict", "--checkpoint", str(trained), "--input", str(tmp_path), "--output", str(tmp_path)
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith("gdl-medseg: error:")
    assert "overwrite" in res.stderr and "Traceback" not in res.stderr
    assert (tmp_path / "scan.nii.gz").read_bytes() == before


def test_predict_bad_output_or_checkpoint_exit_2(trained, phantom_dataset, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    images = str(phantom_dataset / "imagesTr")
    argv = ["predict", "--checkpoint", str(trained), "--input", images]
    assert run_app(SPEC, [*argv, "--output", str(blocker / "out")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    argv = ["predict", "--checkpoint", str(tmp_path / "nope.ckpt"), "--input", images]
    assert run_app(SPEC, [*argv, "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "checkpoint not found" in err and "Traceback" not in err
