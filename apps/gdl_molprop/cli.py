"""``gdl-molprop``: fit/validate/test (LightningCLI), predict, check-symmetry, crossval."""

from __future__ import annotations

import sys

from gdl_molprop import crossval
from gdl_molprop.datamodule import MolPropDataModule
from gdl_molprop.predict import add_predict_arguments, predict
from gdl_molprop.task import MolPropTask
from gdl_science.cli import AppSpec, Command, run_app

# The data module knows the targets, their scaling and how molecules were prepared;
# the model records them so a checkpoint alone can predict on new molecules.
LINKS = tuple(
    (f"data.{src}", f"model.{dst}")
    for src, dst in [
        ("task_names", "task_names"),
        ("task_type", "task_type"),
        ("target_mean", "target_mean"),
        ("target_std", "target_std"),
        ("geometry", "geometry"),
        ("cutoff", "cutoff"),
        ("hydrogens", "hydrogens"),
        ("num_conformers", "num_conformers"),
        ("conformer_seed", "conformer_seed"),
        ("max_heavy_atoms", "max_heavy_atoms"),
        ("forcefield", "forcefield"),
        ("fallback_2d", "fallback_2d"),
        ("descriptors", "descriptors"),
        ("embed_hydrogens", "embed_hydrogens"),
        ("smiles_column", "smiles_column"),
    ]
)

SPEC = AppSpec(
    name="molprop",
    task_class=MolPropTask,
    datamodule_class=MolPropDataModule,
    predict=predict,
    add_predict_arguments=add_predict_arguments,
    links=LINKS,
    commands={
        "crossval": Command(
            help="k-fold cross-validation x seed replicates -> mean ± sd table",
            add_arguments=crossval.add_arguments,
            run=crossval.run,
        )
    },
    description="gdl-molprop: SMILES/SDF -> conformers -> E(3)-invariant property models.",
)


def main() -> None:
    sys.exit(run_app(SPEC))


if __name__ == "__main__":
    main()
