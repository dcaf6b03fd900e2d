"""fit keeps best.ckpt (the best validation epoch, not the last), last.ckpt, metrics.png,
and stops early on request."""

from __future__ import annotations

import re

import torch
from matplotlib.image import imread

from gdl_science.cli import run_app
from gdl_science.cli.learning_curves import read_csv_log
from tests.core.toy_app import SPEC


def fit(root, *extra: str) -> int:
    return run_app(
        SPEC,
        [
            "fit",
            "--trainer.max_epochs=6",
            f"--trainer.default_root_dir={root}",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            "--model.width=6",
            *extra,
        ],
    )


def test_best_checkpoint_is_the_best_epoch_not_the_last(tmp_path, capsys):
    # Weights are scrambled from epoch 3 on: val/mse is worse there than at epochs 0-2.
    assert fit(tmp_path, "--model.scramble_from_epoch=3") == 0
    err = capsys.readouterr().err
    (best,) = tmp_path.glob("**/checkpoints/best.ckpt")
    (last,) = tmp_path.glob("**/checkpoints/last.ckpt")
    curves = read_csv_log(next(tmp_path.glob("**/metrics.csv")))
    val = curves["val/mse"]
    best_epoch = min(val, key=val.get)
    assert best_epoch < 3 <= max(val)
    saved = torch.load(best, map_location="cpu", weights_only=True)
    assert saved["epoch"] == best_epoch
    assert torch.load(last, map_location="cpu", weights_only=True)["epoch"] == max(val)
    shown = re.search(r"best checkpoint: (\S+best\.ckpt) \(val/mse=([0-9.e+-]+)\)", err)
    assert shown, err[-2000:]
    assert abs(float(shown.group(2)) - val[best_epoch]) <= 1e-3 * max(val[best_epoch], 1e-6)
    assert f"last checkpoint: {last}" in err


def test_metrics_png_has_the_learning_curves(tmp_path, capsys):
    assert fit(tmp_path) == 0
    (png,) = tmp_path.glob("**/checkpoints/metrics.png")
    image = imread(png)  # decodes: a real PNG
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 200
    curves = read_csv_log(next(tmp_path.glob("**/metrics.csv")))
    for name in ("train/loss_epoch", "val/loss", "val/mse"):
        assert len(curves[name]) >= 2, name
    assert f"learning curves: {png}" in capsys.readouterr().err


def test_early_stopping_ends_the_fit_when_val_stops_improving(tmp_path):
    assert fit(tmp_path, "--model.scramble_from_epoch=1", "--early_stopping_patience=1") == 0
    curves = read_csv_log(next(tmp_path.glob("**/metrics.csv")))
    assert max(curves["val/mse"]) < 5  # stopped before the 6 epochs ran out


def test_without_validation_best_ckpt_is_the_last_epoch_and_says_so(tmp_path, capsys):
    assert fit(tmp_path, "--trainer.limit_val_batches=0", "--trainer.max_epochs=2") == 0
    err = capsys.readouterr().err
    (best,) = tmp_path.glob("**/checkpoints/best.ckpt")
    assert f"best checkpoint: {best} (no val/mse was logged" in err
    assert torch.load(best, map_location="cpu", weights_only=True)["epoch"] == 1
