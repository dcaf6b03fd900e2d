"""``gdl-dna variant-effect``: score the REF and ALT alleles of VCF variants in their
genomic context, as Selene and gReLU do.

For each variant (each ALT of a multi-allelic site) the window centred on the allele is
taken from the indexed genome: ``flank`` bases either side of the allele with the same
``flank`` for REF and ALT, so the window is RC-symmetric about the variant and SNVs and
small indels are scored in the same frame (``window`` or ``window + 1`` bases; beyond a
chromosome end the window is padded with N). With the invariant head the scores are
RC-symmetric by construction: the variant scored on the reverse-complemented genome
gives the same effect (tested). A strand-head model (``head: auto`` chose it, or
``--model.head strand``) scores the genome's + strand, as its checkpoint says.

Output per variant: ``chrom, pos, id, ref, alt`` and, per target ``t``: ``t_ref, t_alt,
t_diff`` (alt - ref) and ``t_logfc`` (log2 of alt / ref for probabilities; for
regression outputs only when both are positive, else empty). Bad rows (malformed, REF
not matching the genome, chromosome missing, allele longer than the window, symbolic
alleles, a window with a character that is not DNA such as ``-``, a row that is not
UTF-8, where a truncated file stops) go to ``<output>.errors.tsv`` with a reason; the
run goes on. By default only rows whose FILTER is ``PASS`` or ``.`` are scored (the
count skipped is printed); ``--all-filters`` scores every row.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from gdl_dna.data import Genome, encode
from gdl_dna.data.alphabet import first_bad_character
from gdl_dna.data.genome import GenomeReadError
from gdl_dna.data.vcf import Variant, VariantStream
from gdl_dna.predict import load_models
from gdl_dna.task import DNATask
from gdl_science.cli import Command
from gdl_science.cli.app import positive_int
from gdl_science.io import Record, TablePrediction, check_output_path, resolve_device

EPS = 1e-6


@dataclass(frozen=True)
class AlleleWindows:
    ref: str
    alt: str


def allele_window(genome: Genome, chrom: str, start: int, end: int, allele: str, flank: int) -> str:
    """``flank`` genome bases, ``allele``, ``flank`` genome bases (N past the chromosome)."""
    length = genome.lengths[chrom]

    def span(lo: int, hi: int) -> str:
        inside_lo, inside_hi = max(lo, 0), min(hi, length)
        seq = genome.fetch(chrom, inside_lo, inside_hi) if inside_hi > inside_lo else ""
        return "N" * (inside_lo - lo) + seq + "N" * (hi - inside_hi)

    return span(start - flank, start) + allele + span(end, end + flank)


def variant_windows(genome: Genome, v: Variant, window: int) -> AlleleWindows | str:
    """The REF and ALT windows of a variant, or why it cannot be scored."""
    if v.chrom not in genome.lengths:
        return f"chromosome {v.chrom!r} is not in {genome.path.name}"
    start, end = v.pos - 1, v.pos - 1 + len(v.ref)  # 0-based half-open REF span
    chrom_length = genome.lengths[v.chrom]
    if end > chrom_length:
        return f"REF {v.chrom}:{v.pos}-{end} runs past the chromosome end ({chrom_length})"
    longest = max(len(v.ref), len(v.alt))
    if longest > window:
        return f"allele of {longest} bases does not fit the model's window of {window}"
    flank = (window - longest + 1) // 2  # the same flank for both alleles: same centre
    try:
        found = genome.fetch(v.chrom, start, end).upper()
        if found != v.ref:
            return f"REF {v.ref} does not match the genome ({found}) at {v.chrom}:{v.pos}"
        windows = AlleleWindows(
            allele_window(genome, v.chrom, start, end, v.ref, flank),
            allele_window(genome, v.chrom, start, end, v.alt, flank),
        )
    except GenomeReadError as err:
        return str(err)
    bad = first_bad_character(windows.ref)
    if bad is not None:
        at = start - flank + bad[0] + 1  # 1-based genome position of the character
        return f"the genome window has {bad[1]!r} at {v.chrom}:{at}, which is not DNA"
    return windows


def variant_records(variants: VariantStream, genome: Genome, window: int) -> Iterator[Record]:
    for v in variants:
        if v.error is None:
            windows = variant_windows(genome, v, window)
            if isinstance(windows, str):
                v.error = windows
            else:
                yield Record(v.name, (v, windows))
                continue
        yield Record(v.name, (v, None), f"{v.where}: {v.error}")


def effect_columns(stems: Sequence[str]) -> list[str]:
    cols = ["chrom", "pos", "id", "ref", "alt"]
    for s in stems:
        cols += [f"{s}_ref", f"{s}_alt", f"{s}_diff", f"{s}_logfc"]
    return cols


def log_fold_change(ref: float, alt: float, probabilities: bool) -> float | str:
    if probabilities:
        return math.log2((alt + EPS) / (ref + EPS))
    return math.log2(alt / ref) if ref > 0 and alt > 0 else ""


def score_variants(
    tasks: Sequence[DNATask], payloads: Sequence[tuple[Variant, AlleleWindows]]
) -> list[dict[str, object]]:
    """Rows of scores for a batch of variants: both alleles in one pass per checkpoint."""
    stems = tasks[0].spec.output_names()
    probabilities = tasks[0].spec.kind != "regression"
    one_hots = [encode(w.ref) for _, w in payloads] + [encode(w.alt) for _, w in payloads]
    values = torch.stack([t.predict_sequences(one_hots) for t in tasks]).mean(0).double().cpu()
    n = len(payloads)
    rows = []
    for i, (v, _) in enumerate(payloads):
        row: dict[str, object] = {
            "chrom": v.chrom, "pos": v.pos, "id": v.id, "ref": v.ref, "alt": v.alt,
        }  # fmt: skip
        for j, s in enumerate(stems):
            ref, alt = float(values[i, j]), float(values[n + i, j])
            row.update({f"{s}_ref": ref, f"{s}_alt": alt, f"{s}_diff": alt - ref})
            row[f"{s}_logfc"] = log_fold_change(ref, alt, probabilities)
        rows.append(row)
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, nargs="+", help="one or more (averaged)")
    parser.add_argument("--vcf", required=True, help="variants (.vcf, gzip or bgzip; not BCF)")
    parser.add_argument("--genome", required=True, help="indexed genome FASTA (.fai)")
    parser.add_argument("--output", required=True, help="effects table (TSV)")
    parser.add_argument(
        "--window", type=int, default=None, help="bases around each variant (default: the model's)"
    )
    parser.add_argument(
        "--all-filters", action="store_true", help="score every row, not only FILTER PASS or ."
    )
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--device", default="cpu")


def run(args: argparse.Namespace) -> int:
    output = check_output_path(args.output, [args.vcf, args.genome], args.checkpoint, "file")
    tasks = load_models(args.checkpoint, resolve_device(args.device))
    genome = Genome(args.genome)
    window = args.window or tasks[0].sequence_length
    prediction = TablePrediction(
        app="gdl-dna",
        input=args.vcf,
        output=output,
        columns=effect_columns(tasks[0].spec.output_names()),
        row_of=lambda record, row: row,
        noun="variant",
    )
    variants = VariantStream(args.vcf, args.all_filters)
    code = prediction.run(
        variant_records(variants, genome, window),
        lambda payloads: score_variants(tasks, payloads),
        args.batch_size,
    )
    if variants.filtered:
        print(
            f"gdl-dna: {variants.filtered} VCF row(s) skipped: FILTER is not PASS or '.' "
            "(--all-filters scores them)",
            file=sys.stderr,
        )
    return code


VARIANT_EFFECT = Command(
    help="REF vs ALT scores of VCF variants in their genome window (effects table)",
    add_arguments=add_arguments,
    run=run,
)
