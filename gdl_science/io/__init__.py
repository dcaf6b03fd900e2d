"""Input/output the apps share: atomic writes, error reports, checkpoints, streaming predict."""

from gdl_science.io.atomic import atomic_path, atomic_write, save_figure
from gdl_science.io.checkpoint import load_checkpoint, load_task, task_hyperparameters
from gdl_science.io.device import resolve_device
from gdl_science.io.ensemble_predict import (
    TablePrediction,
    ensemble_rows,
    load_ensemble,
    prediction_columns,
)
from gdl_science.io.errors import ErrorReport, errors_path
from gdl_science.io.output_guard import check_output_path
from gdl_science.io.predict_loop import PredictSummary, Record, run_predictions
from gdl_science.io.progress import progress
from gdl_science.io.remote import refuse_remote
from gdl_science.io.table_writer import StreamingTableWriter, delimiter_for
from gdl_science.io.text_open import TextReadError, open_binary, open_text
from gdl_science.io.user_error import UserInputError

__all__ = [
    "ErrorReport",
    "PredictSummary",
    "Record",
    "StreamingTableWriter",
    "TablePrediction",
    "TextReadError",
    "UserInputError",
    "atomic_path",
    "atomic_write",
    "check_output_path",
    "delimiter_for",
    "ensemble_rows",
    "errors_path",
    "load_checkpoint",
    "load_ensemble",
    "load_task",
    "open_binary",
    "open_text",
    "prediction_columns",
    "progress",
    "refuse_remote",
    "resolve_device",
    "run_predictions",
    "save_figure",
    "task_hyperparameters",
]
