"""open_text: compression by magic bytes, and read failures as one-line errors with a line."""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma

import pytest

from gdl_science.io.text_open import TextReadError, compression_of, open_text
from gdl_science.io.user_error import UserInputError

LINES = [f"row{i}\tACGT\n" for i in range(2000)]


@pytest.mark.parametrize("kind", ["plain", "gzip", "bgzip", "bzip2", "xz"])
def test_reads_every_kind_whatever_the_name(tmp_path, kind):
    data = "".join(LINES).encode()
    path = tmp_path / "x.txt"  # a misleading name on purpose: detection is by content
    if kind == "gzip":
        data = gzip.compress(data)
    elif kind == "bgzip":  # BGZF is concatenated gzip members
        data = gzip.compress(data[:1000]) + gzip.compress(data[1000:])
    elif kind == "bzip2":
        data = bz2.compress(data)
    elif kind == "xz":
        data = lzma.compress(data)
    path.write_bytes(data)
    assert compression_of(path) == (None if kind == "plain" else kind.replace("bgzip", "gzip"))
    with open_text(path) as fh:
        assert list(fh) == LINES
        assert fh.line_number == len(LINES)


def test_plain_file_named_gz_and_csv_reader(tmp_path):
    path = tmp_path / "table.csv.gz"
    path.write_text('id,seq\r\na,"AC\nGT"\r\nb,TT\r\n')
    with open_text(path, newline="") as fh:
        assert list(csv.reader(fh)) == [["id", "seq"], ["a", "AC\nGT"], ["b", "TT"]]
    with open_text(path) as fh:
        assert fh.read() == 'id,seq\na,"AC\nGT"\nb,TT\n'


def test_read_sizes_and_readline_agree(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress("".join(LINES).encode()))
    with open_text(path) as fh:
        chunks = []
        while chunk := fh.read(777):
            chunks.append(chunk)
    assert "".join(chunks) == "".join(LINES)
    with open_text(path) as fh:
        assert fh.read(3) == "row"
        assert fh.readline() == "0\tACGT\n"
        assert fh.readline(4) == "row1"
        assert fh.readline() == "\tACGT\n"


def test_truncated_gzip_names_file_and_line_and_stops(tmp_path):
    path = tmp_path / "x.vcf.gz"
    whole = gzip.compress("".join(LINES).encode())
    path.write_bytes(whole[: len(whole) // 2])
    got = []
    with open_text(path) as fh:
        with pytest.raises(TextReadError) as info:
            for line in fh:
                got.append(line)
        assert not info.value.recoverable
        assert fh.read() == ""  # later reads: end of file, not a second traceback
    message = str(info.value)
    assert str(path) in message and f"line {len(got) + 1}" in message
    assert "\n" not in message and "truncated" in message
    assert 0 < len(got) < len(LINES) and got == LINES[: len(got)]


def test_corrupt_gzip_body_is_a_user_error(tmp_path):
    path = tmp_path / "x.gz"
    whole = bytearray(gzip.compress("".join(LINES).encode()))
    whole[40:60] = b"\x00" * 20
    path.write_bytes(bytes(whole))
    with pytest.raises(UserInputError, match=r"x\.gz line \d+"), open_text(path) as fh:
        fh.read()


def test_bad_byte_names_its_line_and_reading_goes_on(tmp_path):
    path = tmp_path / "x.fa"
    path.write_bytes(b">r0\nACGT\n>r\xe91\nACGT\n>r2\nGG\n")
    lines, errors = [], []
    with open_text(path) as fh:
        while True:
            try:
                line = fh.readline()
            except TextReadError as err:
                errors.append(err)
                continue
            if not line:
                break
            lines.append(line)
    assert lines == [">r0\n", "ACGT\n", "ACGT\n", ">r2\n", "GG\n"]
    (err,) = errors
    assert err.recoverable and err.line == 3
    assert str(err) == f"{path} line 3: byte 0xe9 at column 3 is not utf-8 text"


def test_latin1_encoding_reads_that_byte(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"caf\xe9\n")
    with open_text(path, encoding="latin-1") as fh:
        assert fh.read() == "café\n"


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: None, "file not found"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b"PK\x03\x04rest"), "zip archive"),
        (lambda p: p.write_bytes(b"\x28\xb5\x2f\xfdrest"), "zstd"),
    ],
)
def test_unusable_files_are_refused_at_open(tmp_path, make, match):
    path = tmp_path / "in.tsv"
    make(path)
    with pytest.raises(UserInputError, match=match):
        open_text(path)


def test_predict_loop_keeps_the_records_before_a_truncation(tmp_path):
    from gdl_science.io import ErrorReport, Record, run_predictions

    path = tmp_path / "seqs.txt.gz"
    whole = gzip.compress("".join(LINES).encode())
    path.write_bytes(whole[: len(whole) // 2])

    def records():
        with open_text(path) as fh:
            for number, line in enumerate(fh, start=1):
                yield Record(f"r{number}", line.split("\t")[0])

    got: list[str] = []
    errors = ErrorReport(tmp_path / "out.tsv")
    summary = run_predictions(records(), lambda ps: list(ps), lambda r, y: got.append(y), 64,
                              errors)
    assert 0 < len(got) < len(LINES) and got == [f"row{i}" for i in range(len(got))]
    ((where, reason),) = errors.rows
    assert where == f"seqs.txt.gz line {len(got) + 1}" and "truncated" in reason
    assert (summary.n_ok, summary.n_bad, summary.exit_code) == (len(got), 1, 0)
