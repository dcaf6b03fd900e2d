"""``gdl-dna variant-effect``: VCF rows -> REF/ALT scores, bad rows reported, RC symmetry."""

from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

import numpy as np
import pytest
from gdl_dna.data.alphabet import reverse_complement
from gdl_dna.data.vcf import iter_variants

from gdl_science.io import UserInputError

TINY = dict(
    channels=[4, 4],
    irrep_channels=2,
    kernel_sizes=[7, 5],
    dilations=[1, 2],
    pool_sizes=[3, 1],
    hidden=[8],
    dropout=0.0,
    kmer=1,
    trunk_dropout=0.0,
)
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def write_genome(path: Path, seqs: dict[str, str]) -> Path:
    path.write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    return path


def run(*args: str, monkeypatch, capsys, cwd: Path) -> tuple[int, str]:
    from gdl_dna.cli import SPEC

    from gdl_science.cli import run_app

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["gdl-dna", *args])
    code = run_app(SPEC, list(args))
    return code, capsys.readouterr().err


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_scores_snvs_indels_and_split_multiallelic_sites_and_reports_bad_rows(
    checkpoint, genome_seqs, tmp_path, monkeypatch, capsys
):
    genome = write_genome(tmp_path / "g.fa", genome_seqs)
    c1 = genome_seqs["chr1"]
    rows = [
        f"chr1\t100\trs1\t{c1[99]}\t{'A' if c1[99] != 'A' else 'C'}\t.\t.\t.",  # SNV
        f"chr1\t200\tdel1\t{c1[199:203]}\t{c1[199]}\t.\t.\t.",  # 3 bp deletion
        f"chr1\t250\tins1\t{c1[249]}\t{c1[249]}GGT\t.\t.\t.",  # 3 bp insertion
        f"chr1\t300\tmulti\t{c1[299]}\tA,C,G,T\t.\t.\t.",  # multi-allelic (REF itself too)
        f"chr1\t120\tbadref\t{'G' if c1[119] != 'G' else 'T'}\tA\t.\t.\t.",
        "chrX\t10\tnochrom\tA\tG\t.\t.\t.",
        "chr1\t50",
        "chr1\tfifty\tbadpos\tA\tG\t.\t.\t.",
        f"chr1\t60\tsym\t{c1[59]}\t<DEL>\t.\t.\t.",
        f"chr2\t2\tedge\t{genome_seqs['chr2'][1]}\tN\t.\t.\t.",  # window runs past the start
    ]
    vcf = tmp_path / "v.vcf.gz"
    with gzip.open(vcf, "wt") as fh:
        fh.write(HEADER + "\n".join(rows) + "\n")
    out = tmp_path / "effects.tsv"
    code, err = run(
        "variant-effect", "--checkpoint", str(checkpoint), "--vcf", str(vcf),
        "--genome", str(genome), "--output", str(out),
        monkeypatch=monkeypatch, capsys=capsys, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    table = read_tsv(out)
    assert list(table[0])[:5] == ["chrom", "pos", "id", "ref", "alt"]
    assert {"a_ref", "a_alt", "a_diff", "a_logfc", "b_logfc"} <= set(table[0])
    assert [r["id"] for r in table] == ["rs1", "del1", "ins1"] + ["multi"] * 4 + ["edge"]
    for r in table:
        ref, alt = float(r["a_ref"]), float(r["a_alt"])
        # The table keeps 6 significant digits.
        assert 0 < ref < 1 and abs(float(r["a_diff"]) - (alt - ref)) < 1e-5
        assert abs(float(r["a_logfc"]) - np.log2((alt + 1e-6) / (ref + 1e-6))) < 1e-4
    same = next(r for r in table if r["id"] == "multi" and r["alt"] == r["ref"])
    assert float(same["a_diff"]) == 0.0  # ALT == REF scores no effect
    errors = {r["id"]: r["reason"] for r in read_tsv(Path(str(out) + ".errors.tsv"))}
    reasons = " | ".join(errors.values())
    assert len(errors) == 5, errors
    assert "does not match the genome" in reasons and "is not in g.fa" in reasons
    assert "2 columns" in reasons and "not an integer" in reasons and "symbolic" in reasons
    assert "v.vcf.gz line 8:" in errors[next(k for k in errors if k.startswith("nochrom"))]
    assert "5 bad" in err


def test_a_variant_on_the_reverse_complemented_genome_has_the_same_effect(
    checkpoint, genome_seqs, tmp_path, monkeypatch, capsys
):
    c1 = genome_seqs["chr1"]
    n = len(c1)
    variants = [(100, c1[99], "T" if c1[99] != "T" else "G"), (200, c1[199:203], c1[199]),
                (250, c1[249], c1[249] + "GGT")]  # fmt: skip
    forward = tmp_path / "f.vcf"
    forward.write_text(HEADER + "".join(f"chr1\t{p}\tv{i}\t{r}\t{a}\t.\t.\t.\n"
                                        for i, (p, r, a) in enumerate(variants)))  # fmt: skip
    # On the reverse-complemented chromosome, REF span [p-1, p-1+len) maps to
    # [n-(p-1+len), n-(p-1)); alleles are reverse-complemented.
    reverse = tmp_path / "r.vcf"
    reverse.write_text(HEADER + "".join(
        f"chr1\t{n - (p - 1 + len(r)) + 1}\tv{i}\t{reverse_complement(r)}\t"
        f"{reverse_complement(a)}\t.\t.\t.\n" for i, (p, r, a) in enumerate(variants)))  # fmt: skip
    results = []
    for name, vcf, seqs in (
        ("f", forward, genome_seqs),
        ("r", reverse, {c: reverse_complement(s) for c, s in genome_seqs.items()}),
    ):
        genome = write_genome(tmp_path / f"{name}.fa", seqs)
        out = tmp_path / f"{name}.tsv"
        code, err = run(
            "variant-effect", "--checkpoint", str(checkpoint), "--vcf", str(vcf),
            "--genome", str(genome), "--output", str(out),
            monkeypatch=monkeypatch, capsys=capsys, cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        results.append(read_tsv(out))
    for f, r in zip(*results):
        for col in ("a_ref", "a_alt", "a_diff", "b_diff", "b_logfc"):
            assert abs(float(f[col]) - float(r[col])) < 1e-5, (f["id"], col, f[col], r[col])
    assert any(abs(float(f["a_diff"])) > 1e-4 for f in results[0])  # effects are not all zero


def test_vcf_reader_refuses_a_non_vcf_file_and_an_empty_one(tmp_path):
    bad = tmp_path / "x.vcf"
    bad.write_text("chrom\tpos\n")
    with pytest.raises(UserInputError, match="not a VCF"):
        list(iter_variants(bad))
    empty = tmp_path / "e.vcf"
    empty.write_text(HEADER)
    with pytest.raises(UserInputError, match="no variant rows"):
        list(iter_variants(empty))
