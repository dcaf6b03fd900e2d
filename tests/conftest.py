"""Suite-wide test settings: quiet progress bars, small thread pools, offline."""

from __future__ import annotations

import os

import torch

os.environ.setdefault("GDL_NO_PROGRESS", "1")
# Inherited by the console scripts the CLI and DDP tests start.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# One thread: CI has 2 cores, and DDP tests run two processes; oversubscribed threads
# make small models up to 50x slower (measured on this machine).
torch.set_num_threads(1)
