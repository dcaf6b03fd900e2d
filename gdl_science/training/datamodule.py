"""Base DataModule conventions: one path, seeded splits, seeded workers."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset

from gdl_science.training.splits import nested_subset, split_indices

__all__ = ["GDLDataModule", "seed_worker", "shuffle_seed", "split_indices"]


def shuffle_seed(data_seed: int) -> int:
    """The seed of the training shuffle: Lightning seeds its DDP sampler from
    ``seed_everything`` (PL_GLOBAL_SEED), so a single process does the same."""
    return int(os.environ.get("PL_GLOBAL_SEED", data_seed))


def seed_worker(worker_id: int) -> None:
    """Give every DataLoader worker its own numpy seed derived from torch's."""
    np.random.seed(torch.initial_seed() % 2**32)


class GDLDataModule(pl.LightningDataModule):
    """Holds the options every app shares; subclasses build datasets in ``setup``.

    A subclass fills ``self.datasets`` (``train``, ``val``, ``test``) in ``setup`` and may
    set ``self.collate_fn``; the three loaders come from here (training shuffled).
    """

    collate_fn: Callable[[Sequence[Any]], Any] | None = None

    def __init__(
        self,
        path: str | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        seed: int = 0,
        train_fraction: float = 1.0,
        subset_seed: int = 0,
    ) -> None:
        super().__init__()
        self.path = path
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        # A nested share of the training split (``nested_subset``): the validation and
        # test splits never change with it. Used by prior-report's training fractions.
        nested_subset([], train_fraction, subset_seed)  # validates the fraction early
        self.train_fraction = train_fraction
        self.subset_seed = subset_seed
        self.datasets: dict[str, Dataset] = {}

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

    def training_subset(self, dataset: Dataset) -> Dataset:
        """The training set restricted to ``train_fraction`` (nested by ``subset_seed``)."""
        if self.train_fraction >= 1:
            return dataset
        return Subset(dataset, nested_subset(range(len(dataset)), self.train_fraction,
                                             self.subset_seed))  # type: ignore[arg-type]

    def _stage_loader(self, stage: str) -> DataLoader:
        if stage not in self.datasets:
            raise RuntimeError(f"{type(self).__name__}.setup() built no {stage!r} dataset")
        dataset = self.datasets[stage]
        if stage == "train":
            dataset = self.training_subset(dataset)
        return self.make_loader(dataset, shuffle=stage == "train", collate_fn=self.collate_fn)

    def train_dataloader(self) -> DataLoader:
        return self._stage_loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._stage_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._stage_loader("test")
