"""Per-step schedules: their shape, and that a wall-clock budget anneals them in time."""

from __future__ import annotations

import itertools

import lightning.pytorch as pl
import pytest
import torch

from gdl_science.training.schedules import build_schedule, lr_factor
from tests.core.toy_app import ToyData, ToyTask


def quiet_trainer(tmp_path, callback: pl.Callback, **limits) -> pl.Trainer:
    """A Trainer without logger, bars or checkpoints, with one recording callback."""
    return pl.Trainer(
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=tmp_path,
        callbacks=[callback],
        **limits,
    )


@pytest.mark.parametrize("name", ["cosine", "poly"])
def test_schedules_warm_up_then_anneal_to_zero(name):
    factors = [lr_factor(name, s, 100, 10) for s in range(101)]
    assert factors[0] == pytest.approx(0.01)
    assert max(factors) == pytest.approx(1.0, abs=1e-9)
    assert factors[-1] == pytest.approx(0.0, abs=1e-9)
    after_warmup = factors[10:]
    assert all(a >= b for a, b in itertools.pairwise(after_warmup))


def test_time_progress_advances_the_schedule_past_the_step_fraction():
    # 10 of 1,000 steps done but 75 % of the time budget spent: time decides.
    assert lr_factor("poly", 10, 1000, 0, time_progress=0.75) == pytest.approx(0.25**0.9)
    assert lr_factor("cosine", 10, 1000, 0, time_progress=1.0) == pytest.approx(0.0)
    # Steps further along than time: steps decide.
    assert lr_factor("poly", 900, 1000, 0, time_progress=0.1) == pytest.approx(0.1**0.9)
    # No step plan at all (max_epochs=-1): time alone.
    assert lr_factor("cosine", 5, None, 0, time_progress=0.5) == pytest.approx(0.5)
    assert lr_factor("constant", 5, 100, 0, time_progress=0.9) == 1.0


def test_build_schedule_reads_the_time_progress_at_every_step():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    progress = {"t": 0.0}
    sched = build_schedule(opt, "poly", 10_000, 0, lambda: progress["t"])
    progress["t"] = 0.5
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5**0.9)


def test_a_time_budgeted_fit_anneals_the_rate_before_the_budget_ends(tmp_path):
    # 20 epochs would be ~1,000 steps; the 3-second budget ends the fit long before.
    # Without the time term the rate would still be ~1.0x; with it, it is near zero.
    task = ToyTask(scheduler="poly", lr=0.01, seconds_per_step=0.02)
    rates: list[float] = []

    class RecordRate(pl.Callback):
        def on_train_batch_end(self, trainer, *args) -> None:
            rates.append(trainer.optimizers[0].param_groups[0]["lr"])

    trainer = quiet_trainer(tmp_path, RecordRate(), max_epochs=200, max_time={"seconds": 3})
    trainer.fit(task, datamodule=ToyData())
    assert trainer.global_step < 0.5 * trainer.estimated_stepping_batches  # time ended it
    assert rates[-1] < 0.15 * 0.01
    assert rates[len(rates) // 4] > rates[-1]


def test_a_step_budget_ending_mid_epoch_still_validates_the_final_weights(tmp_path):
    # 96 samples / 16 = 6 batches per epoch (5 train batches after the val split);
    # 13 steps end inside an epoch. Lightning alone validates only at epoch ends.
    validated_at: list[int] = []

    class RecordValidation(pl.Callback):
        def on_validation_end(self, trainer, pl_module) -> None:
            if not trainer.sanity_checking:
                validated_at.append(trainer.global_step)

    trainer = quiet_trainer(tmp_path, RecordValidation(), max_epochs=100, max_steps=13)
    trainer.fit(ToyTask(scheduler="cosine"), datamodule=ToyData())
    assert trainer.global_step == 13
    steps_per_epoch = trainer.num_training_batches
    assert 13 % steps_per_epoch != 0  # the budget really ends mid-epoch
    assert validated_at[-1] == 13


def test_fit_end_names_its_steps_and_whether_the_time_budget_ended_it(tmp_path, caplog):
    # A slow machine trains a fraction of the steps in a time budget; the line fit
    # prints when training ends is where a user sees that, with the flag for a step budget.
    caplog.set_level("INFO")
    timed = quiet_trainer(tmp_path, pl.Callback(), max_epochs=200, max_time={"seconds": 2})
    timed.fit(ToyTask(scheduler="poly", seconds_per_step=0.02), datamodule=ToyData())
    lines = [r.getMessage() for r in caplog.records if "optimiser steps" in r.getMessage()]
    assert len(lines) == 1
    assert f"fit trained {timed.global_step:,} optimiser steps in 0.0 min" in lines[0]
    assert "max_time budget ended it" in lines[0] and "--trainer.max_steps N" in lines[0]
    per_step = float(lines[0].split("(")[1].split(" s a step")[0])
    assert 0.02 <= per_step < 1.0  # the toy step sleeps 0.02 s

    caplog.clear()
    stepped = quiet_trainer(tmp_path, pl.Callback(), max_epochs=100, max_steps=7)
    stepped.fit(ToyTask(scheduler="cosine"), datamodule=ToyData())
    lines = [r.getMessage() for r in caplog.records if "optimiser steps" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("fit trained 7 optimiser steps in ")
    assert "budget ended it" not in lines[0]


def test_a_fit_that_trained_no_step_says_so_without_a_rate():
    from types import SimpleNamespace

    from gdl_science.training.wall_clock import training_summary

    line = training_summary(SimpleNamespace(global_step=0, callbacks=[]), 30.0)
    assert line == "fit trained 0 optimiser steps in 0.5 min"
