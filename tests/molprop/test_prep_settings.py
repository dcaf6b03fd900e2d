"""The preparation settings are declared once (``PrepSettings``), shared by the data
module and the task through one CLI link, and travel in the checkpoint as primitives."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
import yaml
from gdl_molprop.data.settings import PrepSettings
from gdl_molprop.datamodule import MolPropDataModule
from gdl_molprop.links import LINKS
from gdl_molprop.task import MolPropTask

APP = Path(__file__).resolve().parents[2] / "apps" / "gdl_molprop"
CONFIGS = APP.parents[1] / "configs" / "molprop"
NAMES = {f.name for f in dataclasses.fields(PrepSettings)}
VALUE_HOLDERS = {"PreparedMolecule", "NodeState"}


def _field_owners() -> dict[str, list[str]]:
    """Setting name -> the app's modules that declare it as a class field."""
    where: dict[str, list[str]] = {}
    for path in sorted(APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            # PreparedMolecule and NodeState carry descriptor *values*, not the setting.
            if isinstance(node, ast.ClassDef) and node.name not in VALUE_HOLDERS:
                for s in node.body:
                    if isinstance(s, ast.AnnAssign) and getattr(s.target, "id", "") in NAMES:
                        where.setdefault(s.target.id, []).append(str(path.relative_to(APP)))
    return where


def _settings_built_field_by_field() -> list[str]:
    """Calls ``PrepSettings(name=...)`` outside settings.py (copying the fields one by one)."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        if path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "PrepSettings"
                and node.keywords
            ):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_each_setting_is_declared_once_in_the_app():
    import inspect

    assert _field_owners() == {name: ["data/settings.py"] for name in NAMES}
    for cls in (MolPropTask, MolPropDataModule):
        assert not NAMES & set(inspect.signature(cls.__init__).parameters), cls
    assert _settings_built_field_by_field() == []
    assert sum("prep" in (s + t) for s, t in LINKS) == 1  # one link carries them all


def test_task_and_datamodule_share_the_object():
    dm = MolPropDataModule(prep=PrepSettings(geometry="2d", cutoff=4.0))
    task = MolPropTask(prep=dm.prep_hparams, width=16, head_hidden=16)
    assert task.prep_settings == dm.prep
    assert all(isinstance(v, (int, float, str, bool)) for v in task.hparams.prep.values())
    with pytest.raises(ValueError, match="unknown preparation settings"):
        MolPropTask(prep={"geometri": "2d"})


def test_default_config_equals_the_class_defaults():
    cfg = yaml.safe_load((CONFIGS / "default.yaml").read_text())
    assert cfg["data"]["prep"] == {
        k: v for k, v in dataclasses.asdict(PrepSettings()).items() if k in cfg["data"]["prep"]
    }
    import inspect

    for cls, section in ((MolPropTask, "model"), (MolPropDataModule, "data")):
        params = inspect.signature(cls.__init__).parameters
        for key, value in cfg[section].items():
            if key in params and key != "prep":
                assert params[key].default == value, (cls.__name__, key)


def test_geometry_auto_follows_the_task_type():
    regression = MolPropDataModule()
    classification = MolPropDataModule(task_type="classification")
    assert regression.prep.geometry == "3d" and classification.prep.geometry == "2d"
    chosen = MolPropDataModule(task_type="classification", prep=PrepSettings(geometry="3d"))
    assert chosen.prep.geometry == "3d"  # an explicit choice is kept
    task = MolPropTask(task_type="classification", prep=classification.prep_hparams)
    assert task.geometry == "2d" and task.hparams.prep["geometry"] == "2d"


def test_descriptors_auto_follows_the_task_type():
    """descriptors: auto is on for classification, off for regression, unless chosen."""
    auto = PrepSettings(descriptors="auto")
    regression = MolPropDataModule(prep=auto)
    classification = MolPropDataModule(task_type="classification", prep=auto)
    assert regression.prep.descriptors is False and classification.prep.descriptors is True
    chosen = MolPropDataModule(task_type="classification", prep=PrepSettings(descriptors=False))
    assert chosen.prep.use_descriptors is False
    assert auto.use_descriptors is False  # unresolved "auto" computes none
    task = MolPropTask(task_type="classification", prep=classification.prep_hparams)
    assert task.net.blueprint.readout.descriptors > 0
    old = MolPropTask(task_type="classification", prep={"descriptors": False})
    assert old.net.blueprint.readout.descriptors == 0  # old checkpoints' value
