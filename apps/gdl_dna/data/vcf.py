"""A small streaming VCF reader (plain, gzip or bgzip by magic bytes) that reports bad
rows and goes on.

Why not pysam or cyvcf2 (both install from wheels here): ``variant-effect`` must put
every bad row in ``errors.tsv`` with its line and a reason, then keep going. htslib, under
both, reports a malformed record as ``OSError: truncated file`` with the real reason on
stderr and no line number (measured with pysam 0.24.1 on a row whose POS is text). We
stream the whole file and need no index queries, so the columns we use (CHROM, POS, ID,
REF, ALT, FILTER) are read here in a few lines; BGZF is multi-member gzip, which
``gzip`` reads, whatever the file is called (``.vcf.gz``, ``.bgz``). BCF (binary) is
refused with the ``bcftools`` line that converts it.

FILTER: by default only rows that passed (``PASS`` or ``.``) are scored; the others are
counted (``VariantStream.filtered``) and ``--all-filters`` keeps them. A row that is not
UTF-8 is reported and reading goes on; a truncated file reports where it stopped.
Multi-allelic sites are split: one ``Variant`` per ALT allele, each checked on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gdl_dna.data.lines import read_lines
from gdl_science.io import UserInputError

_ALLELE = re.compile(r"^[ACGTNacgtn]+$")


@dataclass
class Variant:
    """One REF -> ALT change at 1-based ``pos``; ``where`` names it, ``error`` says why not."""

    chrom: str
    pos: int
    id: str
    ref: str
    alt: str
    where: str
    error: str | None = None

    @property
    def name(self) -> str:
        """A unique, readable key for error reports: ``id`` or ``chrom:pos:ref>alt``."""
        site = f"{self.chrom}:{self.pos}:{self.ref}>{self.alt}"
        return site if self.id in ("", ".") else f"{self.id}({site})"


def _check_allele(allele: str, what: str) -> str | None:
    if allele.startswith("<") or allele in ("*", "."):
        return f"{what} {allele!r} is symbolic or missing; only sequence alleles can be scored"
    if "[" in allele or "]" in allele:
        return f"{what} {allele!r} is a breakend; only sequence alleles can be scored"
    if not _ALLELE.match(allele):
        return f"{what} {allele!r} is not a DNA sequence (A, C, G, T, N)"
    return None


class VariantStream:
    """Iterating yields the variants of a VCF lazily; per-row problems are in
    ``variant.error``; ``filtered`` counts the rows skipped by FILTER so far."""

    def __init__(self, path: str | Path, all_filters: bool = False) -> None:
        self.path, self.all_filters, self.filtered = Path(path), all_filters, 0

    def __iter__(self) -> Iterator[Variant]:
        name, path = self.path.name, self.path
        seen_data = False
        for line in read_lines(path):
            where = f"{name} line {line.number}"
            if line.number == 1:
                if line.raw.startswith(b"BCF"):
                    raise UserInputError(
                        f"{path}: BCF (binary VCF) is not read; convert it with "
                        f"`bcftools view -Oz -o variants.vcf.gz {path}`"
                    )
                if line.text is None or not line.text.startswith(("##fileformat=VCF", "#CHROM")):
                    raise UserInputError(f"{path}: not a VCF (line 1 is not ##fileformat=VCF...)")
            if line.text is None:
                if line.truncated and not seen_data:
                    raise UserInputError(f"{path}: {line.error}")
                seen_data = True
                yield Variant("", 0, "", "", "", where, line.error)
                if line.truncated:
                    return
                continue
            if not line.text.strip() or line.text.startswith("#"):
                continue
            seen_data = True
            fields = line.text.split("\t")
            flag = fields[6].strip() if len(fields) > 6 else "."
            if not self.all_filters and flag not in ("PASS", "."):
                self.filtered += 1
                continue
            yield from _parse_row(fields, where)
        if not seen_data:
            raise UserInputError(f"{path}: no variant rows")


def iter_variants(path: str | Path, all_filters: bool = False) -> Iterator[Variant]:
    """Variants of a VCF, lazily (``VariantStream`` without the FILTER count)."""
    return iter(VariantStream(path, all_filters))


def _parse_row(fields: list[str], where: str) -> Iterator[Variant]:
    if len(fields) < 5:
        chrom = fields[0] if fields else ""
        yield Variant(chrom, 0, "", "", "", where, f"{len(fields)} columns, a VCF row needs >= 5")
        return
    chrom, pos_text, vid, ref, alts = (f.strip() for f in fields[:5])
    try:
        pos = int(pos_text)
    except ValueError:
        yield Variant(chrom, 0, vid, ref, alts, where, f"POS {pos_text!r} is not an integer")
        return
    if pos < 1:
        yield Variant(chrom, pos, vid, ref, alts, where, f"POS {pos} is not >= 1")
        return
    ref_problem = _check_allele(ref, "REF")
    for alt in alts.split(","):
        problem = ref_problem or _check_allele(alt, "ALT")
        yield Variant(chrom, pos, vid, ref.upper(), alt.upper(), where, problem)
