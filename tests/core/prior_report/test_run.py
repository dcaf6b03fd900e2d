"""prior-report end to end on the core's toy app (GC fraction: reverse-complement
invariant): the grid of real fits, the report files, and resume after a kill."""

from __future__ import annotations

import json

import pytest
import torch

from gdl_science.cli import AppSpec, run_app
from gdl_science.prior_report import CellScores, PriorHooks, prediction_change
from gdl_science.prior_report import prior_report_command as command
from gdl_science.symmetry import ReverseComplementGroup
from tests.core.toy_app import SPEC, ToyData

RC = ReverseComplementGroup()


class SubsetToyData(ToyData):
    """The toy data with the core's nested training subset (which apps get from the base)."""

    def __init__(self, path: str | None = None, n: int = 96, length: int = 16,
                 batch_size: int = 16, seed: int = 0, train_fraction: float = 1.0,
                 subset_seed: int = 0) -> None:
        super().__init__(path, n, length, batch_size, seed)
        self.train_fraction, self.subset_seed = train_fraction, subset_seed

    def train_dataloader(self):
        return self.make_loader(self.training_subset(self.datasets["train"]), shuffle=True)


class Interrupt:
    """score() that raises KeyboardInterrupt once, in the given call (a kill)."""

    def __init__(self, at_call: int | None = None) -> None:
        self.calls, self.at_call = 0, at_call

    def __call__(self, task, datamodule) -> CellScores:
        self.calls += 1
        if self.calls == self.at_call:
            raise KeyboardInterrupt
        x, y = datamodule.datasets["val"].tensors
        with torch.no_grad():
            p, p_rc = task(x), task(RC.act_on_one_hot(1, x))
        mse = lambda pred: float(((pred - y) ** 2).mean())  # noqa: E731
        return CellScores({"mse": mse(p)}, {"mse": mse(p_rc)}, prediction_change(p, p_rc))


def toy_spec(score: Interrupt) -> AppSpec:
    hooks = PriorHooks(group="reverse complement", metric="mse", higher_is_better=False,
                       change="mean_change", change_label="mean |change|", score=score)
    spec = AppSpec(name="toy", task_class=SPEC.task_class, datamodule_class=SubsetToyData,
                   predict=SPEC.predict, links=SPEC.links,
                   commands={"prior-report": command(lambda: spec, lambda: hooks)})
    return spec


ARGS = ["prior-report", "--modes", "equivariant", "none", "--fractions", "0.25", "1.0",
        "--seeds", "1", "--trainer.max_epochs=3", "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false", "--model.width=6"]


def best_of(root, name):
    return next((root / name).glob("**/checkpoints/best.ckpt"))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One 2 x 2 grid, killed in the second cell's scoring, then rerun to the end."""
    root = tmp_path_factory.mktemp("prior") / "report"
    with pytest.raises(KeyboardInterrupt):
        toy_spec(Interrupt(at_call=2)).commands["prior-report"].run(
            _parse(toy_spec(Interrupt()), [*ARGS, "--output", str(root)]))
    first = best_of(root, "cell_equivariant_f0.25_s1")
    mtime = first.stat().st_mtime_ns
    assert not (root / "cell_none_f0.25_s1" / "cell.json").exists()
    assert run_app(toy_spec(Interrupt()), [*ARGS, "--output", str(root)]) == 0
    return root, mtime


def _parse(spec, argv):
    from gdl_science.cli.app import build_parser

    parsed, extra = build_parser(spec).parse_known_args(argv)
    parsed.fit_args = extra
    return parsed


def test_rerun_skips_the_finished_cell(report):
    root, mtime = report
    assert best_of(root, "cell_equivariant_f0.25_s1").stat().st_mtime_ns == mtime
    data = json.loads((root / "prior_report.json").read_text())
    assert [c["name"] for c in data["cells"]] == [
        "cell_equivariant_f0.25_s1", "cell_none_f0.25_s1",
        "cell_equivariant_f1_s1", "cell_none_f1_s1",
    ]
    assert data["missing"] == []


def test_cells_train_equal_steps_on_nested_subsets(report):
    root, _ = report
    cells = json.loads((root / "prior_report.json").read_text())["cells"]
    # 48 training records, batch 16: 3 steps per epoch x 3 epochs for every fraction
    assert [c["steps"] for c in cells] == [9, 9, 9, 9]
    assert [c["n_train"] for c in cells] == [12, 12, 48, 48]


