"""predict on bad cases (singular affine, truncated, channel mismatch) and large volumes."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from gdl_medseg.cli import SPEC
from gdl_medseg.layers.sliding_window import sliding_window, window_corners

from gdl_science.cli import run_app


def _singular(path: Path, like: Path) -> None:
    """A copy of ``like`` whose sform is all zeros (and no qform): no orientation."""
    img = nib.load(like)
    out = nib.Nifti1Image(np.asarray(img.dataobj, np.float32), np.eye(4))
    out.header.set_qform(None, code=0)
    out.set_sform(np.zeros((4, 4)), code=1)
    nib.save(out, path)


@pytest.fixture(scope="module")
def mixed(phantom_dataset, tmp_path_factory) -> Path:
    """Two good cases, then a singular affine, a truncated file and a 2-channel case."""
    folder = tmp_path_factory.mktemp("mixed") / "in"
    folder.mkdir()
    src = sorted((phantom_dataset / "imagesTr").glob("*_0000.nii.gz"))
    shutil.copy(src[0], folder / "a_good_0000.nii.gz")
    _singular(folder / "b_singular_0000.nii.gz", src[1])
    data = src[2].read_bytes()
    (folder / "c_truncated_0000.nii.gz").write_bytes(data[: len(data) // 2])
    shutil.copy(src[2], folder / "d_twochannel_0000.nii.gz")
    shutil.copy(src[3], folder / "d_twochannel_0001.nii.gz")
    shutil.copy(src[3], folder / "e_good_0000.nii.gz")
    return folder


def test_bad_cases_go_to_the_error_report_and_every_good_case_is_written(
    trained, mixed, tmp_path, capsys
):
    out = tmp_path / "out"
    argv = ["predict", "--checkpoint", str(trained), "--input", str(mixed), "--output", str(out)]
    assert run_app(SPEC, argv) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "3 bad record(s)" in err
    assert sorted(p.name for p in out.iterdir()) == ["a_good.nii.gz", "e_good.nii.gz"]
    rows = (tmp_path / "out.errors.tsv").read_text().splitlines()
    reasons = dict(line.split("\t", 1) for line in rows[1:])
    assert set(reasons) == {"b_singular", "c_truncated", "d_twochannel"}
    assert "singular affine" in reasons["b_singular"]
    assert "b_singular_0000.nii.gz" in reasons["b_singular"]
    assert "cannot read NIfTI" in reasons["c_truncated"]
    assert "d_twochannel_0001.nii.gz" in reasons["d_twochannel"]
    assert "takes 1 channel(s)" in reasons["d_twochannel"]


def test_a_single_bad_file_is_exit_2(trained, mixed, tmp_path, capsys):
    for name, reason in (
        ("b_singular_0000.nii.gz", "singular affine"),
        ("d_twochannel_0000.nii.gz", "takes 1 channel(s)"),
    ):
        argv = ["predict", "--checkpoint", str(trained), "--input", str(mixed / name),
                "--output", str(tmp_path / name)]
        assert run_app(SPEC, argv) == 2
        assert reason in (tmp_path / f"{name}.errors.tsv").read_text()
    assert "Traceback" not in capsys.readouterr().err


def test_bad_window_batch_is_a_usage_error(trained, mixed, tmp_path, capsys):
    argv = ["predict", "--checkpoint", str(trained), "--input", str(mixed),
            "--output", str(tmp_path / "o"), "--window-batch", "0"]
    assert run_app(SPEC, argv) == 2
    assert "--window-batch 0" in capsys.readouterr().err


class _Echo(torch.nn.Module):
    """Class 1 wins where the input is positive; counts the windows it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.windows = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.windows += x.shape[0]
        return torch.cat([torch.zeros_like(x), 10 * x], dim=1)


def _air_volume() -> np.ndarray:
    """(1, 40, 36, 30): air (-10) everywhere but a tissue block with positive spots."""
    rng = np.random.default_rng(0)
    image = np.full((1, 40, 36, 30), -10.0, np.float32)
    image[0, 4:14, 5:15, 3:13] = rng.normal(size=(10, 10, 10))
    return image


def test_skipping_background_windows_gives_identical_output_where_they_are_empty():
    image = _air_volume()
    full, skipping = _Echo(), _Echo()
    expected = sliding_window([full], image, 11, 2, overlap=0.5, window_batch=3)
    background = image[0] < -5  # the skipped windows see only air (class 0 for certain)
    got = sliding_window([skipping], image, 11, 2, 0.5, 3, background=background)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert np.array_equal(got.argmax(0), expected.argmax(0))
    n = len(window_corners(image.shape[1:], 11, 0.5))
    assert full.windows == n and 0 < skipping.windows < n / 3


def test_windows_of_one_case_show_progress(monkeypatch, capsys):
    monkeypatch.delenv("GDL_NO_PROGRESS", raising=False)
    sliding_window([_Echo()], _air_volume(), 11, 2, 0.5, window_batch=4, desc="bigcase")
    err = capsys.readouterr().err
    n = len(window_corners((40, 36, 30), 11, 0.5))
    assert "bigcase" in err and f"{n}/{n}" in err and "window" in err
