"""The window rule: frames per batch, masks, and batch-independent predictions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gdl_dna.data.alphabet import encode
from gdl_dna.data.framing import FrameRule, count_cropped, frame_batch, frame_groups
from gdl_dna.task import DNATask

from gdl_science.symmetry import ReverseComplementGroup, check_equivariance, tolerance

RC = ReverseComplementGroup()
ARCH = dict(
    channels=[4, 4],
    irrep_channels=2,
    kernel_sizes=[7, 5],
    dilations=[1, 2],
    hidden=[8],
    dropout=0.0,
    kmer=1,
    trunk_dropout=0.0,
)


def _seq(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return encode("".join(rng.choice(list("ACGT"), n)))


def _trained(task: DNATask, lengths=(40, 57, 90)) -> DNATask:
    """Train-mode passes over mixed-length batches, so running statistics are not trivial."""
    task.train()
    with torch.no_grad():
        for s in range(3):
            task.grouped_output(task.frame([_seq(n, s * 10 + i) for i, n in enumerate(lengths)]))
    return task.eval()


def test_auto_frames_follow_the_batch_and_a_fixed_window_crops_and_counts():
    rule = FrameRule(reference=101, period=2, minimum=1, both_parities=True)
    assert rule.frame_for(101) == 101 and rule.frame_for(60) == 61 and rule.frame_for(300) == 301
    assert rule.parity_class(60) == 1 and rule.frame_for(60, 1) == 60
    even = FrameRule(reference=104, period=32, minimum=8)  # pools (4, 4): period 2 * 16
    assert even.frame_for(60) == 72 and even.frame_for(105) == 136
    fixed = FrameRule(reference=100, period=2, minimum=2, fixed=True)
    assert fixed.frame_for(300) == 100 and count_cropped([50, 100, 101, 300], fixed) == 2
    assert count_cropped([50, 300], rule) == 0
    x, mask = frame_batch([_seq(300, 0), _seq(50, 1)], fixed)
    assert x.shape == (2, 4, 100) and mask[0].sum() == 100 and mask[1].sum() == 50
    x, mask = frame_batch([_seq(30, 0), _seq(30, 1)], rule, frame=30)
    assert mask is None  # equal lengths: no mask, the fast path


@pytest.mark.parametrize("symmetry", ["equivariant", "none", "augment"])
@pytest.mark.parametrize("pools", [[3, 1], [4, 2]])
def test_a_short_sequence_predicts_the_same_alone_or_in_any_batch(symmetry, pools):
    torch.manual_seed(0)
    task = _trained(DNATask(sequence_length=90, symmetry=symmetry, pool_sizes=pools, **ARCH))
    short = _seq(41, 7)
    alone = task.predict_sequences([short])
    for others in ([_seq(90, 1)], [_seq(64, 2), _seq(77, 3)], [_seq(200, 4)], [_seq(42, 5)]):
        batch = task.predict_sequences([*others, short])
        torch.testing.assert_close(batch[-1], alone[0], atol=1e-6, rtol=1e-5)


def test_mixed_length_batches_are_rc_invariant_with_their_masks():
    torch.manual_seed(0)
    task = _trained(DNATask(sequence_length=90, pool_sizes=[3, 1], **ARCH)).double()
    seqs = [_seq(n, n) for n in (31, 50, 64, 90)]
    (group,) = [g for g in task.frame(seqs) if len(g.index) > 1][:1]

    def fn(x: torch.Tensor) -> torch.Tensor:
        return task.predict_values(x, group.mask.double())  # masks are RC-symmetric

    report = check_equivariance(fn, RC, group.x.double(), RC.act_on_one_hot)
    report.assert_equivariant(tolerance(torch.float64))


def test_training_statistics_leave_padding_out():
    # The same sequences, once equal-length and once padded into a longer frame: the
    # batch norm sees the same statistics, so train-mode outputs agree.
    torch.manual_seed(0)
    for symmetry in ("equivariant", "none"):
        task = DNATask(sequence_length=60, symmetry=symmetry, pool_sizes=[3, 1], **ARCH).train()
        seqs = [_seq(60, 1), _seq(60, 2)]
        tight = frame_groups(seqs, task.frame_rule)[0]
        x, mask = frame_batch(seqs, task.frame_rule, frame=80)
        y_tight = task.net(tight.x, tight.mask)
        y_padded = task.net(x, mask)
        torch.testing.assert_close(y_tight, y_padded, atol=1e-5, rtol=1e-4)
