"""Ensemble output averaging: in probability space for classifiers, as predict does."""

from __future__ import annotations

import pytest
import torch

from gdl_science.training import log_mean_softmax, logit_mean_sigmoid, mean_output


def test_log_mean_softmax_is_the_log_of_the_mean_probability():
    members = [torch.randn(2, 3, 4, 5, 6, dtype=torch.float64) for _ in range(3)]
    combined = log_mean_softmax(members, dim=1)
    mean_p = torch.stack([m.softmax(1) for m in members]).mean(0)
    assert torch.allclose(combined.exp(), mean_p, atol=1e-12)
    assert torch.allclose(combined.softmax(1), mean_p, atol=1e-12)  # a valid logit
    # Unlike the mean of logits, which can pick another class.
    votes = [torch.tensor([[2.0, 0.0]])] * 2 + [torch.tensor([[-10.0, 0.0]])]
    assert mean_output(votes).argmax(1).item() == 1  # one confident member outvotes two
    assert log_mean_softmax(votes).argmax(1).item() == 0  # mean p(class 0) = 0.587


def test_logit_mean_sigmoid_averages_probabilities():
    a, b = torch.tensor([8.0, -1.0]), torch.tensor([-8.0, -1.0])
    out = logit_mean_sigmoid([a, b])
    expected = torch.tensor([0.5, torch.sigmoid(torch.tensor(-1.0))])
    assert torch.allclose(torch.sigmoid(out), expected)
    c, d = torch.tensor([6.0]), torch.tensor([-2.0])
    assert torch.sigmoid(logit_mean_sigmoid([c, d])).item() == pytest.approx(
        (torch.sigmoid(c) + torch.sigmoid(d)).item() / 2, abs=1e-6
    )


def test_mean_output_follows_the_output_structure():
    outs = [
        {"y": torch.ones(2) * k, "stages": [torch.ones(1) * k, torch.ones(3) * 2 * k]}
        for k in (1.0, 3.0)
    ]
    mean = mean_output(outs)
    assert torch.equal(mean["y"], torch.full((2,), 2.0))
    assert torch.equal(mean["stages"][1], torch.full((3,), 4.0))
    with pytest.raises(TypeError, match="cannot average"):
        mean_output(["a", "b"])
