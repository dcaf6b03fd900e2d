"""Readers and strict loading: formats, labels, splits and every bad-input message."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from gdl_dna.data import Genome, iter_records
from gdl_dna.data.loading import load_labelled, split_records

from gdl_science.io import UserInputError


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_tsv_with_labels_and_missing_values(tmp_path):
    p = write(
        tmp_path / "s.tsv", "id\tsequence\ta\tb\nx1\tACGT\t1\t0\nx2\tacgn\t\t1\nx3\tGGCC\t0\tNA\n"
    )
    data = load_labelled(str(p))
    assert data.spec.kind == "binary" and data.spec.names == ["a", "b"]
    assert np.isnan(data.targets[1, 0]) and np.isnan(data.targets[2, 1])
    assert data.targets[0].tolist() == [1.0, 0.0]


def test_csv_regression_and_multiclass_are_inferred(tmp_path):
    reg = write(tmp_path / "r.csv", "sequence,expr\nACGT,1.5\nCCGG,-0.2\n")
    assert load_labelled(str(reg)).spec.kind == "regression"
    mc = write(tmp_path / "m.csv", "id,sequence,cell\na,ACGT,liver\nb,CCGG,brain\nc,TTTT,liver\n")
    data = load_labelled(str(mc))
    assert data.spec.kind == "multiclass" and data.spec.classes == ["brain", "liver"]
    assert data.targets.tolist() == [1, 0, 1]


def test_non_numeric_regression_label_names_file_line_and_column(tmp_path):
    p = write(tmp_path / "r.tsv", "id\tsequence\ty\nq1\tACGT\t1.0\nq2\tACGT\thigh\n")
    with pytest.raises(
        UserInputError,
        match=r"r.tsv line 3 \(id=q2\): non-numeric regression label 'high' in column 'y'",
    ):
        load_labelled(str(p), task_type="regression")


def test_missing_sequence_column_lists_the_columns(tmp_path):
    p = write(tmp_path / "s.tsv", "id\tseq\tlabel\nx\tACGT\t1\n")
    with pytest.raises(UserInputError, match="no 'sequence' column; columns found: id, seq, label"):
        list(iter_records(p))


def test_empty_files_are_refused(tmp_path):
    for name in ("e.tsv", "e.fa", "e.bed"):
        p = write(tmp_path / name, "")
        genome = _genome(tmp_path) if name.endswith(".bed") else None
        with pytest.raises(UserInputError, match="empty file"):
            list(iter_records(p, genome))


def test_unknown_character_is_a_record_error_and_fails_strict_loading(tmp_path):
    p = write(tmp_path / "s.tsv", "id\tsequence\tl\na\tACGT\t1\nb\tACZT\t0\n")
    recs = list(iter_records(p))
    assert recs[0].error is None and recs[1].error == "unknown character 'Z' at position 3"
    with pytest.raises(UserInputError, match=r"s.tsv line 3 \(id=b\): unknown character 'Z'"):
        load_labelled(str(p))


def test_duplicate_ids_are_refused(tmp_path):
    p = write(tmp_path / "s.tsv", "id\tsequence\tl\na\tACGT\t1\na\tACGT\t0\n")
    with pytest.raises(UserInputError, match=r"line 3 \(id=a\): duplicate id"):
        load_labelled(str(p))


def test_fasta_gz_and_fastq_with_a_label_table(tmp_path):
    fa = tmp_path / "s.fa.gz"
    with gzip.open(fa, "wt") as fh:
        fh.write(">r1 desc\nACGT\nACGT\n>r2\nNNCC\n")
    labels = write(tmp_path / "l.csv", "id,bound\nr1,1\nr2,0\n")
    data = load_labelled(str(fa), labels=str(labels))
    assert [r.sequence for r in data.records] == ["ACGTACGT", "NNCC"]
    assert data.targets[:, 0].tolist() == [1.0, 0.0]
    fq = write(tmp_path / "s.fastq", "@r1\nACGT\n+\nIIII\n@r2\nGGGG\n+\nIIII\n")
    assert [r.id for r in iter_records(fq)] == ["r1", "r2"]


def test_label_table_missing_ids_names_them(tmp_path):
    fa = write(tmp_path / "s.fa", ">r1\nACGT\n>r2\nACGT\n>r3\nACGT\n")
    labels = write(tmp_path / "l.tsv", "id\tbound\nr1\t1\n")
    with pytest.raises(UserInputError, match=r"l.tsv: no labels for 2 record id\(s\): r2, r3"):
        load_labelled(str(fa), labels=str(labels))


def _genome(tmp_path: Path) -> Path:
    g = tmp_path / "genome.fa"
    if not g.exists():
        rng = np.random.default_rng(0)
        chr1 = "".join(rng.choice(list("ACGT"), size=300))
        chr2 = "".join(rng.choice(list("acgt"), size=120))
        g.write_text(
            ">chr1\n" + "\n".join(chr1[i : i + 60] for i in range(0, 300, 60)) + "\n"
            ">chr2\n" + "\n".join(chr2[i : i + 60] for i in range(0, 120, 60)) + "\n"
        )
    return g


def test_bed_with_header_strand_and_labels(tmp_path):
    g = _genome(tmp_path)
    bed = write(
        tmp_path / "r.bed",
        "#chrom\tstart\tend\tname\tstrand\tbound\n"
        "chr1\t10\t30\tp1\t+\t1\nchr1\t10\t30\tm1\t-\t0\nchr2\t0\t50\tp2\t.\t1\n",
    )
    recs = list(iter_records(bed, g))
    genome = Genome(g)
    assert recs[0].sequence == genome.fetch("chr1", 10, 30)
    from gdl_dna.data import reverse_complement

    assert recs[1].sequence == reverse_complement(recs[0].sequence)
    assert recs[2].chrom == "chr2" and recs[2].labels == {"bound": "1"}
    assert Path(str(g) + ".fai").is_file()  # the index was built beside the genome


def test_headerless_bed6_reads_score_and_strand_by_position_and_has_no_labels(tmp_path):
    g = _genome(tmp_path)
    bed = write(tmp_path / "r.bed", "chr1\t0\t20\tp\t960\t+\nchr1\t0\t20\tm\t500\t-\n")
    plus, minus = iter_records(bed, g)
    from gdl_dna.data import reverse_complement

    assert minus.sequence == reverse_complement(plus.sequence)  # strand is column 6
    assert plus.id == "p" and plus.labels == {} and minus.labels == {}
    with pytest.raises(UserInputError, match="BED labels come from a named header"):
        load_labelled(str(bed), genome=str(g))
    table = write(tmp_path / "labels.tsv", "id\tbound\np\t1\nm\t0\n")
    data = load_labelled(str(bed), labels=str(table), genome=str(g))  # a label table
    assert data.spec.names == ["bound"] and data.targets[:, 0].tolist() == [1.0, 0.0]


def test_headerless_narrowpeak_is_not_a_regression_on_its_columns(tmp_path):
    g = _genome(tmp_path)
    row = "chr1\t10\t40\tpeak1\t1000\t-\t5.2\t12.1\t9.8\t15\n"
    for name in ("r.narrowPeak", "r.bed"):  # 10 columns in a .bed file are narrowPeak too
        (rec,) = iter_records(write(tmp_path / name, row), g)
        assert rec.error is None and rec.id == "peak1" and rec.labels == {}
        assert rec.sequence == reverse_complement_of(g, "chr1", 10, 40)


def reverse_complement_of(g: Path, chrom: str, start: int, end: int) -> str:
    from gdl_dna.data import reverse_complement

    return reverse_complement(Genome(g).fetch(chrom, start, end))


def test_bed_comment_lines_are_not_headers_and_headers_need_matching_names(tmp_path):
    g = _genome(tmp_path)
    text = (
        "track name=peaks\nbrowser position chr1:1-100\n# made by a pipeline, v2\n"
        "chr1\t0\t20\ta\t0\t+\n"
    )
    (rec,) = iter_records(write(tmp_path / "c.bed", text), g)
    assert rec.id == "a" and rec.labels == {} and rec.error is None
    # A '#' line with the right names and count is the header; its extra names are labels.
    named = "# a comment\n#chrom\tstart\tend\tname\tscore\tstrand\tbound\n"
    (rec,) = iter_records(write(tmp_path / "h.bed", named + "chr1\t0\t20\ta\t5\t-\t1\n"), g)
    assert rec.labels == {"bound": "1"}
    assert rec.sequence == reverse_complement_of(g, "chr1", 0, 20)
    # A header without '#' on the first line (bioframe's to_csv), UCSC names accepted.
    plain = "chrom\tchromStart\tchromEnd\tname\tbound\nchr1\t0\t20\ta\t0\n"
    (rec,) = iter_records(write(tmp_path / "p.bed", plain), g)
    assert rec.labels == {"bound": "0"} and rec.where == "p.bed line 2"


def test_bed_past_chromosome_end_and_unknown_chromosome(tmp_path):
    bed = write(tmp_path / "r.bed", "chr1\t290\t310\ta\t1\nchrX\t0\t10\tb\t1\n")
    recs = list(iter_records(bed, _genome(tmp_path)))
    assert recs[0].error == "interval chr1:290-310 is past the chromosome end (300)"
    assert recs[1].error == "unknown chromosome 'chrX' (not in genome.fa)"
    with pytest.raises(
        UserInputError, match=r"r.bed line 1 \(id=a\): interval chr1:290-310 is past"
    ):
        load_labelled(str(bed), genome=str(_genome(tmp_path)))


def test_genome_without_index_in_a_read_only_folder_says_how_to_build_one(tmp_path, monkeypatch):
    g = _genome(tmp_path)
    # Tests may run as root, which can write anywhere: simulate the read-only folder.
    monkeypatch.setattr("gdl_dna.data.genome.os.access", lambda path, mode: False)
    with pytest.raises(UserInputError, match=r"no index genome.fa.fai.*samtools faidx"):
        Genome(g)


def test_bed_without_genome_is_refused(tmp_path):
    bed = write(tmp_path / "r.bed", "chr1\t0\t20\n")
    with pytest.raises(UserInputError, match="needs a genome"):
        iter_records(bed)


def test_splits_random_chromosome_and_column(tmp_path):
    g = _genome(tmp_path)
    rows = "#chrom\tstart\tend\tname\tlabel\n" + "".join(
        f"chr{1 + i % 2}\t{i}\t{i + 20}\tr{i}\t{i % 2}\n" for i in range(20)
    )
    data = load_labelled(str(write(tmp_path / "r.bed", rows)), genome=str(g))
    train, val, test = split_records(data.records, "chrom", 0, 0, 0, val_chroms=["chr2"])
    assert {data.records[i].chrom for i in val} == {"chr2"} and not test
    assert {data.records[i].chrom for i in train} == {"chr1"}
    a = split_records(data.records, "random", 0.2, 0.2, seed=3)
    assert a == split_records(data.records, "random", 0.2, 0.2, seed=3)
    assert sorted(a[0] + a[1] + a[2]) == list(range(20))
    p = write(
        tmp_path / "s.tsv",
        "id\tsequence\tsplit\tl\na\tACGT\ttrain\t1\nb\tACGT\tvalid\t0\nc\tAC\ttest\t1\n",
    )
    d = load_labelled(str(p))
    assert split_records(d.records, "column", 0, 0, 0) == ([0], [1], [2])
    bad = write(tmp_path / "b.tsv", "id\tsequence\tsplit\tl\na\tACGT\tholdout\t1\n")
    with pytest.raises(UserInputError, match=r"split value 'holdout' is not one of train"):
        split_records(load_labelled(str(bad)).records, "column", 0, 0, 0)


def test_unknown_file_type_is_refused(tmp_path):
    with pytest.raises(UserInputError, match="unknown input type"):
        iter_records(write(tmp_path / "x.json", "{}"))
