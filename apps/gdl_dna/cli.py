"""``gdl-dna``: fit/validate/test (LightningCLI), predict, check-symmetry, explain,
variant-effect."""

from __future__ import annotations

import sys

from gdl_dna.datamodule import DNADataModule
from gdl_dna.explain import EXPLAIN
from gdl_dna.predict import add_predict_arguments, predict
from gdl_dna.task import DNATask
from gdl_dna.variant_effect import VARIANT_EFFECT
from gdl_science.cli import AppSpec, run_app
from gdl_science.prior_report import prior_report_command


def _prior_hooks():
    from gdl_dna.prior import hooks

    return hooks()


SPEC = AppSpec(
    name="dna",
    task_class=DNATask,
    datamodule_class=DNADataModule,
    predict=predict,
    add_predict_arguments=add_predict_arguments,
    commands={
        "explain": EXPLAIN,
        "variant-effect": VARIANT_EFFECT,
        "prior-report": prior_report_command(lambda: SPEC, _prior_hooks),
    },
    links=(
        ("data.label_names", "model.label_names"),
        ("data.task_kind", "model.task_type"),
        ("data.class_names", "model.class_names"),
        ("data.sequence_length", "model.sequence_length"),
        ("data.fixed_window", "model.fixed_window"),
    ),
    description="gdl-dna: reverse-complement-equivariant DNA sequence models.",
)


def main() -> None:
    sys.exit(run_app(SPEC))


if __name__ == "__main__":
    main()
