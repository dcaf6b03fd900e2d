"""``gdl-molprop``: fit/validate/test (LightningCLI), predict, check-symmetry, crossval."""

from __future__ import annotations

import sys

from gdl_molprop import crossval
from gdl_molprop.datamodule import MolPropDataModule
from gdl_molprop.links import LINKS
from gdl_molprop.predict import add_predict_arguments, predict
from gdl_molprop.task import MolPropTask
from gdl_science.cli import AppSpec, Command, run_app
from gdl_science.prior_report import prior_report_command


def _prior_hooks():
    from gdl_molprop.prior import hooks

    return hooks()


SPEC = AppSpec(
    name="molprop",
    task_class=MolPropTask,
    datamodule_class=MolPropDataModule,
    predict=predict,
    add_predict_arguments=add_predict_arguments,
    links=LINKS,
    commands={
        "crossval": Command(
            help="k-fold cross-validation x seed replicates -> mean ± sd table (+ plot)",
            add_arguments=crossval.add_arguments,
            run=crossval.run,
        ),
        "prior-report": prior_report_command(lambda: SPEC, _prior_hooks),
    },
    description="gdl-molprop: SMILES/SDF -> conformers -> E(3)-invariant property models.",
)


def main() -> None:
    sys.exit(run_app(SPEC))


if __name__ == "__main__":
    main()
