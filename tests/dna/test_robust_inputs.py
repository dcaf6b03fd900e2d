"""One bad record never aborts a run (issue 17) and the VCF gaps (issue 22): every good
record gets its output, each bad one is in ``<output>.errors.tsv``, exit 0; an input
that is unusable as a whole is one line, exit 2."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from gdl_dna.data import iter_records
from gdl_dna.data.loading import load_labelled

from gdl_science.io import UserInputError
from tests.dna.test_variant_effect import HEADER, read_tsv, run, write_genome


def _snv(seqs: dict[str, str], chrom: str, pos: int, vid: str, flag: str = ".") -> str:
    ref = seqs[chrom][pos - 1]
    return f"{chrom}\t{pos}\t{vid}\t{ref}\t{'A' if ref != 'A' else 'C'}\t.\t{flag}\t."


def _effects(tmp_path, monkeypatch, capsys, ckpt, vcf, genome, *extra) -> tuple[int, str, Path]:
    out = tmp_path / "effects.tsv"
    code, err = run(
        "variant-effect", "--checkpoint", str(ckpt), "--vcf", str(vcf), "--genome", str(genome),
        "--output", str(out), *extra, monkeypatch=monkeypatch, capsys=capsys, cwd=tmp_path,
    )  # fmt: skip
    return code, err, out


def _errors(out: Path) -> list[dict[str, str]]:
    return read_tsv(Path(str(out) + ".errors.tsv"))


def test_a_dash_in_the_genome_fails_only_the_variant_beside_it(
    checkpoint, genome_seqs, tmp_path, monkeypatch, capsys
):
    seqs = dict(genome_seqs)
    seqs["chr1"] = seqs["chr1"][:150] + "-" + seqs["chr1"][151:]
    genome = write_genome(tmp_path / "g.fa", seqs)
    vcf = tmp_path / "v.vcf"
    vcf.write_text(HEADER + "\n".join(
        [_snv(seqs, "chr1", 60, "far"), _snv(seqs, "chr1", 160, "near"),
         _snv(seqs, "chr2", 50, "other")]) + "\n")  # fmt: skip
    code, err, out = _effects(tmp_path, monkeypatch, capsys, checkpoint, vcf, genome)
    assert code == 0, err
    assert [r["id"] for r in read_tsv(out)] == ["far", "other"]
    (bad,) = _errors(out)
    assert "near" in bad["id"] and "'-' at chr1:151, which is not DNA" in bad["reason"]


def test_a_stale_or_mismatched_genome_index_is_rebuilt(
    checkpoint, genome_seqs, tmp_path, monkeypatch, capsys
):
    import os

    genome = write_genome(tmp_path / "g.fa", {"chrZ": "ACGT" * 30, **genome_seqs})
    fai = Path(str(genome) + ".fai")
    fai.write_text("chr1\t400\t6\t400\t401\n")  # an index of another file, newer than it
    vcf = tmp_path / "v.vcf"
    vcf.write_text(HEADER + _snv(genome_seqs, "chr1", 100, "a") + "\n")
    code, err, out = _effects(tmp_path, monkeypatch, capsys, checkpoint, vcf, genome)
    assert code == 0 and "did not match g.fa; rebuilt it" in err
    assert [r["id"] for r in read_tsv(out)] == ["a"]
    os.utime(fai, (1, 1))  # older than the FASTA: pyfaidx's stale rule rebuilds it too
    code, err, out = _effects(tmp_path, monkeypatch, capsys, checkpoint, vcf, genome)
    assert code == 0 and [r["id"] for r in read_tsv(out)] == ["a"]


def test_duplicate_chromosome_names_make_the_genome_unusable(
    checkpoint, tmp_path, monkeypatch, capsys
):
    genome = tmp_path / "g.fa"
    genome.write_text(">chr1\n" + "ACGT" * 20 + "\n>chr1\n" + "TTGA" * 20 + "\n")
    vcf = tmp_path / "v.vcf"
    vcf.write_text(HEADER + "chr1\t10\ta\tG\tA\t.\t.\t.\n")
    code, err, _ = _effects(tmp_path, monkeypatch, capsys, checkpoint, vcf, genome)
    assert code == 2 and err.count("\n") == 1
    assert 'chromosome name "chr1" appears twice' in err


def test_a_truncated_bgzip_genome_is_unusable_as_a_whole(checkpoint, tmp_path, monkeypatch, capsys):
    from Bio import bgzf

    whole = tmp_path / "whole.fa.gz"
    with bgzf.BgzfWriter(str(whole), "wb") as fh:
        fh.write((">chr1\n" + "\n".join(["ACGTTGCA" * 8] * 3000) + "\n").encode())
    cut = tmp_path / "g.fa.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    vcf = tmp_path / "v.vcf"
    vcf.write_text(HEADER + "chr1\t10\ta\tT\tA\t.\t.\t.\n")
    code, err, _ = _effects(tmp_path, monkeypatch, capsys, checkpoint, vcf, cut)
    assert code == 2 and err.count("\n") == 1 and "g.fa.gz: cannot" in err


def test_truncated_vcf_gz_and_a_non_utf8_row_keep_every_good_variant(
    checkpoint, genome_seqs, tmp_path, monkeypatch, capsys
):
    genome = write_genome(tmp_path / "g.fa", genome_seqs)
    rows = [_snv(genome_seqs, "chr1", p, f"v{p}") for p in range(20, 380, 5)]
    rows[3] = rows[3].replace("\t.\t.\t.", "\t.\t.\tNOTE=caf\xe9")
    body = (HEADER + "\n".join(rows) + "\n").encode("latin-1")
    whole = gzip.compress(body)
    vcf = tmp_path / "v.vcf.gz"
    vcf.write_bytes(whole[: len(whole) * 2 // 3])  # cut mid-stream
    code, err, out = _effects(tmp_path, monkeypatch, capsys, checkpoint, vcf, genome)
    assert code == 0, err
    ids = [r["id"] for r in read_tsv(out)]
    assert ids[:3] == ["v20", "v25", "v30"] and "v35" not in ids and len(ids) > 10
    reasons = [e["reason"] for e in _errors(out)]
    assert any("line 6" in r and "byte 0xe9" in r and "not UTF-8" in r for r in reasons)
    assert "truncated or corrupt compressed file" in reasons[-1]


def test_vcf_filter_bgz_by_magic_bytes_and_bcf_refused(
    checkpoint, genome_seqs, tmp_path, monkeypatch, capsys
):
    genome = write_genome(tmp_path / "g.fa", genome_seqs)
    rows = [_snv(genome_seqs, "chr1", 100, "pass", "PASS"), _snv(genome_seqs, "chr1", 110, "dot"),
            _snv(genome_seqs, "chr1", 120, "lowq", "LowQual"),
            _snv(genome_seqs, "chr1", 130, "two", "q10;s50")]  # fmt: skip
    vcf = tmp_path / "v.bgz"  # bgzip output named .bgz: opened by its magic bytes
    vcf.write_bytes(gzip.compress((HEADER + "\n".join(rows) + "\n").encode()))
    code, err, out = _effects(tmp_path, monkeypatch, capsys, checkpoint, vcf, genome)
    assert code == 0 and [r["id"] for r in read_tsv(out)] == ["pass", "dot"]
    assert "2 VCF row(s) skipped: FILTER is not PASS or '.'" in err
    code, err, out = _effects(tmp_path, monkeypatch, capsys, checkpoint, vcf, genome,
                              "--all-filters")  # fmt: skip
    assert code == 0 and len(read_tsv(out)) == 4 and "skipped" not in err
    bcf = tmp_path / "v.bcf"
    bcf.write_bytes(gzip.compress(b"BCF\x02\x02" + b"\x00" * 40))
    code, err, _ = _effects(tmp_path, monkeypatch, capsys, checkpoint, bcf, genome)
    assert code == 2 and "BCF (binary VCF) is not read" in err and "bcftools view" in err


def test_predict_names_the_fasta_record_with_a_latin1_header_and_keeps_the_rest(
    checkpoint, tmp_path, monkeypatch, capsys
):
    records = [f">r{i}\n{'ACGT' * 20}\n".encode() for i in range(1, 8)]
    records[4] = b">r5 caf\xe9\n" + b"ACGT" * 20 + b"\n"
    fa = tmp_path / "in.fa.gz"
    fa.write_bytes(gzip.compress(b"".join(records)))
    out = tmp_path / "p.tsv"
    code, err = run("predict", "--checkpoint", str(checkpoint), "--input", str(fa),
                    "--output", str(out), monkeypatch=monkeypatch, capsys=capsys, cwd=tmp_path)
    assert code == 0, err
    assert [r["id"] for r in read_tsv(out)] == ["r1", "r2", "r3", "r4", "r6", "r7"]
    (bad,) = _errors(out)
    assert bad["id"].startswith("r5") and "in.fa.gz record 5" in bad["reason"]
    assert "byte 0xe9" in bad["reason"]


def test_predict_a_truncated_fasta_gz_keeps_the_records_before_the_cut(
    checkpoint, tmp_path, monkeypatch, capsys
):
    import numpy as np

    rng = np.random.default_rng(0)
    text = "".join(f">r{i}\n{''.join(rng.choice(list('ACGT'), 80))}\n" for i in range(200))
    whole = gzip.compress(text.encode())
    fa = tmp_path / "in.fa.gz"
    fa.write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "p.tsv"
    code, err = run("predict", "--checkpoint", str(checkpoint), "--input", str(fa),
                    "--output", str(out), monkeypatch=monkeypatch, capsys=capsys, cwd=tmp_path)
    assert code == 0, err
    n = len(read_tsv(out))
    assert 20 < n < 200
    (bad,) = _errors(out)
    assert "truncated or corrupt compressed file" in bad["reason"]


def test_predict_refuses_an_existing_folder_as_output_before_predicting(
    checkpoint, tmp_path, monkeypatch, capsys
):
    fa = tmp_path / "in.fa"
    fa.write_text(">a\nACGTACGT\n")
    (tmp_path / "outdir").mkdir()
    code, err = run("predict", "--checkpoint", str(checkpoint), "--input", str(fa),
                    "--output", str(tmp_path / "outdir"),
                    monkeypatch=monkeypatch, capsys=capsys, cwd=tmp_path)  # fmt: skip
    assert code == 2 and "is a folder" in err and "predicted" not in err


def test_a_yes_in_a_0_1_label_column_is_an_error_naming_the_record(tmp_path):
    rows = "".join(f"s{i}\tACGTACGT\t{i % 2}\n" for i in range(10))
    table = tmp_path / "t.tsv"
    table.write_text("id\tsequence\tlabel\n" + rows + "s10\tACGTAAAA\tyes\n")
    with pytest.raises(UserInputError, match=r"t.tsv line 12 \(id=s10\): label 'yes' in "
                       r"column 'label' is text where the column's other values are numbers"):
        load_labelled(str(table))
    # All text is still a multiclass task.
    table.write_text("id\tsequence\tlabel\na\tACGT\tyes\nb\tACGT\tno\n")
    assert load_labelled(str(table)).spec.kind == "multiclass"


def test_a_table_row_that_is_not_utf8_is_one_bad_record(tmp_path):
    table = tmp_path / "t.tsv"
    table.write_bytes(b"id\tsequence\na\tACGT\nb\xe9\tACGT\nc\tACGT\n")
    recs = list(iter_records(table))
    assert [r.error is None for r in recs] == [True, False, True]
    assert "line 3" in recs[1].where and "byte 0xe9" in recs[1].error
