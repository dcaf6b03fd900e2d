"""The command-line skeleton every app shares.

``gdl-<app> fit|validate|test`` is LightningCLI (config files, ``--model.*``,
``--data.*``, ``--trainer.*``). ``predict``, ``check-symmetry`` and app commands
(``explain``, ``verify``, ...) are plain argparse subcommands. Exit codes: 0 ok, 2 bad
input or usage (one line, no traceback), 1 internal error (traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from gdl_science.io.errors import UserInputError
from gdl_science.io.output_guard import check_output_path

LIGHTNING_COMMANDS = ("fit", "validate", "test")


@dataclass(frozen=True)
class Command:
    """An app subcommand: its help line, its arguments, and what it runs (-> exit code)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    return None


@dataclass(frozen=True)
class AppSpec:
    """What an app plugs into the shared CLI."""

    name: str
    task_class: type
    datamodule_class: type
    predict: Callable[[argparse.Namespace], int]
    add_predict_arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    commands: Mapping[str, Command] = field(default_factory=dict)
    links: Sequence[tuple[str, str]] = ()
    description: str = ""
    predict_output: Literal["file", "folder"] = "file"
    """What predict's ``--output`` names: one table (dna, molprop) or a folder (medseg)."""

    @property
    def prog(self) -> str:
        return f"gdl-{self.name}"


def run_app(spec: AppSpec, argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: sys.argv[1:]) and run the chosen command; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in LIGHTNING_COMMANDS:
            from gdl_science.cli.lightning import run_lightning

            run_lightning(spec, args)
            return 0
        parser = build_parser(spec)
        parsed, extra = parser.parse_known_args(args)
        if extra:
            # A command that runs fits (prior-report) sets ``passthrough``: the arguments
            # it does not know are the fit's (--config, --data.*, --trainer.*).
            if not getattr(parsed, "passthrough", False):
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
            parsed.fit_args = [*getattr(parsed, "fit_args", []), *extra]
        return int(parsed.handler(parsed))
    except UserInputError as err:
        print(f"{spec.prog}: error: {one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{spec.prog}: interrupted", file=sys.stderr)
        return 130


def one_line(err: BaseException) -> str:
    """The user-facing line of an error, also when a DataLoader worker re-raised it
    with the worker's traceback inside the message."""
    text = str(err).strip()
    if "Traceback" in text:
        last = text.splitlines()[-1]
        text = last.split("UserInputError: ", 1)[-1]
    return " ".join(text.split())


class OneLineParser(argparse.ArgumentParser):
    """argparse with usage errors as one line and exit code 2 (DESIGN.md section 4);
    ``--help`` still shows the whole usage."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {' '.join(message.split())}", file=sys.stderr)
        raise SystemExit(2)


def positive_int(text: str) -> int:
    """argparse ``type=`` for counts and sizes that must be 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def guarded_predict(spec: AppSpec, args: argparse.Namespace) -> int:
    """The output guard for every app's predict, before any model is loaded or any
    record read: a refused ``--output`` costs a second, not a whole prediction run."""
    check_output_path(args.output, [args.input], args.checkpoint, expect=spec.predict_output)
    return int(spec.predict(args))


def build_parser(spec: AppSpec) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=spec.prog,
        description=spec.description
        or f"{spec.prog}: train, verify and apply symmetry-aware models.",
        epilog="Training commands (LightningCLI): "
        + ", ".join(
            f"{spec.prog} {c} --config CONFIG [--model.* --data.* --trainer.*]"
            for c in LIGHTNING_COMMANDS
        )
        + f". See `{spec.prog} fit --help`.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in LIGHTNING_COMMANDS:
        # Listed for --help; actually dispatched to LightningCLI before argparse runs.
        sub.add_parser(name, help=f"{name} a model (LightningCLI; see `{spec.prog} {name} --help`)")

    predict = sub.add_parser("predict", help="predict on a file, streaming, bad records reported")
    predict.add_argument(
        "--checkpoint",
        action="append",
        required=True,
        help="trained checkpoint; repeat to ensemble (mean and std columns)",
    )
    predict.add_argument("--input", required=True, help="input file or folder")
    predict.add_argument("--output", required=True, help="output path (written atomically)")
    predict.add_argument("--batch-size", type=positive_int, default=64)
    predict.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 or auto")
    spec.add_predict_arguments(predict)
    predict.set_defaults(handler=lambda a: guarded_predict(spec, a))

    check = sub.add_parser("check-symmetry", help="measure a checkpoint's equivariance error")
    check.add_argument("--checkpoint", required=True)
    check.add_argument("--input", default=None, help="inputs to check on (default: built-in)")
    check.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    check.set_defaults(handler=lambda a: check_symmetry_command(spec, a))

    for name, command in spec.commands.items():
        p = sub.add_parser(name, help=command.help)
        command.add_arguments(p)
        p.set_defaults(handler=command.run)
    return parser


def check_symmetry_command(spec: AppSpec, args: argparse.Namespace) -> int:
    import torch

    from gdl_science.io.checkpoint import load_task

    task: Any = load_task(spec.task_class, args.checkpoint)
    dtype = {"float32": torch.float32, "float64": torch.float64}[args.dtype]
    report = task.check_symmetry(args.input, dtype=dtype)
    print(str(report), file=sys.stderr)
    print(f"group={report.group}")
    print(f"max_equivariance_error={report.max_abs:.3e}")
    print(f"max_relative_equivariance_error={report.max_rel:.3e}")
    return 0
