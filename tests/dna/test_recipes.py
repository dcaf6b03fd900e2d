"""data_recipes: the planted-motif generator (real JASPAR) and the Genomic Benchmarks
recipe, run offline against a tiny mirror of the benchmark repository the test builds."""

from __future__ import annotations

import collections
import gzip
import itertools

import numpy as np
from gdl_dna.data import reverse_complement
from gdl_dna.data.loading import load_labelled, split_records

from data_recipes import dna_genomic_benchmarks as gb
from data_recipes.dna_planted_motifs import dinucleotide_shuffle, generate, load_motif


def _best_site_score(seq: str, pwm: np.ndarray) -> float:
    """Max log-odds of the motif over both strands."""
    logodds = np.log(pwm / 0.25)
    idx = np.array(["ACGT".index(c) for c in seq])
    k = len(pwm)
    scores = [logodds[np.arange(k), idx[i : i + k]].sum() for i in range(len(seq) - k + 1)]
    rc = np.array(["ACGT".index(c) for c in reverse_complement(seq)])
    scores += [logodds[np.arange(k), rc[i : i + k]].sum() for i in range(len(seq) - k + 1)]
    return max(scores)


def test_planted_motifs_are_real_jaspar_matrices_found_on_both_strands():
    name, pwm = load_motif("MA0139.2")
    assert name == "CTCF" and pwm.shape == (15, 4) and np.allclose(pwm.sum(1), 1)
    names, rows = generate(120, 150, motifs=["MA0139.2"], p_present=0.5, seed=3)
    assert names == ["CTCF_MA0139.2"]
    present = [_best_site_score(s, pwm) for _, s, y in rows if y[0] == 1]
    absent = [_best_site_score(s, pwm) for _, s, y in rows if y[0] == 0]
    assert 30 < len(present) < 90
    assert np.median(present) > np.percentile(absent, 90)  # the planted sites stand out
    # deterministic for a seed
    assert generate(5, 50, motifs=["MA0139.2"], seed=1) == generate(
        5, 50, motifs=["MA0139.2"], seed=1
    )


def test_dinucleotide_shuffle_keeps_every_dinucleotide_count():
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), 300))
    shuffled = dinucleotide_shuffle(seq, rng)
    count = lambda s: collections.Counter(itertools.pairwise(s))  # noqa: E731
    assert shuffled != seq and count(shuffled) == count(seq) and shuffled[0] == seq[0]
    _, rows = generate(3, 100, motifs=["MA0139.2"], background="dinuc", seed=0)
    assert all(len(s) == 100 for _, s, _ in rows)


def _tiny_mirror(root):
    """datasets/toy as the repository lays it out, with an Ensembl-style genome."""
    rng = np.random.default_rng(0)
    chroms = {
        "1": "".join(rng.choice(list("ACGT"), 400)),
        "2": "".join(rng.choice(list("ACGT"), 200)),
    }
    root.mkdir(parents=True)
    genome = root / "Homo_sapiens.toy.dna.toplevel.fa.gz"
    with gzip.open(genome, "wt") as fh:
        for c, s in chroms.items():
            fh.write(f">{c} dna:chromosome chromosome:GRCh38:{c}\n{s[:150]}\n{s[150:]}\n")
    ds = root / "datasets" / "toy"
    (ds / "train").mkdir(parents=True)
    (ds / "test").mkdir()
    ref = {"type": "fa.gz", "url": genome.as_uri(), "extra_processing": "ENSEMBL_HUMAN_GENOME"}
    import yaml

    (ds / "metadata.yaml").write_text(
        yaml.safe_dump({"version": 0, "classes": {"positive": ref, "negative": ref}})
    )
    rows = {
        ("train", "positive"): [(0, "chr1", 10, 60, "+"), (1, "chr2", 0, 50, "-")],
        ("train", "negative"): [(0, "chr1", 100, 150, "+")],
        ("test", "positive"): [(0, "chr1", 200, 250, "-")],
        ("test", "negative"): [(0, "chr2", 100, 150, "+")],
    }
    for (split, cls), intervals in rows.items():
        with gzip.open(ds / split / f"{cls}.csv.gz", "wt") as fh:
            fh.write("id,region,start,end,strand\n")
            fh.writelines(f"{i},{r},{s},{e},{st}\n" for i, r, s, e, st in intervals)
    return chroms


def test_genomic_benchmarks_recipe_offline(tmp_path):
    chroms = _tiny_mirror(tmp_path / "mirror")
    out = tmp_path / "out"
    gb.main(["--dataset", "toy", "--output", str(out), "--tsv",
             "--base-url", (tmp_path / "mirror" / "datasets").as_uri()])  # fmt: skip
    bed = out / "toy.bed"
    assert bed.read_text().splitlines()[0] == "#chrom\tstart\tend\tname\tstrand\tsplit\tclass"
    genome = out / "reference" / "Homo_sapiens.toy.dna.toplevel.fa"
    assert (
        genome.read_text().startswith(">chr1\n")
        and (genome.parent / (genome.name + ".fai")).is_file()
    )
    data = load_labelled(str(bed), genome=str(genome))
    assert data.spec.kind == "multiclass" and data.spec.classes == ["negative", "positive"]
    by_id = {r.id: r for r in data.records}
    assert by_id["train_positive_0"].sequence == chroms["1"][10:60]
    assert by_id["train_positive_1"].sequence == reverse_complement(chroms["2"][0:50])
    train, val, test = split_records(data.records, "column", 0, 0, 0)
    assert len(train) == 3 and not val and len(test) == 2
    tsv = (out / "toy.tsv").read_text().splitlines()
    assert tsv[0] == "id\tsequence\tsplit\tclass" and len(tsv) == 6
