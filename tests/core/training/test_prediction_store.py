"""PredictionStore keeps (preds, target) rows aligned, missing targets included."""

from __future__ import annotations

import torch

from gdl_science.training import PredictionStore


def test_missing_targets_stay_in_their_rows():
    store = PredictionStore()
    assert store.compute() is None
    store.update(torch.tensor([[0.9, 0.2], [0.8, 0.7]]), torch.tensor([[1.0, float("nan")],
                                                                      [1.0, 0.0]]))
    store.update(torch.tensor([[0.1, 0.6]]), torch.tensor([[float("nan"), 1.0]]))
    preds, target = store.compute()
    assert preds.shape == target.shape == (3, 2)
    assert torch.isnan(target[0, 1]) and torch.isnan(target[2, 0])
    assert target[1].tolist() == [1.0, 0.0]
    assert torch.allclose(preds[2], torch.tensor([0.1, 0.6]))
    store.reset()
    assert store.compute() is None
