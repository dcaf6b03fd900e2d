"""Data: dataset.json, verification of every bad-input kind, RAS, plan, cache, patches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from gdl_medseg.cli import SPEC
from gdl_medseg.data.cache import build_cache
from gdl_medseg.data.layout import Volume, read_spec, training_cases
from gdl_medseg.data.phantoms import PhantomConfig, make_case, write_dataset
from gdl_medseg.data.preprocess import Plan, choose_spacing, preprocess_image, to_ras
from gdl_medseg.data.sampler import PatchDataset
from gdl_medseg.data.verify import verify_dataset

from gdl_science.cli import run_app
from gdl_science.io import UserInputError


@pytest.fixture
def dataset(phantom_dataset, tmp_path) -> Path:
    """A private copy of the 4-case phantom dataset that a test may break."""
    return Path(shutil.copytree(phantom_dataset, tmp_path / "ds"))


def _save(path: Path, data: np.ndarray, affine: np.ndarray) -> None:
    nib.save(nib.Nifti1Image(data, affine), path)


def _problems(root: Path) -> dict[str, list[str]]:
    _, reports = verify_dataset(root, show_progress=False)
    return {r.id: r.problems for r in reports if r.problems}


def test_clean_dataset_verifies(phantom_dataset):
    spec, reports = verify_dataset(phantom_dataset, show_progress=False)
    assert all(r.ok for r in reports) and len(reports) == 4
    assert spec.label_names == ["background", "rod", "disc", "ball"]
    assert {r.orientation for r in reports} == {"RAS", "LPS"}


def test_every_bad_input_kind_is_named_with_file_and_case(dataset):
    img = dataset / "imagesTr"
    lab = dataset / "labelsTr"
    ref = nib.load(img / "phantom_000_0000.nii.gz")
    shape, aff = ref.shape, ref.affine
    # corrupt / truncated image
    data = (img / "phantom_000_0000.nii.gz").read_bytes()
    (img / "phantom_000_0000.nii.gz").write_bytes(data[: len(data) // 3])
    # 4D image
    _save(img / "phantom_001_0000.nii.gz", np.zeros((*shape, 3), np.float32), aff)
    # label with undeclared value and non-integer values in other cases
    lbl = np.asarray(nib.load(lab / "phantom_002.nii.gz").dataobj).astype(np.float32)
    lbl[0, 0, 0] = 7
    _save(lab / "phantom_002.nii.gz", lbl, aff)
    shifted = aff.copy()
    shifted[0, 3] += 5
    _save(
        lab / "phantom_003.nii.gz",
        np.asarray(nib.load(lab / "phantom_003.nii.gz").dataobj),
        shifted,
    )
    # a case whose label is missing, one with a missing channel file, an empty label, NaNs
    extra = make_case(PhantomConfig(size=24), 9)
    _save(img / "nolabel_0000.nii.gz", extra[0], extra[2])
    _save(lab / "nochannel.nii.gz", extra[1], extra[2])
    _save(img / "empty_0000.nii.gz", extra[0], extra[2])
    _save(lab / "empty.nii.gz", np.zeros_like(extra[1]), extra[2])
    nan = extra[0].copy()
    nan[3, 3, 3] = np.nan
    _save(img / "nan_0000.nii.gz", nan, extra[2])
    _save(lab / "nan.nii.gz", extra[1], extra[2])
    small = extra[1][:-2]
    _save(img / "shape_0000.nii.gz", extra[0], extra[2])
    _save(lab / "shape.nii.gz", small, extra[2])
    frac = extra[1].astype(np.float32) * 0.5
    _save(img / "frac_0000.nii.gz", extra[0], extra[2])
    _save(lab / "frac.nii.gz", frac, extra[2])
    found = _problems(dataset)
    expect = {
        "phantom_000": "cannot read NIfTI",
        "phantom_001": "expected a 3D image",
        "phantom_002": "[7] are not declared",
        "phantom_003": "affine differs",
        "nolabel": "label file",
        "empty": "empty foreground",
        "nan": "NaN/inf voxels",
        "shape": "shape (22, 24, 24) differs",
        "frac": "not integers",
    }
    assert set(found) == set(expect)
    for case, text in expect.items():
        joined = " ".join(found[case])
        assert text in joined, (case, joined)
    assert "phantom_000_0000.nii.gz" in found["phantom_000"][0]


def test_missing_channel_is_reported(dataset):
    meta = json.loads((dataset / "dataset.json").read_text())
    meta["channel_names"] = {"0": "MR", "1": "MR"}
    (dataset / "dataset.json").write_text(json.dumps(meta))
    found = _problems(dataset)
    assert len(found) == 4
    assert "missing channel file(s) phantom_000_0001.nii.gz" in found["phantom_000"][0]


def test_verify_and_fit_exit_2_on_a_bad_dataset(dataset, capsys, tmp_path):
    lab = dataset / "labelsTr" / "phantom_002.nii.gz"
    img = nib.load(lab)
    bad = np.asarray(img.dataobj).copy()
    bad[1, 1, 1] = 9
    _save(lab, bad, img.affine)
    assert run_app(SPEC, ["verify", str(dataset)]) == 2
    err = capsys.readouterr().err
    assert "gdl-medseg: error: case phantom_002:" in err and "phantom_002.nii.gz" in err
    code = run_app(
        SPEC,
        [
            "fit",
            "--config",
            "configs/medseg/small.yaml",
            "--data.path",
            str(dataset),
            "--data.cache_dir",
            str(tmp_path / "c"),
            "--trainer.default_root_dir",
            str(tmp_path),
        ],
    )
    assert code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("gdl-medseg: error:") and "phantom_002" in last and "[9]" in last


def test_dataset_json_errors(tmp_path):
    with pytest.raises(UserInputError, match=r"dataset\.json: not found"):
        read_spec(tmp_path)
    (tmp_path / "dataset.json").write_text("{not json")
    with pytest.raises(UserInputError, match="not valid JSON"):
        read_spec(tmp_path)
    (tmp_path / "dataset.json").write_text(
        json.dumps({"channel_names": {"0": "CT"}, "labels": {"background": 0, "liver": 2}})
    )
    with pytest.raises(UserInputError, match=r"label values must be 0\.\.1"):
        read_spec(tmp_path)


def test_reorientation_makes_stored_orientation_irrelevant():
    image, _, affine = make_case(PhantomConfig(size=16), 0)  # stored RAS
    lps = image[::-1, ::-1].copy()
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    shift = np.eye(4)
    shift[:2, 3] = 15
    lps_affine = affine @ shift @ flip
    a, aff_a = to_ras(image, affine)
    b, aff_b = to_ras(lps, lps_affine)
    assert np.array_equal(a, b) and np.allclose(aff_a, aff_b)
    plan = Plan((1.0, 1.0, 1.0), ("zscore",), (0.0, 0.0, 0.0, 1.0))
    pa = preprocess_image([Volume(image, affine, nib.Nifti1Header())], plan)[0]
    pb = preprocess_image([Volume(lps, lps_affine, nib.Nifti1Header())], plan)[0]
    np.testing.assert_allclose(pa, pb, atol=1e-6)
    assert abs(pa.mean()) < 1e-5 and abs(pa.std() - 1) < 1e-4


def test_anisotropic_data_switches_to_inplane_rotations(tmp_path, caplog):
    root = write_dataset(tmp_path / "aniso", PhantomConfig(cases=2, size=24, anisotropic=True))
    spacing, rotations = choose_spacing(np.array([[1.0, 1.0, 3.0], [0.9, 0.9, 3.2]]))
    assert rotations == "inplane" and spacing == (0.95, 0.95, 3.1)
    assert choose_spacing(np.array([[1.0, 1.2, 1.5]]))[1] == "octahedral"
    spec = read_spec(root)
    data = build_cache(root, spec, training_cases(root, spec), tmp_path / "cache")
    assert data.plan.rotations == "inplane" and data.plan.target_spacing == (1.0, 1.0, 4.0)
    assert "anisotropic" in caplog.text


def test_ct_channels_get_clipped_global_zscore(tmp_path):
    root = write_dataset(tmp_path / "ct", PhantomConfig(cases=2, size=16))
    meta = json.loads((root / "dataset.json").read_text())
    meta["channel_names"] = {"0": "CT"}
    (root / "dataset.json").write_text(json.dumps(meta))
    spec = read_spec(root)
    data = build_cache(root, spec, training_cases(root, spec), tmp_path / "cache")
    lo, hi, mean, std = data.plan.intensity_stats
    assert data.plan.channel_norm == ("ct",) and lo < mean < hi and std > 0
    case = data.case(data.case_ids[0])
    expect_max = (hi - mean) / std
    assert case.image.max() <= expect_max + 1e-4  # clipped at the 99.5th percentile


def test_cache_is_memory_mapped_and_reused(phantom_dataset, tmp_path):
    spec = read_spec(phantom_dataset)
    cases = training_cases(phantom_dataset, spec)
    first = build_cache(phantom_dataset, spec, cases, tmp_path)
    stamp = (first.folder / "plan.json").stat().st_mtime_ns
    second = build_cache(phantom_dataset, spec, cases, tmp_path)
    assert second.folder == first.folder
    assert (second.folder / "plan.json").stat().st_mtime_ns == stamp
    case = second.case("phantom_000")
    assert isinstance(case.image, np.memmap) and case.image.shape == (1, 24, 24, 24)
    assert case.label.dtype == np.uint8 and set(np.unique(case.foreground[:, 0])) == {1, 2, 3}
    assert not list(tmp_path.glob(".*"))  # no temporary folder left behind


def test_patches_oversample_foreground_and_are_reproducible(phantom_dataset, tmp_path):
    spec = read_spec(phantom_dataset)
    data = build_cache(phantom_dataset, spec, training_cases(phantom_dataset, spec), tmp_path)
    cases = [data.case(i) for i in data.case_ids]
    always = PatchDataset(cases, 9, 40, foreground_fraction=1.0, seed=1)
    never = PatchDataset(cases, 9, 40, foreground_fraction=0.0, seed=1)
    fg_always = np.mean([(always[i][1] > 0).any().item() for i in range(40)])
    fg_never = np.mean([(never[i][1] > 0).any().item() for i in range(40)])
    assert fg_always == 1.0 and fg_never < 0.9
    image, label = always[3]
    assert image.shape == (1, 9, 9, 9) and label.shape == (9, 9, 9)
    assert np.array_equal(always[3][0], image)
    always.set_epoch(1)
    assert not np.array_equal(always[3][0], image)
    big = PatchDataset(cases, 33, 2, seed=0)  # larger than the 24^3 cases: zero padded
    assert big[0][0].shape == (1, 33, 33, 33)


def test_mixed_image_dtypes_and_whole_float_labels_are_accepted(dataset, tmp_path):
    """As in MSD Hippocampus: uint8 images in some cases, float32 in others, and labels
    stored as float32 with whole values. All verify, and preprocess to the same result as
    the float32 originals (per-case z-score; labels exact)."""
    img, lab = dataset / "imagesTr", dataset / "labelsTr"
    original = np.asarray(nib.load(img / "phantom_001_0000.nii.gz").dataobj)
    aff = nib.load(img / "phantom_001_0000.nii.gz").affine
    as_uint8 = np.clip(np.rint(original * 100), 0, 255).astype(np.uint8)
    _save(img / "phantom_001_0000.nii.gz", as_uint8, aff)
    label_affine = nib.load(lab / "phantom_002.nii.gz").affine
    label = np.asarray(nib.load(lab / "phantom_002.nii.gz").dataobj)
    _save(lab / "phantom_002.nii.gz", label.astype(np.float32), label_affine)
    assert nib.load(img / "phantom_001_0000.nii.gz").get_data_dtype() == np.uint8
    assert nib.load(lab / "phantom_002.nii.gz").get_data_dtype() == np.float32
    assert _problems(dataset) == {}
    spec = read_spec(dataset)
    data = build_cache(dataset, spec, training_cases(dataset, spec), tmp_path / "cache")
    image = np.asarray(data.case("phantom_001").image)
    assert image.dtype == np.float32 and abs(image.mean()) < 1e-3 and abs(image.std() - 1) < 1e-2
    cached = np.asarray(data.case("phantom_002").label)
    ras_label, _ = to_ras(label.astype(np.uint8), label_affine)
    np.testing.assert_array_equal(cached, ras_label)


def test_non_integer_label_is_refused_naming_the_case(dataset, tmp_path, capsys):
    lab = dataset / "labelsTr"
    label = np.asarray(nib.load(lab / "phantom_003.nii.gz").dataobj).astype(np.float32)
    label[label == 2] = 1.5
    _save(lab / "phantom_003.nii.gz", label, nib.load(lab / "phantom_003.nii.gz").affine)
    problems = _problems(dataset)
    assert list(problems) == ["phantom_003"]
    assert "phantom_003.nii.gz: label values are not integers" in problems["phantom_003"][0]
    code = run_app(
        SPEC,
        ["fit", "--config", "configs/medseg/small.yaml", "--data.path", str(dataset),
         "--data.cache_dir", str(tmp_path / "c"), "--trainer.default_root_dir", str(tmp_path)],
    )
    err = capsys.readouterr().err
    assert code == 2 and "case phantom_003" in err and "not integers" in err
