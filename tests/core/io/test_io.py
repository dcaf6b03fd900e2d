"""Atomic outputs, error reports, safe checkpoints and the streaming predict loop."""

from __future__ import annotations

import os

import pytest
import torch

from gdl_science.io import (
    ErrorReport,
    Record,
    StreamingTableWriter,
    UserInputError,
    atomic_path,
    atomic_write,
    check_output_path,
    load_checkpoint,
    run_predictions,
)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    out = tmp_path / "result.tsv"
    out.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(out) as fh:
        fh.write("half of the new")
        raise RuntimeError("crash mid-write")
    assert out.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["result.tsv"]  # no temporary file left behind
    with atomic_write(out) as fh:
        fh.write("new\n")
    assert out.read_text() == "new\n"


def test_atomic_path_keeps_the_suffix_for_format_sniffing_writers(tmp_path):
    with atomic_path(tmp_path / "case_001.nii.gz") as tmp:
        assert tmp.name.endswith(".nii.gz") and tmp.parent == tmp_path
        tmp.write_bytes(b"x")
    assert (tmp_path / "case_001.nii.gz").read_bytes() == b"x"


def test_streaming_table_writer_publishes_only_complete_tables(tmp_path):
    out = tmp_path / "preds.tsv"
    with StreamingTableWriter(out, ["id", "y_pred"]) as writer:
        writer.write_row({"id": "a", "y_pred": 0.123456789})
        assert not out.exists()  # not visible while streaming
    assert out.read_text() == "id\ty_pred\na\t0.123457\n"
    with pytest.raises(ValueError), StreamingTableWriter(out, ["id"]) as writer:
        writer.write_row({"id": "b"})
        raise ValueError("boom")
    assert out.read_text() == "id\ty_pred\na\t0.123457\n"
    csv_out = tmp_path / "preds.csv"
    with StreamingTableWriter(csv_out, ["id"]) as writer:
        writer.write_row({"id": "x"})
    assert csv_out.read_text() == "id\nx\n"


def test_check_output_path_refuses_the_input_and_unwritable_places(tmp_path):
    inp = tmp_path / "in.tsv"
    inp.write_text("x")
    with pytest.raises(UserInputError, match="overwrite the input"):
        check_output_path(inp, [inp])
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserInputError, match="is a file"):
        check_output_path(blocker / "sub" / "out.tsv", [inp])
    assert check_output_path(tmp_path / "new" / "out.tsv", [inp]).name == "out.tsv"


def test_error_report_writes_tsv_and_removes_stale_reports(tmp_path):
    out = tmp_path / "preds.tsv"
    report = ErrorReport(out)
    report.add("seq7", "unknown character 'X'\tat 4")
    assert report.write() == tmp_path / "preds.tsv.errors.tsv"
    assert (
        tmp_path / "preds.tsv.errors.tsv"
    ).read_text() == "id\treason\nseq7\tunknown character 'X' at 4\n"
    ErrorReport(out).write()
    assert not (tmp_path / "preds.tsv.errors.tsv").exists()


def test_load_checkpoint_turns_garbage_into_a_one_line_user_error(tmp_path):
    bad = tmp_path / "model.ckpt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(UserInputError, match=r"model\.ckpt: not a readable"):
        load_checkpoint(bad)
    with pytest.raises(UserInputError, match="not found"):
        load_checkpoint(tmp_path / "missing.ckpt")
    torch.save({"weights": torch.zeros(1)}, bad)
    with pytest.raises(UserInputError, match="no state_dict"):
        load_checkpoint(bad)


def test_run_predictions_reports_bad_records_and_isolates_failing_ones(tmp_path):
    records = [
        Record("a", 1.0),
        Record("b", error="empty sequence"),
        Record("c", -1.0),
        Record("d", 4.0),
        Record("e", 2.0),
    ]

    def predict_batch(payloads):
        if any(p < 0 for p in payloads):
            raise UserInputError("negative value")
        return [p * 10 for p in payloads]

    got, kept_bad = [], []
    errors = ErrorReport(tmp_path / "out.tsv")
    summary = run_predictions(
        iter(records),
        predict_batch,
        lambda r, y: got.append((r.id, y)),
        batch_size=2,
        errors=errors,
        on_error=lambda r: kept_bad.append(r.id),
    )
    assert got == [("a", 10.0), ("d", 40.0), ("e", 20.0)]
    assert errors.rows == [("b", "empty sequence"), ("c", "negative value")]
    assert kept_bad == ["b", "c"]
    assert (summary.n_ok, summary.n_bad, summary.exit_code) == (3, 2, 0)
    # A failing record alone in its batch is reported too, never aborting the run.
    solo = ErrorReport(tmp_path / "solo.tsv")
    got.clear()
    summary = run_predictions(
        [Record("n", -1.0), Record("p", 3.0)],
        predict_batch,
        lambda r, y: got.append(r.id),
        batch_size=1,
        errors=solo,
    )
    assert got == ["p"] and solo.rows == [("n", "negative value")] and summary.exit_code == 0
    none_ok = run_predictions(
        [Record("x", error="bad")],
        predict_batch,
        lambda r, y: None,
        4,
        ErrorReport(tmp_path / "o2.tsv"),
    )
    assert none_ok.exit_code == 2


def test_resolve_device_auto_bad_and_unavailable(monkeypatch):
    import torch

    from gdl_science.io import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(UserInputError, match="not a device"):
        resolve_device("gpu-please")
    with pytest.raises(UserInputError, match="CUDA is not available"):
        resolve_device("cuda:1")
    # Under torchrun each rank's 'auto' takes its own GPU.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert resolve_device("auto") == torch.device("cuda", 2)
