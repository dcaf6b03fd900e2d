"""dna under DDP (2 CPU processes, gloo) equals the single-process run to rounding."""

from __future__ import annotations

import pytest

from tests.ddp_helpers import (
    fit_single_and_ddp,
    last_checkpoint,
    logged_metric,
    max_weight_difference,
)


@pytest.mark.ddp
def test_two_process_fit_equals_one_process_at_the_same_global_batch(tmp_path):
    # Same global batch and data order. The RC batch norm sums its statistics (forward)
    # and their gradients (backward) over ranks, as SyncBatchNorm does, so both runs
    # normalise with the global batch. Dropouts off: their masks are drawn per rank.
    one, two = fit_single_and_ddp(
        "dna",
        "configs/dna/small.yaml",
        tmp_path,
        32,
        ["--model.optimizer=sgd", "--model.lr=0.05", "--model.dropout=0",
         "--model.trunk_dropout=0"],
    )
    assert max_weight_difference(last_checkpoint(one), last_checkpoint(two)) < 1e-5
    for metric in ("val/loss", "train/loss_epoch", "val/auroc"):
        a, b = logged_metric(one, metric), logged_metric(two, metric)
        assert len(a) == len(b) == 2
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4 * max(1.0, max(a))
