"""Suite-wide test settings: quiet progress bars, small thread pools, offline."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("GDL_NO_PROGRESS", "1")
# Inherited by the console scripts the CLI and DDP tests start.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# One thread: CI has 2 cores, and DDP tests run two processes; oversubscribed threads
# make small models up to 50x slower (measured on this machine).
torch.set_num_threads(1)

DISTRIBUTED_ENV = ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK", "NODE_RANK",
                   "LOCAL_WORLD_SIZE", "PL_GLOBAL_SEED", "PL_SEED_WORKERS")


@pytest.fixture(autouse=True)
def no_leaked_process_group():
    """An in-process fit with strategy ddp leaves a process group and MASTER_PORT behind;
    the next DDP run (in-process or a child inheriting the environment) would then fail
    with 'address already in use'. Restore both after every test."""
    saved = {k: os.environ.get(k) for k in DISTRIBUTED_ENV}
    yield
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
