"""The streaming prediction loop shared by every app's ``predict`` command.

Records come from a lazy iterator (constant memory whatever the input size), are
grouped into batches, predicted, and handed to a sink one by one. A bad record never
stops the run: it goes to the ErrorReport with its id and reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gdl_science.io.errors import ErrorReport, UserInputError
from gdl_science.io.progress import progress
from gdl_science.io.sharding import Shard
from gdl_science.io.text_open import TextReadError


@dataclass
class Record:
    """One input record: a payload ready for the model, or the reason it is unusable."""

    id: str
    payload: Any = None
    error: str | None = None
    index: int = -1
    """Position in the input (set by ``run_predictions``): the ``order`` of output rows."""


@dataclass
class PredictSummary:
    n_ok: int = 0
    n_bad: int = 0

    @property
    def exit_code(self) -> int:
        """0 when at least one record was predicted, 2 when none could be (DESIGN.md 4)."""
        return 0 if self.n_ok > 0 else 2


def _batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_predictions(
    records: Iterable[Record],
    predict_batch: Callable[[Sequence[Any]], Sequence[Any]],
    on_result: Callable[[Record, Any], None],
    batch_size: int,
    errors: ErrorReport,
    desc: str = "predict",
    total: int | None = None,
    on_error: Callable[[Record], None] | None = None,
    shard: Shard | None = None,
) -> PredictSummary:
    """Predict every valid record; report every invalid one.

    ``predict_batch(payloads)`` returns one result per payload. If it raises
    UserInputError for a batch, each record of that batch is retried alone so only the
    culprit is reported. ``on_error(record)`` lets a sink keep a row for bad records too
    (molprop keeps every input row with a status).

    In a distributed job (``shard``, by default from the environment) this process
    predicts only the records it owns; sinks write rows with ``order=record.index``.

    When ``records`` raises ``TextReadError`` (``open_text``: a truncated compressed file,
    say), the records before it are predicted and the failure is one entry in ``errors``
    (id ``<file> line <n>``): exit 0 if anything was predicted.
    """
    shard = shard if shard is not None else Shard.from_env()
    summary = PredictSummary()

    def fail(record: Record, reason: str) -> None:
        errors.add(record.id, reason, order=record.index)
        summary.n_bad += 1
        if on_error is not None:
            record.error = reason
            on_error(record)

    def emit(good: list[Record], results: Sequence[Any]) -> None:
        for record, result in zip(good, results):
            on_result(record, result)
            summary.n_ok += 1

    def owned() -> Iterator[Record]:
        index = -1
        try:
            for index, record in enumerate(records):
                if shard.owns(index):
                    record.index = index
                    yield record
        except TextReadError as err:
            # The input ends early (a truncated .gz, a line the reader cannot get past):
            # the records read so far are predicted, the rest is one entry in errors.tsv.
            if shard.owns(index + 1):
                errors.add(f"{err.path.name} line {err.line}", str(err), order=index + 1)
                summary.n_bad += 1

    if shard.active and total is not None:
        total = len(range(shard.rank, total, shard.world))
    for batch in _batches(progress(owned(), total=total, desc=desc, unit="rec"), batch_size):
        # Errors are reported in input order, interleaved with results.
        good = []
        for record in batch:
            if record.error is not None:
                if good:
                    _predict_group(good, predict_batch, emit, fail)
                    good = []
                fail(record, record.error)
            else:
                good.append(record)
        if good:
            _predict_group(good, predict_batch, emit, fail)
    return summary


def _predict_group(good, predict_batch, emit, fail) -> None:
    try:
        results = predict_batch([r.payload for r in good])
    except UserInputError as err:
        if len(good) == 1:
            fail(good[0], str(err))
            return
        # Retry one by one so that only the culprit is reported.
        for record in good:
            try:
                emit([record], predict_batch([record.payload]))
            except UserInputError as one:
                fail(record, str(one))
        return
    if len(results) != len(good):
        raise RuntimeError(f"predict_batch returned {len(results)} results for {len(good)} records")
    emit(good, results)
