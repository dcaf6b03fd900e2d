"""Fixtures shared by the dna tests: a small trained-looking checkpoint and a genome."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from gdl_dna.task import DNATask

from tests.dna.test_variant_effect import TINY


@pytest.fixture(scope="module")
def genome_seqs() -> dict[str, str]:
    rng = np.random.default_rng(0)
    return {c: "".join(rng.choice(list("ACGT"), n)) for c, n in (("chr1", 400), ("chr2", 150))}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A small invariant-head model with non-trivial batch-norm statistics."""
    torch.manual_seed(0)
    task = DNATask(label_names=["a", "b"], sequence_length=64, **TINY)
    task.train()
    rng = np.random.default_rng(1)
    with torch.no_grad():
        for _ in range(3):
            x = torch.nn.functional.one_hot(torch.from_numpy(rng.integers(0, 4, (8, 64))), 4)
            task.net(x.transpose(1, 2).float())
    path = tmp_path_factory.mktemp("ckpt") / "model.ckpt"
    torch.save({"state_dict": task.state_dict(), "hyper_parameters": dict(task.hparams)}, path)
    return path


