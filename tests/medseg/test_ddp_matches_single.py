"""medseg under DDP (2 CPU processes, gloo) follows the single-process run."""

from __future__ import annotations

import pytest

from tests.ddp_helpers import (
    fit_single_and_ddp,
    last_checkpoint,
    logged_metric,
    max_weight_difference,
)


@pytest.mark.ddp
def test_two_process_fit_matches_one_process_at_the_same_global_batch(tmp_path):
    # Patches are a pure function of (seed, epoch, index), instance norm is per sample and
    # the batch Dice statistics are summed over ranks, so DDP is the same computation as
    # one process with the same global batch. SGD: updates linear in the gradient.
    one, two = fit_single_and_ddp(
        "medseg",
        "configs/medseg/small.yaml",
        tmp_path,
        2,
        [
            "--model.optimizer=sgd",
            "--model.lr=0.05",
            "--trainer.max_epochs=2",
            f"--data.cache_dir={tmp_path / 'cache'}",
            "--data.num_workers=0",
        ],
    )
    assert max_weight_difference(last_checkpoint(one), last_checkpoint(two)) < 1e-4
    for metric in ("val/loss", "train/loss_epoch"):
        a, b = logged_metric(one, metric), logged_metric(two, metric)
        assert len(a) == len(b) == 2
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4 * max(1.0, max(a))
