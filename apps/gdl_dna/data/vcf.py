"""A small streaming VCF reader (plain, gzip or bgzip) that reports bad rows and goes on.

Why not pysam or cyvcf2 (both install from wheels here): ``variant-effect`` must put
every bad row in ``errors.tsv`` with its line and a reason, then keep going. htslib, under
both, reports a malformed record as ``OSError: truncated file`` with the real reason on
stderr and no line number (measured with pysam 0.24.1 on a row whose POS is text). We
stream the whole file and need no index queries, so the columns we use (CHROM, POS, ID,
REF, ALT) are read here in a few lines; BGZF is multi-member gzip, which ``gzip`` reads.

Multi-allelic sites are split: one ``Variant`` per ALT allele, each checked on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gdl_dna.data.records import open_text
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


def iter_variants(path: str | Path) -> Iterator[Variant]:
    """Variants of a VCF, lazily; per-row problems are in ``variant.error``."""
    name = Path(path).name
    seen_data = False
    with open_text(path) as fh:
        for line_no, line in enumerate(fh, start=1):
            text = line.rstrip("\r\n")
            if line_no == 1 and not text.startswith(("##fileformat=VCF", "#CHROM")):
                raise UserInputError(f"{path}: not a VCF (line 1 is not ##fileformat=VCF...)")
            if not text.strip() or text.startswith("#"):
                continue
            seen_data = True
            yield from _parse_row(text.split("\t"), f"{name} line {line_no}")
    if not seen_data:
        raise UserInputError(f"{path}: no variant rows")


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
