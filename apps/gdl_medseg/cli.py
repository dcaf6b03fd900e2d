"""``gdl-medseg``: fit/validate/test (LightningCLI), predict, check-symmetry, verify, evaluate."""

from __future__ import annotations

import argparse
import sys

from gdl_medseg import evaluate
from gdl_medseg.datamodule import MedSegDataModule
from gdl_medseg.predict import add_predict_arguments, predict_command
from gdl_medseg.task import MedSegTask
from gdl_science.cli import AppSpec, Command, run_app
from gdl_science.prior_report import prior_report_command


def _prior_hooks():
    from gdl_medseg.prior import hooks

    return hooks()


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dataset", help="nnU-Net raw dataset folder (dataset.json, imagesTr, labelsTr)"
    )


def _verify(args: argparse.Namespace) -> int:
    from gdl_medseg.data.verify import format_report, verify_dataset

    spec, reports = verify_dataset(args.dataset)
    print(format_report(spec, reports))
    bad = [r for r in reports if not r.ok]
    for r in bad:
        print(f"gdl-medseg: error: case {r.id}: {'; '.join(r.problems)}", file=sys.stderr)
    return 2 if bad else 0


SPEC = AppSpec(
    name="medseg",
    task_class=MedSegTask,
    datamodule_class=MedSegDataModule,
    predict=predict_command,
    predict_output="folder",
    add_predict_arguments=add_predict_arguments,
    commands={
        "verify": Command("check every case of a dataset and report", _verify_arguments, _verify),
        "evaluate": Command(
            "Dice, HD95 (mm) and volume difference of predictions",
            evaluate.add_arguments,
            evaluate.run,
        ),
        "prior-report": prior_report_command(lambda: SPEC, _prior_hooks),
    },
    links=(
        ("data.in_channels", "model.in_channels"),
        ("data.n_classes", "model.n_classes"),
        ("data.label_names", "model.label_names"),
        ("data.patch_size", "model.patch_size"),
    ),
    description="gdl-medseg: rotation-equivariant 3D segmentation of NIfTI data (nnU-Net layout).",
)


def main() -> None:
    sys.exit(run_app(SPEC))
