"""Genomic Benchmarks (Grešová et al. 2023) -> a BED + genome (and a TSV) for gdl-dna.

The benchmark repository stores each data set as interval lists, not sequences:
``datasets/<name>/metadata.yaml`` (classes, and for each the URL of its reference
genome) and ``datasets/<name>/{train,test}/<class>.csv.gz`` with columns
``id, region, start, end, strand``. This recipe downloads those files, writes

- ``<name>.bed`` with a header ``#chrom start end name strand split class``: the split
  (train/test) and the class are columns, so ``--data.split column`` reproduces the
  benchmark's own split and the ``class`` column is a multiclass target;
- the reference genome as a plain, indexed FASTA (downloaded from the URL in the
  metadata, or ``--genome`` for one you have; Ensembl names get the benchmark's ``chr``
  prefix);
- optionally (``--tsv``) ``<name>.tsv`` with the sequences themselves.

Usage:
    python -m data_recipes.dna_genomic_benchmarks --dataset human_nontata_promoters \\
        --output data/gb --genome hg38.fa --tsv
    gdl-dna fit --config configs/dna/default.yaml --data.path data/gb/human_nontata_promoters.bed \\
        --data.genome hg38.fa --data.split column --data.window 251
"""

from __future__ import annotations

import argparse
import csv
import gzip
import shutil
import urllib.request
from collections.abc import Sequence
from pathlib import Path

BASE_URL = "https://raw.githubusercontent.com/ML-Bioinfo-CEITEC/genomic_benchmarks/main/datasets"
SPLITS = ("train", "test")
# The benchmark's reference preprocessing: Ensembl FASTA names ("1") become "chr1".
CHR_PREFIXED = {"ENSEMBL_HUMAN_GENOME", "ENSEMBL_MOUSE_GENOME"}


def fetch(url: str, dest: Path) -> Path:
    """Download ``url`` (http, https, ftp or file) to ``dest`` atomically; keep a cached copy."""
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as fh:
        shutil.copyfileobj(response, fh)
    tmp.replace(dest)
    return dest


def download_intervals(name: str, out_dir: Path, base_url: str = BASE_URL) -> dict:
    """metadata.yaml and every {split}/{class}.csv.gz of data set ``name`` into out_dir."""
    import yaml

    meta_path = fetch(f"{base_url}/{name}/metadata.yaml", out_dir / name / "metadata.yaml")
    metadata = yaml.safe_load(meta_path.read_text())
    for split in SPLITS:
        for cls in metadata["classes"]:
            fetch(
                f"{base_url}/{name}/{split}/{cls}.csv.gz", out_dir / name / split / f"{cls}.csv.gz"
            )
    return metadata


def intervals_to_bed(name: str, out_dir: Path, metadata: dict) -> Path:
    """One BED of every interval, with split and class columns (sorted by split, class)."""
    bed = out_dir / f"{name}.bed"
    tmp = bed.with_name(bed.name + ".part")
    with open(tmp, "w", newline="") as out:
        out.write("#chrom\tstart\tend\tname\tstrand\tsplit\tclass\n")
        for split in SPLITS:
            for cls in metadata["classes"]:
                with gzip.open(out_dir / name / split / f"{cls}.csv.gz", "rt", newline="") as fh:
                    for row in csv.DictReader(fh):
                        rid = f"{split}_{cls}_{row['id']}"
                        fields = [
                            row["region"],
                            row["start"],
                            row["end"],
                            rid,
                            row["strand"],
                            split,
                            cls,
                        ]
                        out.write("\t".join(fields) + "\n")
    tmp.replace(bed)
    return bed


def prepare_genome(metadata: dict, out_dir: Path, genome: str | None = None) -> Path:
    """A plain FASTA with an index: ``genome`` as given, or the metadata's reference,
    downloaded, decompressed and renamed as the benchmark does."""
    from gdl_dna.data import Genome

    if genome is not None:
        Genome(genome)  # builds the .fai when missing
        return Path(genome)
    refs = {(c["url"], c.get("extra_processing")) for c in metadata["classes"].values()}
    if len(refs) != 1:
        raise SystemExit(f"classes use {len(refs)} different references; pass --genome")
    url, processing = refs.pop()
    archive = fetch(url, out_dir / "reference" / Path(url).name)
    fasta = out_dir / "reference" / Path(url).name.removesuffix(".gz")
    if not fasta.is_file():
        tmp = fasta.with_name(fasta.name + ".part")
        opener = gzip.open if archive.name.endswith(".gz") else open
        with opener(archive, "rt") as src, open(tmp, "w") as dst:
            for line in src:
                if line.startswith(">"):
                    chrom = line[1:].split()[0]
                    line = f">chr{chrom}\n" if processing in CHR_PREFIXED else f">{chrom}\n"
                dst.write(line)
        tmp.replace(fasta)
    Genome(fasta)
    return fasta


def bed_to_tsv(bed: Path, genome: Path, tsv: Path) -> Path:
    """Sequences of every interval (minus strand reverse-complemented) as a TSV."""
    from gdl_dna.data import iter_records

    tmp = tsv.with_name(tsv.name + ".part")
    with open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "sequence", "split", "class"])
        for r in iter_records(bed, genome):
            if r.error is not None:
                raise SystemExit(f"{r.describe()}: {r.error}")
            writer.writerow([r.id, r.sequence, r.split, r.labels["class"]])
    tmp.replace(tsv)
    return tsv


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="human_nontata_promoters")
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--genome", default=None, help="a local FASTA of the data set's reference")
    parser.add_argument("--base-url", default=BASE_URL, help="mirror of the repository's datasets/")
    parser.add_argument("--tsv", action="store_true", help="also write the sequences as a TSV")
    args = parser.parse_args(argv)
    out = Path(args.output)
    metadata = download_intervals(args.dataset, out, args.base_url)
    bed = intervals_to_bed(args.dataset, out, metadata)
    genome = prepare_genome(metadata, out, args.genome)
    print(f"intervals: {bed}\ngenome: {genome}")
    if args.tsv:
        print(f"sequences: {bed_to_tsv(bed, genome, out / f'{args.dataset}.tsv')}")


if __name__ == "__main__":
    main()
