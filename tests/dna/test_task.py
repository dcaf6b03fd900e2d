"""The task: losses with masks, augment mode, overfitting, save -> load -> same predictions."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from gdl_dna.data.dataset import SequenceDataset, collate_sequences
from gdl_dna.data.framing import FramedGroup
from gdl_dna.data.planted_motifs import generate
from gdl_dna.task import DNATask

from gdl_science.io import UserInputError, load_task
from gdl_science.symmetry import tolerance

TINY = dict(
    channels=[4, 4],
    irrep_channels=2,
    kernel_sizes=[9, 5],
    dilations=[1, 2],
    pool_sizes=[4, 1],
    hidden=[8],
    dropout=0.0,
    kmer=1,
    trunk_dropout=0.0,
)


def _x(n: int, length: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (
        torch.nn.functional.one_hot(torch.randint(4, (n, length), generator=g), 4)
        .transpose(1, 2)
        .float()
    )


def test_masked_losses_ignore_missing_targets():
    task = DNATask(label_names=["a", "b"], sequence_length=64, **TINY)
    logits = torch.tensor([[0.0, 5.0], [1.0, -2.0]])
    y = torch.tensor([[1.0, float("nan")], [0.0, float("nan")]])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y[:, 0])
    assert torch.allclose(task.loss(logits, y), expected)
    mc = DNATask(
        label_names=["c"],
        task_type="multiclass",
        class_names=["x", "y", "z"],
        sequence_length=64,
        **TINY,
    )
    target = torch.tensor([2, -1])
    assert torch.allclose(mc.loss(torch.randn(2, 3).abs(), target).isfinite(), torch.tensor(True))
    reg = DNATask(label_names=["r"], task_type="regression", sequence_length=64, **TINY)
    assert (
        reg.loss(torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [float("nan")]])).item() == 1.0
    )


def test_any_window_is_padded_up_to_the_pools_rule_and_augment_strand_is_refused():
    task = DNATask(sequence_length=63, fixed_window=True, **TINY)  # pool 4 needs even length
    assert task.sequence_length == 64
    assert "window 63 padded to 64" in task.window_note()
    assert "even pool window needs an even length" in task.window_note()
    assert DNATask(sequence_length=64, **TINY).window_note() is None
    with pytest.raises(UserInputError, match="shorter than the k-mer"):
        DNATask(sequence_length=2, **{**TINY, "kmer": 3})
    with pytest.raises(UserInputError, match="strand-specific"):
        DNATask(sequence_length=64, symmetry="augment", head="strand", **TINY)


def test_augment_mode_flips_half_the_batch_and_symmetrises_at_predict_time():
    task = DNATask(label_names=["a"], sequence_length=64, symmetry="augment", **TINY)
    x = _x(64, 64)
    group = FramedGroup(torch.arange(64), x, None)
    gen = torch.Generator().manual_seed(0)
    (out,), _ = task.random_transform(([group], torch.zeros(64, 1)), gen)
    xt = out.x
    flipped = [
        (xt[i] == x[i].flip(0, 1)).all().item() and not (xt[i] == x[i]).all().item()
        for i in range(64)
    ]
    assert 16 < sum(flipped) < 48
    report = task.check_symmetry(dtype=torch.float32)
    assert report.max_abs <= tolerance(torch.float32)  # invariant by averaging both strands
    none = DNATask(label_names=["a"], sequence_length=64, symmetry="none", **TINY)
    assert none.check_symmetry().max_abs > 1e-4


def _planted_loader(
    n: int, length: int, seed: int
) -> tuple[torch.utils.data.DataLoader, list[str]]:
    names, rows = generate(n, length, seed=seed)
    y = np.array([r[2] for r in rows], dtype=np.float32)
    ds = SequenceDataset([r[1] for r in rows], y)
    loader = torch.utils.data.DataLoader(
        ds, batch_size=32, shuffle=True, collate_fn=collate_sequences
    )
    return loader, names


def test_overfits_a_tiny_planted_motif_set():
    torch.manual_seed(0)
    loader, names = _planted_loader(32, 64, seed=1)
    task = DNATask(
        label_names=names,
        sequence_length=64,
        lr=0.02,
        scheduler="constant",
        channels=[8, 8],
        irrep_channels=2,
        kernel_sizes=[9, 5],
        dilations=[1, 1],
        pool_sizes=[4, 1],
        hidden=[16],
        dropout=0.0,
    )
    opt = torch.optim.Adam(task.parameters(), lr=0.02)
    task.train()
    first = None
    for _ in range(40):
        for batch in loader:
            loss = task.step(task.on_before_batch_transfer(batch, 0)).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            first = first if first is not None else loss.item()
    assert loss.item() < 0.25 * first, (first, loss.item())


def test_checkpoint_round_trip_gives_the_same_predictions(tmp_path):
    torch.manual_seed(0)
    loader, names = _planted_loader(64, 64, seed=2)
    task = DNATask(label_names=names, sequence_length=64, **TINY)
    trainer = pl.Trainer(
        max_epochs=1,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(task, loader)
    ckpt = tmp_path / "m.ckpt"
    trainer.save_checkpoint(ckpt)
    loaded = load_task(DNATask, ckpt)
    x = _x(8, 64, seed=5)
    task.eval()
    assert torch.equal(task.predict_values(x), loaded.predict_values(x))
    assert loaded.spec.names == names
    assert loaded.check_symmetry(dtype=torch.float32).max_abs <= tolerance(torch.float32)


@pytest.mark.parametrize("trunk", ["conjoined", "tied"])
def test_strand_head_task_is_exactly_equivariant_and_uses_the_given_strand(trunk):
    task = DNATask(
        label_names=["plus_strand_signal"],
        sequence_length=64,
        head="strand",
        strand_trunk=trunk,
        **TINY,
    )
    task.eval()
    x = _x(4, 64)
    report = task.check_symmetry(dtype=torch.float32)
    assert report.max_abs <= tolerance(torch.float32)
    full = task.full_output(x)
    assert full.shape == (4, 2) and torch.allclose(task(x), full[:, :1])
    # The prediction on the reverse strand is the other strand's output, not the same one.
    assert torch.allclose(task(x.flip(1, 2)), full[:, 1:], atol=1e-5)


def test_epoch_metrics_per_label_and_macro():
    from gdl_dna.metrics import compute_metrics

    probs = torch.tensor([[0.9, 0.2], [0.8, 0.7], [0.1, 0.6], [0.3, 0.1]])
    target = torch.tensor([[1.0, 0.0], [1.0, float("nan")], [0.0, 1.0], [0.0, 0.0]])
    m = compute_metrics("binary", probs, target, ["a", "b"], [])
    assert m["auroc_a"] == 1.0 and m["auroc_b"] == 1.0 and m["auroc"] == 1.0
    assert m["accuracy_b"] == 1.0 and abs(m["accuracy"] - 1.0) < 1e-9
    mc = compute_metrics(
        "multiclass",
        torch.eye(3)[[0, 1, 2, 0]],
        torch.tensor([0, 1, 2, -1.0]),
        ["c"],
        ["x", "y", "z"],
    )
    assert mc["accuracy"] == 1.0 and mc["auroc"] == 1.0
    absent = compute_metrics(
        "multiclass", torch.eye(3)[[0, 1, 0]], torch.tensor([0, 1, 0.0]), ["c"], ["x", "y", "z"]
    )
    assert absent["auroc_z"] != absent["auroc_z"] and absent["auroc"] == 1.0  # NaN, not 0
    reg = compute_metrics(
        "regression",
        torch.tensor([[1.0], [2.0], [3.0]]),
        torch.tensor([[2.0], [4.0], [float("nan")]]),
        ["r"],
        [],
    )
    assert reg["pearson"] > 0.999 and reg["mse"] == 2.5


def test_separate_strand_init_starts_the_strand_net_as_one_plain_cnn_per_strand():
    from gdl_dna.layers import RCConv1d

    task = DNATask(
        label_names=["a"], sequence_length=64, head="strand", strand_trunk="tied", **TINY
    )
    assert task.arch.strand_init == "separate"  # auto: separate with the strand head
    convs = [m for m in task.net.modules() if isinstance(m, RCConv1d)]
    for conv in convs[1:]:
        w, r, ro = conv.weight(), conv.in_type.regular, conv.out_type.regular
        assert w[:ro, r:].abs().max() == 0 and w[:ro, :r].abs().max() > 0
    assert task.check_symmetry(dtype=torch.float64).max_abs < 1e-12
    mixed = DNATask(label_names=["a"], sequence_length=64, head="invariant", **TINY)
    assert mixed.arch.strand_init == "mixed"


def test_the_conjoined_strand_head_predicts_the_given_strand_exactly_as_none():
    # For strand-specific labels RC equivariance constrains only how the two strands'
    # outputs relate, so the strand head is the plain network on the given strand (the
    # same one ``none`` builds, same initial weights at the same seed) plus its RC.
    torch.manual_seed(3)
    strand = DNATask(label_names=["a"], sequence_length=64, head="strand", **TINY).eval()
    torch.manual_seed(3)
    none = DNATask(label_names=["a"], sequence_length=64, symmetry="none", **TINY).eval()
    x = _x(5, 64, seed=4)
    assert torch.equal(strand(x), none(x))
    assert torch.equal(strand.full_output(x)[:, 1:], none(x.flip(1, 2)))
