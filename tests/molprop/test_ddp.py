"""molprop under DDP (2 CPU processes, gloo) follows the single-process run."""

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
    # SGD keeps updates linear in the gradient (Adam would amplify 1e-8 rounding noise in
    # near-zero gradients into lr-sized steps); the model has no batch statistics, and no
    # dropout (its masks are drawn per process).
    one, two = fit_single_and_ddp(
        "molprop",
        "configs/molprop/small.yaml",
        tmp_path,
        16,
        ["--model.optimizer=sgd", "--model.lr=0.05", "--model.dropout=0"],
    )
    assert max_weight_difference(last_checkpoint(one), last_checkpoint(two)) < 1e-5
    for metric in ("val/loss", "train/loss_epoch"):
        a, b = logged_metric(one, metric), logged_metric(two, metric)
        assert len(a) == len(b) == 2
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4 * max(1.0, max(a))
