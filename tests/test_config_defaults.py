"""One source per default: each app's default.yaml agrees with its classes.

A value in ``configs/<app>/default.yaml`` under ``model:`` or ``data:`` must equal the
default of that argument in the task's or datamodule's constructor (``inspect.signature``,
walking the base classes that receive ``**kwargs``), or the argument must have no default
at all, so the YAML is the only place it is set. A constructor default of ``None`` that
the YAML replaces is a mismatch: it means the real default lives somewhere else. A nested
mapping (``data.prep: {...}``) is compared with the fields of the dataclass the argument
defaults to or is annotated with.

Configs also carry no history: at most one comment line per key (a comment line above
it, or a comment at the end of its line, not both), and a short header at the top.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
APPS = ("medseg", "dna", "molprop")
CONFIGS = sorted((REPO / "configs").glob("*/*.yaml"))
HEADER_LINES = 4  # what the file is and how to run it; the rest belongs in docs/<app>.md
_MISSING = object()


def constructor_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """Named parameters of ``cls.__init__`` and of every base ``__init__`` it forwards
    ``**kwargs`` to (the first class that declares a name wins)."""
    params: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        signature = inspect.signature(init)
        for name, p in signature.parameters.items():
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                params.setdefault(name, p)
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            break
    return params


def annotations(cls: type) -> dict[str, Any]:
    """The resolved annotations of every ``__init__`` in the MRO (the subclass's win)."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is not None and klass is not object:
            try:
                out.update(typing.get_type_hints(init))
            except Exception:  # an unresolvable annotation: fall back to the raw one
                continue
    return out


def plain(value: Any) -> Any:
    """Tuples -> lists and dataclasses -> dicts, so a YAML value compares with a default."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _dataclass_in(annotation: Any) -> type | None:
    candidates = [annotation, *typing.get_args(annotation)]
    return next((c for c in candidates if dataclasses.is_dataclass(c)), None)


def _field_defaults(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = plain(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = plain(f.default_factory())
    return out


def mismatches(section: str, values: dict[str, Any], cls: type) -> list[str]:
    """'section.key: yaml X, class default Y' for every disagreement."""
    params = constructor_parameters(cls)
    hints = annotations(cls)
    problems = []
    for key, value in values.items():
        where = f"{section}.{key}"
        if key not in params:
            problems.append(f"{where}: no such argument of {cls.__name__}")
            continue
        p = params[key]
        if p.default is inspect.Parameter.empty:
            continue  # required: the YAML is the only place it is set
        default = p.default
        if isinstance(value, dict) and "class_path" not in value:
            nested = _dataclass_in(hints.get(key, p.annotation))
            if dataclasses.is_dataclass(default):
                nested_defaults = plain(default)
            elif nested is not None:
                nested_defaults = _field_defaults(nested)
            else:
                problems.append(f"{where}: a mapping, but the default is {default!r}")
                continue
            for sub, sub_value in value.items():
                expected = nested_defaults.get(sub, _MISSING)
                if expected is _MISSING:
                    problems.append(f"{where}.{sub}: no such field")
                elif plain(sub_value) != expected:
                    problems.append(f"{where}.{sub}: yaml {sub_value!r}, default {expected!r}")
            continue
        if plain(value) != plain(default):
            problems.append(f"{where}: yaml {value!r}, {cls.__name__} default {default!r}")
    return problems


def _init_args(block: Any) -> dict[str, Any]:
    """A config section: either plain keys or ``class_path`` + ``init_args``."""
    if not isinstance(block, dict):
        return {}
    if "class_path" in block:
        return dict(block.get("init_args") or {})
    return dict(block)


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("section", ["model", "data"])
def test_default_yaml_equals_class_defaults(app: str, section: str):
    spec = importlib.import_module(f"gdl_{app}.cli").SPEC
    cls = spec.task_class if section == "model" else spec.datamodule_class
    config = yaml.safe_load((REPO / "configs" / app / "default.yaml").read_text())
    problems = mismatches(section, _init_args(config.get(section)), cls)
    assert not problems, f"configs/{app}/default.yaml vs {cls.__name__}:\n" + "\n".join(problems)


def comment_problems(text: str) -> list[str]:
    """Lines where a key carries more than one comment line, or the header is long."""
    problems, block, seen_key = [], [], False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            block.append(number)
            continue
        if not stripped:
            if seen_key:
                block = []
            continue
        if not seen_key:
            if len(block) > HEADER_LINES:
                problems.append(f"lines {block[0]}-{block[-1]}: a {len(block)}-line header "
                                f"(at most {HEADER_LINES}; history goes to the guide)")
            block, seen_key = [], True
        lines = len(block) + _has_inline_comment(line)
        if lines > 1:
            problems.append(f"line {number} ({stripped.split(':')[0]}): {lines} comment lines")
        block = []
    return problems


def _has_inline_comment(line: str) -> bool:
    """A `#` that starts a comment after a value (not inside quotes)."""
    quote = None
    for i, ch in enumerate(line):
        if ch in "'\"" and quote in (None, ch):
            quote = None if quote else ch
        elif ch == "#" and quote is None and i > 0 and line[i - 1] in " \t":
            return True
    return False


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_config_comments_are_one_line_per_key(config: Path):
    problems = comment_problems(config.read_text())
    assert not problems, f"{config.relative_to(REPO)}:\n" + "\n".join(problems)


class _Base:
    def __init__(self, lr: float = 0.1, **kwargs: Any) -> None: ...


@dataclasses.dataclass
class _Prep:
    cutoff: float = 5.0


class _Task(_Base):
    def __init__(self, width: int = 32, path: str | None = None, labels: list[str] | None = None,
                 prep: _Prep | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)


def test_checks_catch_mismatch_and_history():
    good = {"width": 32, "lr": 0.1, "prep": {"cutoff": 5.0}}
    assert mismatches("model", good, _Task) == []
    bad = {"width": 64, "lr": 0.2, "path": "x", "prep": {"cutoff": 4.0}, "nope": 1}
    found = mismatches("model", bad, _Task)
    assert [f.split(":")[0] for f in found] == [
        "model.width", "model.lr", "model.path", "model.prep.cutoff", "model.nope"]
    assert comment_problems("# one\nmodel:\n  width: 32  # ok\n") == []
    assert len(comment_problems("model:\n  # a\n  # b\n  width: 32\n")) == 1
    assert len(comment_problems("model:\n  # a\n  width: 32  # b\n")) == 1
    assert len(comment_problems("# 1\n# 2\n# 3\n# 4\n# 5\nmodel: {}\n")) == 1
    assert comment_problems("data:\n  tag: 'a # b'\n") == []
