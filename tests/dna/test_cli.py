"""The real ``gdl-dna`` console script: fit -> predict -> check-symmetry -> explain, configs,
and bad input (one line, exit 2; per-record errors in <output>.errors.tsv)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GDL_DNA = str(Path(sys.executable).parent / "gdl-dna")
TINY_MODEL = [
    "--model.channels=[4]",
    "--model.irrep_channels=1",
    "--model.kernel_sizes=[5]",
    "--model.dilations=[1]",
    "--model.pool_sizes=[2]",
    "--model.hidden=[4]",
]


def gdl_dna(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed console script in a fresh process (the user's view)."""
    env = {**os.environ, "GDL_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [GDL_DNA, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def in_process(capsys, monkeypatch):
    """The same CLI entry (``run_app(SPEC, argv)``) in this process: no 10 s start-up per
    call, for the many cases whose process boundary adds nothing."""
    from gdl_dna.cli import SPEC

    from gdl_science.cli import run_app

    def call(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["gdl-dna", *args])
        code = run_app(SPEC, list(args))
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return call


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One small-config fit on the embedded data, shared by the predict/check/explain tests."""
    work = tmp_path_factory.mktemp("fit")
    r = gdl_dna(
        "fit",
        "--config",
        str(ROOT / "configs/dna/small.yaml"),
        "--trainer.default_root_dir",
        str(work / "run"),
        cwd=work,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    ckpt = work / "run/lightning_logs/version_0/checkpoints/last.ckpt"
    assert ckpt.is_file() and f"last checkpoint: {ckpt}" in r.stderr
    assert "val/auroc=" in r.stderr  # metrics are reported at the end of fit
    return ckpt


def test_predict_fasta_writes_ids_and_label_columns_and_reports_bad_records(trained, tmp_path):
    fa = tmp_path / "in.fa"
    fa.write_text(">ok1\n" + "ACGT" * 30 + "\n>bad\nACGTQACGT\n>ok2\nnnacgtRYacgt\n>ok1\nACGT\n")
    out = tmp_path / "preds" / "p.tsv"
    r = gdl_dna(
        "predict",
        "--checkpoint",
        str(trained),
        "--input",
        str(fa),
        "--output",
        str(out),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open(), delimiter="\t"))
    assert [row["id"] for row in rows] == ["ok1", "ok2"]
    assert list(rows[0]) == [
        "id",
        "CTCF_MA0139.2_pred",
        "Spi1_MA0080.7_pred",
        "FOXA1_MA0148.5_pred",
    ]
    assert all(0.0 <= float(v) <= 1.0 for row in rows for k, v in row.items() if k != "id")
    with Path(str(out) + ".errors.tsv").open() as fh:
        errors = list(csv.DictReader(fh, delimiter="\t"))
    assert [(e["id"], e["reason"]) for e in errors] == [
        ("bad", "in.fa record 2 (line 3): unknown character 'Q' at position 5"),
        ("ok1", "in.fa record 4 (line 7): duplicate id"),
    ]
    assert "2 bad record(s) skipped" in r.stderr


def test_predict_ensemble_adds_std_columns_and_bed_input(trained, tmp_path, in_process):
    genome = tmp_path / "g.fa"
    genome.write_text(">chr1\n" + "ACGTTGCA" * 40 + "\n")
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t0\t100\tr1\nchr1\t300\t400\tpast_end\nchr9\t0\t10\tno_chrom\n")
    out = tmp_path / "p.csv"
    r = in_process(
        "predict",
        "--checkpoint",
        str(trained),
        "--checkpoint",
        str(trained),
        "--input",
        str(bed),
        "--genome",
        str(genome),
        "--output",
        str(out),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    assert [row["id"] for row in rows] == ["r1"] and float(rows[0]["CTCF_MA0139.2_std"]) == 0.0
    reasons = Path(str(out) + ".errors.tsv").read_text()
    assert "past the chromosome end" in reasons and "unknown chromosome 'chr9'" in reasons


def test_check_symmetry_reports_float32_error_within_tolerance(trained, tmp_path):
    r = gdl_dna("check-symmetry", "--checkpoint", str(trained), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    value = float(r.stdout.split("max_equivariance_error=")[1].split()[0])
    assert value <= 1e-5


def test_explain_writes_arrays_and_logos(trained, tmp_path, in_process):
    import numpy as np

    fa = tmp_path / "in.fa"
    fa.write_text(">s1\n" + "ACGT" * 25 + "\n>s2\n" + "GGCA" * 20 + "\n")
    r = in_process(
        "explain",
        "--checkpoint",
        str(trained),
        "--input",
        str(fa),
        "--output",
        str(tmp_path / "ex"),
        "--max-sequences",
        "1",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    data = np.load(tmp_path / "ex/s1.npz")
    assert data["ism"].shape == (3, 4, 100) and data["one_hot"].shape == (4, 100)
    # The reference base's own substitution changes nothing.
    ref = data["one_hot"].argmax(0)
    assert np.allclose(data["ism"][:, ref, np.arange(100)], 0.0, atol=1e-6)
    assert (tmp_path / "ex/s1.png").stat().st_size > 1000 and not (tmp_path / "ex/s2.npz").exists()


def _planted_tsv(path: Path, n: int, length: int) -> Path:
    from gdl_dna.data.planted_motifs import generate

    names, rows = generate(n, length, seed=3)
    lines = ["id\tsequence\t" + "\t".join(names)]
    lines += [f"{rid}\t{seq}\t" + "\t".join(map(str, y)) for rid, seq, y in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _short_fit(in_process, tmp_path: Path, config: str, *extra: str):
    r = in_process(
        "fit", "--config", str(ROOT / f"configs/dna/{config}.yaml"),
        "--trainer.max_epochs=1", "--trainer.limit_train_batches=2",
        "--trainer.limit_val_batches=1", "--data.batch_size=16",
        # One model: the default's ensemble members share the window rule tested here.
        "--ensemble_size=1",
        "--trainer.default_root_dir", str(tmp_path / "run"), *extra, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return r, next((tmp_path / "run").glob("lightning_logs/version_*/checkpoints/last.ckpt"))


@pytest.mark.parametrize("config", ["small", "default"])
def test_a_300bp_tsv_is_used_whole_by_the_shipped_configs(config, tmp_path, in_process):
    from gdl_dna.task import DNATask

    from gdl_science.io import load_task

    tsv = _planted_tsv(tmp_path / "planted300.tsv", 48, 300)
    r, ckpt = _short_fit(in_process, tmp_path, config, "--data.path", str(tsv))
    assert "warning" not in r.stderr and "padded to" not in r.stderr
    task = load_task(DNATask, ckpt)
    assert task.sequence_length == 300 and not task.frame_rule.fixed
    assert task.frame_rule.frame_for(300) == 300  # every base of every sequence, no crop


def test_a_short_window_warns_once_with_the_count_and_predict_follows_the_checkpoint(
    tmp_path, in_process
):
    tsv = _planted_tsv(tmp_path / "planted300.tsv", 48, 300)
    r, ckpt = _short_fit(
        in_process, tmp_path, "small", "--data.path", str(tsv), "--data.window=100"
    )
    warnings = [line for line in r.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1, warnings
    assert "48 of 48 sequences are longer than the window 100 and are centre-cropped" in warnings[0]
    fa = tmp_path / "mixed.fa"
    fa.write_text(">long\n" + "ACGT" * 100 + "\n>short\n" + "ACGT" * 10 + "\n")
    p = in_process(
        "predict", "--checkpoint", str(ckpt), "--input", str(fa),
        "--output", str(tmp_path / "p.tsv"), cwd=tmp_path,
    )  # fmt: skip
    assert p.returncode == 0 and "1 sequence(s) longer than the checkpoint's window 100" in p.stderr


def test_any_window_is_accepted_and_padded_up_to_the_pools_rule_once(tmp_path, in_process):
    tsv = _planted_tsv(tmp_path / "planted.tsv", 32, 101)
    r, _ = _short_fit(
        in_process, tmp_path, "small", "--data.path", str(tsv), "--data.window=101",
        "--model.pool_sizes=[4, 1]",
    )  # fmt: skip
    notes = [line for line in r.stderr.splitlines() if "padded to" in line]
    assert len(notes) == 1 and "window 101 padded to 102" in notes[0]
    assert "even pool window needs an even length" in notes[0]


def test_fit_on_a_user_tsv_with_regression_labels(tmp_path, in_process):
    import numpy as np

    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 40)) for _ in range(40)]
    gc = [(s.count("G") + s.count("C")) / 40 for s in seqs]
    rows = ["id\tsequence\tgc"] + [f"s{i}\t{s}\t{v:.3f}" for i, (s, v) in enumerate(zip(seqs, gc))]
    tsv = tmp_path / "train.tsv"
    tsv.write_text("\n".join(rows) + "\n")
    r = in_process(
        "fit",
        "--config",
        str(ROOT / "configs/dna/small.yaml"),
        "--data.path",
        str(tsv),
        "--data.window",
        "40",
        "--trainer.max_epochs",
        "1",
        *TINY_MODEL,
        "--trainer.default_root_dir",
        str(tmp_path / "run"),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "val/pearson=" in r.stderr and "val/mse=" in r.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("id\tseq\tlabel\na\tACGT\t1\n", "no 'sequence' column; columns found: id, seq, label"),
        (
            "id\tsequence\tlabel\na\tACGT\t1\nb\tAC-T\t0\n",
            r"bad.tsv line 3 (id=b): unknown character '-'",
        ),
        ("id\tsequence\tlabel\na\tACGT\t1\na\tACGT\t0\n", "line 3 (id=a): duplicate id"),
    ],
    ids=["empty", "no-sequence-column", "unknown-character", "duplicate-id"],
)
def test_bad_training_input_is_one_line_and_exit_2(tmp_path, in_process, content, message):
    bad = tmp_path / "bad.tsv"
    bad.write_text(content)
    run = gdl_dna if "unknown character" in message else in_process  # one via the real script
    r = run(
        "fit",
        "--config",
        str(ROOT / "configs/dna/small.yaml"),
        "--data.path",
        str(bad),
        "--trainer.default_root_dir",
        str(tmp_path / "run"),
        cwd=tmp_path,
    )
    assert r.returncode == 2, r.stderr[-2000:]
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("gdl-dna: error: ") and message in last
    if run is gdl_dna:  # in-process, pytest's closed capture streams can log noise
        assert "Traceback" not in r.stderr


def test_predict_refuses_to_overwrite_its_input_and_unusable_input(trained, tmp_path, in_process):
    fa = tmp_path / "in.fa"
    fa.write_text(">a\nACGT\n")
    r = in_process(
        "predict",
        "--checkpoint",
        str(trained),
        "--input",
        str(fa),
        "--output",
        str(fa),
        cwd=tmp_path,
    )
    assert (
        r.returncode == 2 and "overwrite the input" in r.stderr and fa.read_text() == ">a\nACGT\n"
    )
    allbad = tmp_path / "bad.fa"
    allbad.write_text(">a\nACGU!\n")
    r = in_process(
        "predict",
        "--checkpoint",
        str(trained),
        "--input",
        str(allbad),
        "--output",
        str(tmp_path / "o.tsv"),
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "no record could be predicted" in r.stderr
    r = in_process(
        "predict",
        "--checkpoint",
        str(tmp_path / "missing.ckpt"),
        "--input",
        str(fa),
        "--output",
        str(tmp_path / "o.tsv"),
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "checkpoint not found" in r.stderr
