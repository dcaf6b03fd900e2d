"""Planted-motif DNA data from real JASPAR matrices: the dna app's embedded default.

Each sequence is background DNA into which copies of real transcription-factor motifs
(JASPAR 2024 CORE position frequency matrices, read offline from the pyjaspar wheel)
are planted. Each motif is present in a sequence with probability ``p_present``; a
present motif gets 1..``max_copies`` instances, each sampled from its matrix and placed
on a random strand (reverse-complemented half of the time) at a random position. The
targets are multi-label motif presence (one 0/1 column per motif), so a model must find
the motifs in either orientation: the setting of Zhou et al. (2022) and Mallet & Vert
(2021).

Backgrounds:
- ``iid``: i.i.d. bases with the given GC content;
- ``dinuc``: a dinucleotide shuffle (Altschul & Erickson 1985, Eulerian-path method) of
  a first-order Markov sequence with human genome dinucleotide frequencies (CpG
  depleted), so backgrounds keep genome-like 2-mer statistics while motifs are random.

It lives in the app (the embedded default of ``gdl-dna fit``); the command line that
writes it to a TSV is ``python -m data_recipes.dna_planted_motifs``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cache

import numpy as np

DEFAULT_MOTIFS = ("MA0139.2", "MA0080.7", "MA0148.5")  # CTCF, SPI1, FOXA1
BASES = "ACGT"
# Human genome dinucleotide frequencies (rows: first base, columns: second), CpG depleted.
HUMAN_DINUC = np.array(
    [
        [0.098, 0.050, 0.070, 0.077],
        [0.073, 0.052, 0.010, 0.070],
        [0.059, 0.043, 0.052, 0.050],
        [0.065, 0.059, 0.073, 0.098],
    ]
)


@cache
def load_motif(matrix_id: str, release: str = "JASPAR2024") -> tuple[str, np.ndarray]:
    """(name, (length, 4) base probabilities) of a JASPAR matrix, with a 0.25-count prior."""
    from pyjaspar import jaspardb

    motif = jaspardb(release=release).fetch_motif_by_id(matrix_id)
    if motif is None:
        raise ValueError(f"JASPAR matrix {matrix_id} not found in {release}")
    counts = np.array([motif.counts[b] for b in BASES], dtype=np.float64).T + 0.25
    return motif.name, counts / counts.sum(axis=1, keepdims=True)


def _rc(seq: str) -> str:
    return seq.translate(str.maketrans("ACGT", "TGCA"))[::-1]


def iid_background(length: int, gc: float, rng: np.random.Generator) -> str:
    p = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    return "".join(np.array(list(BASES))[rng.choice(4, size=length, p=p)])


def markov_background(length: int, rng: np.random.Generator) -> str:
    """First-order Markov DNA with the human dinucleotide frequencies."""
    cumulative = np.cumsum(HUMAN_DINUC / HUMAN_DINUC.sum(axis=1, keepdims=True), axis=1)
    start = HUMAN_DINUC.sum(axis=1) / HUMAN_DINUC.sum()
    uniforms = rng.random(length)
    state = int(np.searchsorted(np.cumsum(start), uniforms[0]))
    out = [state]
    for u in uniforms[1:]:
        state = min(int(np.searchsorted(cumulative[state], u)), 3)
        out.append(state)
    return "".join(BASES[i] for i in out)


def dinucleotide_shuffle(seq: str, rng: np.random.Generator) -> str:
    """A uniformly random sequence with exactly the dinucleotide counts of ``seq``."""
    if len(seq) < 3:
        return seq
    edges: dict[str, list[str]] = {b: [] for b in set(seq)}
    for a, b in itertools.pairwise(seq):
        edges[a].append(b)
    last = seq[-1]
    while True:  # a random arborescence of "last exits" rooted at the final base
        last_exit = {
            v: out[rng.integers(len(out))] for v, out in edges.items() if out and v != last
        }
        if all(_reaches(v, last, last_exit) for v in last_exit):
            break
    walks = {}
    for v, out in edges.items():
        rest = list(out)
        if v in last_exit:
            rest.remove(last_exit[v])
        rng.shuffle(rest)
        walks[v] = [*rest, last_exit[v]] if v in last_exit else rest
    out_seq, v = [seq[0]], seq[0]
    for _ in range(len(seq) - 1):
        v = walks[v].pop(0)
        out_seq.append(v)
    return "".join(out_seq)


def _reaches(v: str, root: str, last_exit: dict[str, str]) -> bool:
    seen = set()
    while v != root:
        if v in seen:
            return False
        seen.add(v)
        v = last_exit[v]
    return True


def generate(
    n: int,
    length: int,
    motifs: Sequence[str] = DEFAULT_MOTIFS,
    p_present: float = 0.4,
    max_copies: int = 2,
    background: str = "iid",
    gc: float = 0.42,
    seed: int = 0,
    forward_only: bool = False,
) -> tuple[list[str], list[tuple[str, str, list[int]]]]:
    """(label names, [(id, sequence, 0/1 per motif)]) of ``n`` planted-motif sequences.

    ``forward_only``: every site on the given strand (strand-specific labels, as an
    oriented element would give); by default each site's strand is random."""
    rng = np.random.default_rng(seed)
    loaded = [load_motif(m) for m in motifs]
    names = [f"{name}_{mid}".replace(":", "_") for mid, (name, _) in zip(motifs, loaded)]
    rows = []
    for i in range(n):
        if background == "iid":
            seq = list(iid_background(length, gc, rng))
        elif background == "dinuc":
            seq = list(dinucleotide_shuffle(markov_background(length, rng), rng))
        else:
            raise ValueError(f"background must be 'iid' or 'dinuc', got {background!r}")
        labels = []
        for _, pfm in loaded:
            present = rng.random() < p_present and len(pfm) <= length
            labels.append(int(present))
            for _ in range(rng.integers(1, max_copies + 1) if present else 0):
                site = "".join(BASES[rng.choice(4, p=row)] for row in pfm)
                if rng.random() < 0.5 and not forward_only:
                    site = _rc(site)
                start = int(rng.integers(0, length - len(site) + 1))
                seq[start : start + len(site)] = site
        rows.append((f"seq{i:06d}", "".join(seq), labels))
    return names, rows
