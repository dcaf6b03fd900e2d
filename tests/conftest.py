"""Suite-wide test settings: quiet progress bars, small thread pools, offline."""

from __future__ import annotations

import os

import torch

os.environ.setdefault("GDL_NO_PROGRESS", "1")
# Two cores on CI: more threads than cores only adds contention.
torch.set_num_threads(min(2, os.cpu_count() or 1))
