"""The shared CLI: LightningCLI for training, predict and check-symmetry, app commands."""

from gdl_science.cli.app import LIGHTNING_COMMANDS, AppSpec, Command, build_parser, run_app

__all__ = ["LIGHTNING_COMMANDS", "AppSpec", "Command", "build_parser", "run_app"]
