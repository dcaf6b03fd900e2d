"""``gdl-dna explain``: RC-symmetrised in-silico mutagenesis (ISM), as arrays and logos.

For a sequence x (window L) and every position t and base b, ISM[o, b, t] is the change
of output o when base t is replaced by b (0 for the reference base). We symmetrise it
over the reverse complement: the ISM of RC·x, mapped back to x's coordinates (base b at
t <-> base 3-b at L-1-t), is averaged with the ISM of x. For an exactly invariant model
the two agree; for augment/none models the average is the strand-free attribution.

Per sequence it writes ``<id>.npz`` (``ism`` (n_outputs, 4, L), ``one_hot`` (4, L),
``outputs``) and ``<id>.png``: a sequence logo of the reference bases, each letter as
tall as its importance (minus the mean ISM of its three substitutions), for ``--target``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import torch

from gdl_dna.data import encode, iter_records
from gdl_dna.task import DNATask
from gdl_science.cli import Command
from gdl_science.io import (
    UserInputError,
    atomic_path,
    check_output_path,
    load_task,
    progress,
    resolve_device,
)

COLORS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839"}


@torch.no_grad()
def ism(
    task: DNATask, x: torch.Tensor, batch_size: int = 256, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """(4, L) one-hot (and (1, L) padding mask) -> (n_outputs, 4, L) output change of
    every single-base substitution."""
    length = x.shape[1]
    m = None if mask is None else mask[None]
    ref = task.predict_values(x[None], m)[0]  # (n,)
    mutants = x[None].repeat(4 * length, 1, 1)  # mutant (b, t) at row b * L + t
    rows = torch.arange(4 * length)
    bases, positions = rows // length, rows % length
    mutants[rows, :, positions] = 0.0
    mutants[rows, bases, positions] = 1.0
    outs = torch.cat(
        [
            task.predict_values(b, None if m is None else m.expand(len(b), -1, -1))
            for b in mutants.split(batch_size)
        ]
    )
    return (outs - ref).T.reshape(-1, 4, length)


def symmetrised_ism(
    task: DNATask, x: torch.Tensor, batch_size: int = 256, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Average of ISM(x) and ISM(RC x) mapped back to x (base b <-> 3-b, t <-> L-1-t)."""
    forward = ism(task, x, batch_size, mask)
    rc_mask = None if mask is None else mask.flip(-1)
    reverse = ism(task, x.flip(0, 1), batch_size, rc_mask).flip(1, 2)
    return 0.5 * (forward + reverse)


def importance(scores: np.ndarray, one_hot: np.ndarray) -> np.ndarray:
    """(4, L) ISM of one output -> (L,) importance of the reference: -mean substitution effect."""
    return -scores.sum(axis=0) / 3.0 * (one_hot.max(axis=0) > 0)


def draw_logo(path: Path, sequence: str, weights: np.ndarray, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    font = FontProperties(family="DejaVu Sans", weight="bold")
    fig, ax = plt.subplots(figsize=(max(6.0, len(weights) / 12), 2.2))
    for t, (base, w) in enumerate(zip(sequence, weights)):
        base = base.upper()
        if base not in COLORS or w == 0:
            continue
        glyph = TextPath((0, 0), base, size=1, prop=font)
        box = glyph.get_extents()
        # Scale the glyph into the cell [t, t+1] x [0, w] (w < 0 draws below the axis).
        transform = (
            Affine2D()
            .translate(-box.x0, -box.y0)
            .scale(0.95 / box.width, w / box.height)
            .translate(t + 0.025, 0)
        )
        ax.add_patch(PathPatch(transform.transform_path(glyph), color=COLORS[base], lw=0))
    ax.set_xlim(0, len(weights))
    span = max(float(np.abs(weights).max()), 1e-6)
    ax.set_ylim(
        min(0.0, float(weights.min())) - 0.05 * span, max(0.0, float(weights.max())) + 0.05 * span
    )
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("position")
    ax.set_ylabel("importance")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def _safe_name(record_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", record_id)[:100] or "record"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--input", required=True, help="sequences (TSV/CSV, FASTA/FASTQ, BED)")
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--genome", default=None, help="indexed genome FASTA (BED input)")
    parser.add_argument(
        "--target", default=None, help="output column stem for the logo (default: first)"
    )
    parser.add_argument("--max-sequences", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cpu")


def run(args: argparse.Namespace) -> int:
    inputs = [p for p in (args.input, args.genome) if p]
    out_dir = check_output_path(args.output, inputs, [args.checkpoint], expect="folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError(f"{out_dir}: explain writes a folder; this is a file")
    out_dir.mkdir(parents=True, exist_ok=True)
    device = resolve_device(args.device)
    task = load_task(DNATask, args.checkpoint).to(device).eval()
    stems = task.spec.output_names()
    target = args.target or stems[0]
    if target not in stems:
        raise UserInputError(
            f"--target {target!r} is not an output; choose one of {', '.join(stems)}"
        )
    t_idx = stems.index(target)
    done, bad = 0, 0
    seen: set[str] = set()
    for record in progress(iter_records(args.input, args.genome), desc="explain", unit="seq"):
        if done >= args.max_sequences:
            break
        if record.error is None and record.id in seen:
            record.error = "duplicate id"
        seen.add(record.id)
        if record.error is not None:
            print(f"skipped {record.describe()}: {record.error}", file=sys.stderr)
            bad += 1
            continue
        (group,) = task.frame([encode(record.sequence)])  # one sequence: one frame
        x = group.x[0].to(device)
        mask = None if group.mask is None else group.mask[0].to(device)
        scores = symmetrised_ism(task, x, args.batch_size, mask).cpu().numpy()
        one_hot = x.cpu().numpy()
        name = _safe_name(record.id)
        with atomic_path(out_dir / f"{name}.npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, ism=scores, one_hot=one_hot, outputs=np.array(stems))
        shown = "".join(
            "ACGT"[i] if one_hot[:, j].max() == 1 else "N" for j, i in enumerate(one_hot.argmax(0))
        )
        draw_logo(
            out_dir / f"{name}.png",
            shown,
            importance(scores[t_idx], one_hot),
            f"{record.id}: RC-symmetrised ISM for {target}",
        )
        done += 1
    print(f"explained {done} sequence(s) in {out_dir} ({bad} skipped)", file=sys.stderr)
    return 0 if done else 2


EXPLAIN = Command(
    help="RC-symmetrised in-silico mutagenesis: arrays and sequence logos per sequence",
    add_arguments=add_arguments,
    run=run,
)