def test_equivariant_cells_are_consistent_and_none_is_not(report):
    root, _ = report
    data = json.loads((root / "prior_report.json").read_text())
    for cell in data["cells"]:
        change = cell["consistency"]["max_change"]
        if cell["cell"]["mode"] == "equivariant":
            assert change <= 1e-5
            assert abs(cell["given"]["mse"] - cell["transformed"]["mse"]) <= 1e-6
        else:
            assert change > 1e-4


def test_report_files_agree_with_the_json(report):
    root, _ = report
    data = json.loads((root / "prior_report.json").read_text())
    text = (root / "prior_report.md").read_text()
    for line in data["verdict"]:
        assert f"- {line}" in text
    for row in data["summary"]:
        shown = f"{row['given']['mse']['mean']:.3f}"
        assert f"| {row['mode']} | {row['fraction']:g} | {row['n_train']:.0f} | {shown} |" in text
    from PIL import Image

    with Image.open(root / "prior_report.png") as img:
        img.load()


def test_dry_run_and_collect(report, capsys):
    root, _ = report
    spec = toy_spec(Interrupt(at_call=1))  # would fail if anything were scored
    assert run_app(spec, [*ARGS, "--output", str(root), "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "prior-report grid: 4 cells" in out.err and "estimated wall time: 0 cells" in out.err
    assert out.out.count("\tdone\t") == 4
    assert run_app(spec, [*ARGS, "--output", str(root), "--collect"]) == 0
    assert run_app(spec, [*ARGS, "--output", str(root), "--cell", "9"]) == 2


def test_a_grown_grid_finds_its_finished_cells(report, capsys):
    root, _ = report
    args = [*ARGS[:ARGS.index("--seeds")], "--seeds", "1", "2", *ARGS[ARGS.index("--seeds") + 2:]]
    assert run_app(toy_spec(Interrupt(at_call=1)), [*args, "--output", str(root),
                                                    "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("\tdone\t") == 4 and out.count("\tto train\t") == 4


def test_changed_arguments_start_the_cell_afresh(report):
    """A cell begun with other arguments is not resumed (its schedule is another run's):
    the old folder is kept under a new name and the cell is trained again."""
    root, _ = report
    changed = [*ARGS, "--output", str(root), "--budget-scale", "0.5", "--cell", "0"]
    assert run_app(toy_spec(Interrupt()), changed) == 0
    stale = list(root.glob("cell_equivariant_f0.25_s1.stale-*"))
    assert len(stale) == 1 and (stale[0] / "cell.json").is_file()
    record = json.loads((root / "cell_equivariant_f0.25_s1" / "cell.json").read_text())
    assert record["steps"] == 5  # ceil(0.5 x 9)


def test_a_mode_the_config_refuses_is_reported_not_fatal(tmp_path):
    """dna's strand head refuses augment: the other modes still run and the report says
    which mode did not, and why."""
    from gdl_science.io import UserInputError
    from tests.core.toy_app import ToyTask

    class NoAugment(ToyTask):
        def __init__(self, **kwargs):
            if kwargs.get("symmetry") == "augment":
                raise UserInputError("symmetry 'augment' is not for this head")
            super().__init__(**kwargs)

    spec = toy_spec(Interrupt())
    spec = AppSpec(name="toy", task_class=NoAugment, datamodule_class=SubsetToyData,
                   predict=SPEC.predict, links=SPEC.links, commands=spec.commands)
    args = ["prior-report", "--modes", "equivariant", "augment", "--fractions", "1.0",
            "--trainer.max_epochs=1", "--trainer.enable_progress_bar=false",
            "--output", str(tmp_path / "r")]
    hooks = PriorHooks(group="reverse complement", metric="mse", higher_is_better=False,
                       change="mean_change", change_label="x", score=Interrupt())
    spec.commands["prior-report"] = command(lambda: spec, lambda: hooks)
    assert run_app(spec, args) == 0
    report = json.loads((tmp_path / "r" / "prior_report.json").read_text())
    assert [c["cell"]["mode"] for c in report["cells"]] == ["equivariant"]
    assert report["not_run"] == {"augment": "symmetry 'augment' is not for this head"}
    text = (tmp_path / "r" / "prior_report.md").read_text()
    assert "Mode augment not run with this config" in text
