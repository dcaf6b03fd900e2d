"""Are the labels strand-symmetric? A k-mer test on the training data decides the head.

An RC-invariant model (``head: invariant``) gives a sequence and its reverse complement
the same prediction; that is right for TF binding and wrong for oriented elements such
as promoters, whose labels follow the sense strand. The test asks the training data:
fit two L2-regularised linear models on k-mer frequencies (k = 1..``k_max``) of part of
the training set,

- **RC-merged** features: a k-mer and its reverse complement share one feature (a model
  that cannot see the strand), and
- **strand-specific** features: every k-mer its own feature (the merged model is a
  special case, so any gain is strand information),

and score both on the held-out rest (mean auROC over labels; Pearson r for regression).
If the strand-specific model wins by more than ``THRESHOLD`` the labels are taken as
strand-specific: strand head, one-hot input (``kmer`` 1). Otherwise: invariant head
with the 3-mer input layer. Seconds on one core for 30k sequences of 100-300 bp.

The threshold sits between what the GUE sets score (docs/dna.md, "Which head and
mode"; ``benchmarks/dna_strand_test.py``): strand-symmetric tf0 gains -0.001 to +0.001
(held-out part of train, and dev), strand-specific prom300 TATA +0.050 to +0.066.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torchmetrics.functional import auroc, pearson_corrcoef

THRESHOLD = 0.02  # held-out score gain of strand-specific over RC-merged features
K_MAX = 3  # k-mers of length 1..3: 84 strand-specific features, 44 RC-merged
MAX_SEQUENCES = 20000  # a seeded subsample of larger training sets (the test's cost)
HELD_OUT = 0.25
L2 = 0.01  # weight penalty on standardised features, added to the mean loss
HEAD_KMER = {"invariant": 3, "strand": 1}  # the input layer that goes with each head


@dataclass(frozen=True)
class StrandDecision:
    """The test's outcome: the head, its input k-mer size and the evidence."""

    head: str  # "invariant" or "strand"
    kmer: int
    merged: float  # held-out score with RC-merged features
    specific: float  # held-out score with strand-specific features
    metric: str  # "auROC" or "Pearson r"
    n_fit: int
    n_held_out: int

    @property
    def gain(self) -> float:
        return self.specific - self.merged

    def evidence(self) -> str:
        """The line fit prints (and the checkpoint keeps)."""
        verb = "beat" if self.gain > 0 else "do not beat"
        if self.head == "strand":
            then = "strand head, one-hot input"
        else:
            then = f"invariant head, {self.kmer}-mer input"
        return (
            f"strand test: strand-specific k-mer features {verb} RC-merged ones by "
            f"\u0394{self.metric} {self.gain:+.3f} ({self.specific:.3f} vs {self.merged:.3f}, "
            f"{self.n_held_out} held-out of {self.n_fit + self.n_held_out} training "
            f"sequences; threshold {THRESHOLD:+.3f}) -> {then}"
        )


def base_codes(sequences: Sequence[str]) -> np.ndarray:
    """(N, L) codes A,C,G,T = 0..3 and 4 for anything else (N, IUPAC, padding)."""
    lut = np.full(256, 4, np.int64)
    for i, c in enumerate("ACGT"):
        lut[ord(c)] = lut[ord(c.lower())] = i
    out = np.full((len(sequences), max(map(len, sequences))), 4, np.int64)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = lut[np.frombuffer(s.encode("ascii", "replace"), np.uint8)]
    return out


