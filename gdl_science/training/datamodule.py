"""Base DataModule conventions: one path, seeded splits, seeded workers."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler


def split_indices(
    n: int, val_fraction: float, test_fraction: float, seed: int
) -> tuple[list[int], list[int], list[int]]:
    """A seeded random train/val/test split of range(n); each split non-empty when n >= 3."""
    if not 0 <= val_fraction < 1 or not 0 <= test_fraction < 1 or val_fraction + test_fraction >= 1:
        raise ValueError(f"bad split fractions: val={val_fraction}, test={test_fraction}")
    order = np.random.default_rng(seed).permutation(n).tolist()
    n_val = round(n * val_fraction)
    n_test = round(n * test_fraction)
    if n >= 3:
        n_val = max(n_val, 1) if val_fraction > 0 else 0
        n_test = max(n_test, 1) if test_fraction > 0 else 0
    val, test = order[:n_val], order[n_val : n_val + n_test]
    train = order[n_val + n_test :]
    return sorted(train), sorted(val), sorted(test)


def shuffle_seed(data_seed: int) -> int:
    """The seed of the training shuffle: Lightning seeds its DDP sampler from
    ``seed_everything`` (PL_GLOBAL_SEED), so a single process does the same."""
    return int(os.environ.get("PL_GLOBAL_SEED", data_seed))


def seed_worker(worker_id: int) -> None:
    """Give every DataLoader worker its own numpy seed derived from torch's."""
    np.random.seed(torch.initial_seed() % 2**32)


class GDLDataModule(pl.LightningDataModule):
    """Holds the options every app shares; subclasses build datasets in ``setup``."""

    def __init__(
        self,
        path: str | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.path = path
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed

    def make_loader(
        self,
        dataset: Dataset,
        shuffle: bool,
        collate_fn: Callable[[Sequence[Any]], Any] | None = None,
        batch_size: int | None = None,
        drop_last: bool = False,
    ) -> DataLoader:
        """A DataLoader with seeded shuffling and workers.

        Shuffling uses a DistributedSampler for every world size (one replica on a single
        process): all ranks draw the same seeded permutation per epoch and deal it out
        round-robin, so the union of the ranks' k-th batches is exactly the
        single-process k-th batch. A run's data order, and so its result, does not depend
        on the number of processes for a fixed global batch. Unshuffled (val/test)
        loaders are sharded by Lightning.
        """
        sampler = None
        if shuffle:
            # Built here for every world size (Lightning leaves a DistributedSampler alone).
            distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
            world = torch.distributed.get_world_size() if distributed else 1
            rank = torch.distributed.get_rank() if distributed else 0
            sampler = DistributedSampler(
                dataset, num_replicas=world, rank=rank, shuffle=True, seed=shuffle_seed(self.seed)
            )
        return DataLoader(
            dataset,
            batch_size=batch_size or self.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=collate_fn,
            worker_init_fn=seed_worker,
            persistent_workers=self.num_workers > 0,
            drop_last=drop_last,
        )
