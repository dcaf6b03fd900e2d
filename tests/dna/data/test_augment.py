"""Training augmentations of one-hot sequences: bounded trims, point mutations, inputs kept."""

from __future__ import annotations

import numpy as np
import torch
from gdl_dna.data.alphabet import encode
from gdl_dna.data.augment import augment_one_hots


def _batch(n: int = 64, length: int = 50) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [encode("".join(rng.choice(list("ACGT"), length))) for _ in range(n)]


def test_shift_trims_at_most_shift_bases_from_the_two_ends_in_total():
    items = _batch()
    out = augment_one_hots(items, torch.Generator().manual_seed(0), shift=6)
    lengths = {x.shape[1] for x in out}
    assert min(lengths) >= 44 and max(lengths) == 50 and len(lengths) > 3
    for x, y in zip(items, out):  # what is left is a contiguous piece of the input
        cut = 50 - y.shape[1]
        assert any(np.array_equal(x[:, a : 50 - (cut - a)], y) for a in range(cut + 1))


def test_mutate_changes_about_the_given_fraction_and_keeps_one_hot():
    items = _batch(200, 100)
    before = [x.copy() for x in items]
    out = augment_one_hots(items, torch.Generator().manual_seed(1), mutate=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(items, before))  # inputs untouched
    stacked = np.stack(out)
    assert np.allclose(stacked.sum(1), 1.0)
    changed = (np.stack(items) != stacked).any(1).mean()
    assert 0.06 < changed < 0.09  # 0.1 redrawn, a quarter of them to the same base


def test_no_augmentation_returns_the_items_and_a_seed_repeats():
    items = _batch(8)
    assert augment_one_hots(items, torch.Generator()) == items
    a = augment_one_hots(items, torch.Generator().manual_seed(3), shift=4, mutate=0.05)
    b = augment_one_hots(items, torch.Generator().manual_seed(3), shift=4, mutate=0.05)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
