"""One source per default: configs/medseg/default.yaml sets only the classes' own defaults."""

from __future__ import annotations

import inspect
from pathlib import Path

import yaml
from gdl_medseg.datamodule import MedSegDataModule
from gdl_medseg.task import MedSegTask

from gdl_science.training import GDLTask

DEFAULT = Path(__file__).resolve().parents[2] / "configs" / "medseg" / "default.yaml"


def _defaults(*classes: type) -> dict:
    out: dict = {}
    for cls in reversed(classes):  # the subclass's default wins
        for name, p in inspect.signature(cls.__init__).parameters.items():
            if p.default is not inspect.Parameter.empty:
                out[name] = p.default
    return out


def test_default_config_values_equal_the_class_defaults():
    config = yaml.safe_load(DEFAULT.read_text())
    for section, classes in (("model", (MedSegTask, GDLTask)), ("data", (MedSegDataModule,))):
        defaults = _defaults(*classes)
        for key, value in config[section].items():
            assert key in defaults, f"{section}.{key} is not an argument"
            assert defaults[key] == value, f"{section}.{key}: yaml {value} != class {defaults[key]}"
