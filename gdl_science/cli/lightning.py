"""LightningCLI for fit/validate/test, with the suite's defaults.

Defaults every app gets:

- ``best.ckpt`` (the epoch with the best value of the task's ``selection_metric``) and
  ``last.ckpt`` (for resuming), both written atomically (see ``checkpoints``);
- rerunning a killed fit resumes it, and ``best.ckpt`` stays the best over all of its
  epochs (see ``resume``);
- optional early stopping on the same metric (``--early_stopping_patience N``);
- optional seed ensembles (``--ensemble_size N``: members in ``member_<i>/`` and an
  ``ensemble.json`` that predict accepts as one checkpoint; see ``ensemble_fit``);
- ``metrics.png`` (learning curves) beside the checkpoints;
- lines at the end of fit naming the checkpoints to use with ``predict``;
- one-line refusals (exit 2) of a ``--ckpt_path`` that is not a checkpoint, a remote
  ``default_root_dir`` and an ``--ensemble_size`` below 1.

Only LightningCLI's public hooks are overridden: ``parse_arguments``,
``instantiate_trainer``, ``add_arguments_to_parser``, ``before_instantiate_classes`` and
``before_fit``;
``fit`` is a method of the CLI, which LightningCLI runs in place of ``Trainer.fit``
(tested in tests/core/cli/test_lightning_hooks.py, for the pinned Lightning range).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Literal

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.plugins.io import TorchCheckpointIO

from gdl_science.cli.checkpoints import (
    AtomicCheckpointIO,
    BestCheckpoint,
    LastCheckpoint,
    ReportCheckpoint,
    selection_callbacks,
)
from gdl_science.cli.ensemble_fit import run_ensemble_fit
from gdl_science.cli.resume import (
    LIGHTNING_CKPT_ALIASES,
    canonical,
    check_ckpt_path,
    continue_in_place,
    find_resumable_checkpoint,
)
from gdl_science.io.remote import refuse_remote
from gdl_science.io.user_error import UserInputError

__all__ = [
    "AtomicCheckpointIO",
    "BestCheckpoint",
    "GDLLightningCLI",
    "LastCheckpoint",
    "ReportCheckpoint",
    "find_resumable_checkpoint",
    "run_lightning",
    "selection_callbacks",
]


class GDLLightningCLI(LightningCLI):
    """LightningCLI plus the app's argument links (data attributes -> model arguments)."""

    def __init__(self, *args: Any, links: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        self._links = tuple(links)
        super().__init__(*args, **kwargs)

    def _section(self, config: Any) -> Any:
        """The subcommand's part of a config (the whole config when run=False)."""
        sub = self.subcommand
        return config[sub] if sub and sub in config else config

    def parse_arguments(self, parser: Any, args: Any) -> None:
        super().parse_arguments(parser, args)
        # Before LightningCLI reads the checkpoint's hyperparameters (with a traceback
        # for a file that is not a checkpoint): refuse it here in one line.
        sub = self.config.get("subcommand")
        if sub:
            check_ckpt_path(self.config[sub].get("ckpt_path"), sub)

    def before_instantiate_classes(self) -> None:
        section = self._section(self.config)
        root = (section.get("trainer") or {}).get("default_root_dir")
        if root is not None:
            refuse_remote(root, "--trainer.default_root_dir")
        size = section.get("ensemble_size")
        if size is not None and int(size) < 1:
            raise UserInputError(f"--ensemble_size {size}: must be 1 or more")

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        section = self._section(self.config_init)
        trainer_config = section.get("trainer") or {}
        # The atomic checkpoint writer is added here rather than in trainer_defaults: a
        # plugin instance cannot be written into the saved config.yaml.
        plugins = kwargs.get("plugins", trainer_config.get("plugins")) or []
        plugins = list(plugins) if isinstance(plugins, list) else [plugins]
        if not any(isinstance(p, TorchCheckpointIO) for p in plugins):
            plugins.append(AtomicCheckpointIO())
        own = kwargs.get("callbacks", trainer_config.get("callbacks")) or []
        own = list(own) if isinstance(own, list) else [own]
        patience = int(section.get("early_stopping_patience") or 0)
        kwargs["callbacks"] = [*own, *selection_callbacks(self.model, patience)]
        kwargs["plugins"] = plugins
        return super().instantiate_trainer(**kwargs)

    def add_arguments_to_parser(self, parser: Any) -> None:
        for source, target in self._links:
            parser.link_arguments(source, target, apply_on="instantiate")
        parser.add_argument(
            "--resume",
            type=Literal["auto", "never"],
            default="auto",
            help="fit only: with 'auto', rerunning a fit that was killed resumes from the newest "
            "last.ckpt under trainer.default_root_dir saved with the same model and data settings",
        )
        parser.add_argument(
            "--early_stopping_patience",
            type=int,
            default=0,
            help="fit only: stop after this many validation epochs without improvement of the "
            "selection metric (0: off, train for trainer.max_epochs)",
        )
        parser.add_argument(
            "--ensemble_size",
            type=int,
            default=1,
            help="fit only: train this many members (1 or more; seeds seed_everything+0, +1, "
            "...) under trainer.default_root_dir/member_<i> and write ensemble.json there, which "
            "predict "
            "takes as one --checkpoint (mean and std over the members)",
        )

    def current_settings(self) -> str:
        """The model and data settings, canonical: what must match to skip or resume."""
        return canonical(dict(self.model.hparams)) + canonical(_hparams(self.datamodule))

    def ensemble_size(self) -> int:
        return int(self._section(self.config_init).get("ensemble_size") or 1)

    def fit(self, model: LightningModule, **kwargs: Any) -> None:
        """Run by LightningCLI for ``fit`` instead of ``Trainer.fit``: one model, or a seed
        ensemble when ``--ensemble_size`` > 1."""
        size = self.ensemble_size()
        if size == 1:
            self.trainer.fit(model, **kwargs)
            return
        if kwargs.get("ckpt_path") is not None:
            raise UserInputError(
                "--ckpt_path cannot be combined with --ensemble_size: rerun the same ensemble "
                "command and each member resumes from its own last.ckpt"
            )
        run_ensemble_fit(self, size)

    def run_single_fit(self) -> None:
        """One ensemble member: the same resume rules as a single fit, then Trainer.fit."""
        self.prepare_fit()
        ckpt = self.config_init["fit"].get("ckpt_path")
        self.trainer.fit(self.model, datamodule=self.datamodule, ckpt_path=ckpt)

    def before_fit(self) -> None:
        if self.ensemble_size() == 1:  # ensemble members are prepared one by one
            self.prepare_fit()

    def prepare_fit(self) -> None:
        """Resume (``--resume auto``) and check ``--ckpt_path``; keep a resumed fit's
        checkpoints in its own folder so best.ckpt stays the best of all epochs."""
        config = self.config_init["fit"]
        root = self.trainer.default_root_dir
        if config.get("resume") == "auto" and config.get("ckpt_path") is None:
            found = find_resumable_checkpoint(
                root, dict(self.model.hparams), _hparams(self.datamodule)
            )
            if found is not None:
                print(f"resuming from {found} (pass --resume never to start afresh)",
                      file=sys.stderr)
                config["ckpt_path"] = str(found)
        ckpt = config.get("ckpt_path")  # checked in parse_arguments, or found above
        if ckpt is not None and str(ckpt) not in LIGHTNING_CKPT_ALIASES:
            continue_in_place(self.trainer, ckpt, root)



def _hparams(obj: Any) -> dict[str, Any]:
    return dict(getattr(obj, "hparams", {}) or {})


def run_lightning(spec: Any, args: Sequence[str]) -> GDLLightningCLI:
    return GDLLightningCLI(
        spec.task_class,
        spec.datamodule_class,
        args=list(args),
        links=spec.links,
        save_config_kwargs={"overwrite": True},
    )