def kmer_columns(k: int, merge_rc: bool) -> tuple[np.ndarray, int]:
    """(4^k,) k-mer code -> feature column, and the number of columns (a k-mer and its
    reverse complement share one column when ``merge_rc``)."""
    codes = np.arange(4**k)
    digits = np.stack([(codes // 4 ** (k - 1 - i)) % 4 for i in range(k)], 1)
    rc = (3 - digits[:, ::-1]) @ (4 ** np.arange(k - 1, -1, -1))
    canonical = np.minimum(codes, rc) if merge_rc else codes
    _, column = np.unique(canonical, return_inverse=True)
    return column, int(column.max()) + 1


def kmer_frequencies(bases: np.ndarray, k_max: int, merge_rc: bool) -> np.ndarray:
    """(N, L) codes -> (N, F) frequencies of every k-mer, k = 1..k_max, per sequence
    (windows touching a code 4 skipped; divided by the valid windows of each k)."""
    n, length = bases.shape
    blocks = []
    for k in range(1, k_max + 1):
        column, width = kmer_columns(k, merge_rc)
        span = max(length - k + 1, 0)
        code = np.zeros((n, span), np.int64)
        unknown = np.zeros((n, span), bool)
        for i in range(k):
            window = bases[:, i : i + span]
            code = code * 4 + np.minimum(window, 3)
            unknown |= window == 4
        rows = np.broadcast_to(np.arange(n)[:, None], code.shape)
        counts = np.zeros((n, width), np.float32)
        np.add.at(counts, (rows[~unknown], column[code[~unknown]]), 1.0)
        valid = np.maximum((~unknown).sum(1, keepdims=True), 1).astype(np.float32)
        blocks.append(counts / valid)
    return np.concatenate(blocks, 1)


def fit_linear(
    x: torch.Tensor, y: torch.Tensor, kind: str, n_out: int, l2: float = L2, max_iter: int = 200
) -> torch.Tensor:
    """(F+1, n_out) weights of an L2-regularised linear model fitted by L-BFGS.

    ``y``: (N, T) float with NaN for missing (binary: logistic, regression: squared
    error), or (N,) int64 with -1 for missing (multiclass: softmax)."""
    x1 = torch.cat([x, torch.ones(len(x), 1)], 1)
    w = torch.zeros(x1.shape[1], n_out, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        z = x1 @ w
        if kind == "multiclass":
            loss = F.cross_entropy(z, y, ignore_index=-1)
        else:
            known = ~torch.isnan(y)
            target = torch.nan_to_num(y)
            per = (
                F.binary_cross_entropy_with_logits(z, target, reduction="none")
                if kind == "binary"
                else (z - target) ** 2
            )
            loss = (per * known).sum() / known.sum().clamp_min(1)
        loss = loss + 0.5 * l2 * (w[:-1] ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach()


def held_out_score(z: torch.Tensor, y: torch.Tensor, kind: str) -> float:
    """Mean auROC over labels (binary), macro one-vs-rest auROC (multiclass) or mean
    Pearson r (regression) on the held-out part; labels without both classes skipped."""
    if kind == "multiclass":
        known = y >= 0
        return float(auroc(z[known].softmax(1), y[known], "multiclass", num_classes=z.shape[1]))
    scores = []
    for j in range(y.shape[1]):
        known = ~torch.isnan(y[:, j])
        target = y[known, j]
        if kind == "binary":
            if target.min() == target.max():
                continue
            scores.append(float(auroc(z[known, j], target.long(), "binary")))
        elif len(target) > 2 and target.std() > 0:
            scores.append(float(pearson_corrcoef(z[known, j], target)))
    return float(np.mean(scores)) if scores else float("nan")


def strand_test(
    sequences: Sequence[str], targets: np.ndarray, kind: str, seed: int = 0
) -> StrandDecision:
    """Decide the head from training ``sequences`` and their ``targets``.

    ``targets``: (N, T) float32 with NaN for missing, or (N,) int64 with -1 (multiclass).
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(sequences))[:MAX_SEQUENCES]
    n_held = max(1, round(HELD_OUT * len(order)))
    fit_idx, held_idx = order[n_held:], order[:n_held]
    bases = base_codes([sequences[i] for i in order])
    y = torch.as_tensor(targets[order])
    n_out = int(y.max()) + 1 if kind == "multiclass" else y.shape[1]
    scores = {}
    for merge in (True, False):
        x = kmer_frequencies(bases, K_MAX, merge)
        x_fit, x_held = x[n_held:], x[:n_held]
        mean, std = x_fit.mean(0), x_fit.std(0) + 1e-3
        xt = torch.as_tensor((x_fit - mean) / std)
        xh = torch.as_tensor((x_held - mean) / std)
        w = fit_linear(xt, y[n_held:], kind, n_out)
        z = torch.cat([xh, torch.ones(len(xh), 1)], 1) @ w
        scores[merge] = held_out_score(z, y[:n_held], kind)
    merged, specific = scores[True], scores[False]
    strand = bool(np.isfinite(merged) and np.isfinite(specific) and specific - merged > THRESHOLD)
    head = "strand" if strand else "invariant"
    return StrandDecision(
        head=head,
        kmer=HEAD_KMER[head],
        merged=merged,
        specific=specific,
        metric="Pearson r" if kind == "regression" else "auROC",
        n_fit=len(fit_idx),
        n_held_out=len(held_idx),
    )
