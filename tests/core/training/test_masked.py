"""The core's masked loss and metric: missing targets contribute nothing."""

from __future__ import annotations

import math

import pytest
import torch
from torchmetrics.regression import MeanSquaredError

from gdl_science.training import MaskedTaskMetric, masked_loss

NAN = float("nan")


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_masked_loss_equals_the_loss_over_present_targets(kind):
    out = torch.tensor([[0.3, -1.0], [2.0, 0.5], [-0.7, 1.5]], requires_grad=True)
    target = torch.tensor([[1.0, NAN], [0.0, 1.0], [NAN, 0.0]])
    loss = masked_loss(out, target, kind)
    keep = ~torch.isnan(target)
    if kind == "binary":
        ref = torch.nn.functional.binary_cross_entropy_with_logits(out[keep], target[keep])
    else:
        ref = torch.nn.functional.mse_loss(out[keep], target[keep])
    assert torch.allclose(loss, ref)
    loss.backward()
    assert out.grad[0, 1] == 0 and out.grad[2, 0] == 0 and out.grad[1, 1] != 0


def test_all_missing_targets_give_zero_loss_with_a_graph():
    out = torch.randn(4, 2, requires_grad=True)
    loss = masked_loss(out, torch.full((4, 2), NAN), "regression")
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()  # DDP ranks stay in step: every parameter still gets a gradient


def test_multiclass_ignores_minus_one():
    out = torch.randn(3, 4)
    target = torch.tensor([2, -1, 0])
    ref = torch.nn.functional.cross_entropy(out[[0, 2]], target[[0, 2]])
    assert torch.allclose(masked_loss(out, target, "multiclass"), ref)


def test_per_task_weight():
    out = torch.zeros(2, 2)
    target = torch.tensor([[1.0, 1.0], [1.0, NAN]])
    weighted = masked_loss(out, target, "regression", weight=torch.tensor([1.0, 3.0]))
    assert math.isclose(float(weighted), (1 + 3 + 1) / 3, rel_tol=1e-6)


def test_masked_task_metric_scores_one_column_without_its_gaps():
    metric = MaskedTaskMetric(MeanSquaredError(), task=1)
    preds = torch.tensor([[0.0, 1.0], [0.0, 5.0], [0.0, 2.0]])
    target = torch.tensor([[1.0, 0.0], [1.0, NAN], [1.0, 2.0]])
    metric.update(preds, target)
    assert math.isclose(float(metric.compute()), 0.5)
    empty = MaskedTaskMetric(MeanSquaredError(), task=0, min_samples=2)
    empty.update(torch.zeros(1, 1), torch.tensor([[NAN]]))
    assert math.isnan(float(empty.compute()))
