"""The options tuned on GUE (exp first activation, trunk dropout, max+mean readout) keep
the net exactly RC-invariant in eval mode; label smoothing only touches the training loss."""

from __future__ import annotations

import torch
from gdl_dna.layers.trunk_stages import ExpActivation
from gdl_dna.model import ArchConfig, build_network
from gdl_dna.task import DNATask

from gdl_science.symmetry import RCFieldType, ReverseComplementGroup, check_equivariance, tolerance

RC = ReverseComplementGroup()
ARCH = ArchConfig(
    channels=(4, 4),
    irrep_channels=2,
    kernel_sizes=(7, 3),
    dilations=(1, 2),
    pool_sizes=(3, 1),
    hidden=(8,),
    trunk_dropout=0.3,
    first_activation="exp",
)


def _one_hot(batch: int, length: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.one_hot(torch.randint(4, (batch, length), generator=g), 4)
    return x.transpose(1, 2).double()


def test_exp_and_trunk_dropout_net_is_exactly_invariant_in_eval_mode():
    torch.manual_seed(0)
    net = build_network(ARCH, 2, equivariant=True).double()
    assert any(isinstance(m, ExpActivation) for m in net.modules())
    net.train()
    with torch.no_grad():  # batch-norm statistics that are not the identity
        net(_one_hot(8, 61, seed=1))
    report = check_equivariance(net.eval(), RC, _one_hot(4, 61), RC.act_on_one_hot)
    report.assert_equivariant(tolerance(torch.float64))
    # In training, dropout makes two passes differ (its mask is random, not RC-paired).
    net.train()
    x = _one_hot(4, 61)
    assert not torch.allclose(net(x), net(x))


def test_max_mean_readout_is_exactly_invariant_and_strand_equivariant():
    from gdl_dna.layers.readouts import MaxMeanPool

    torch.manual_seed(0)
    arch = ArchConfig(**{**ARCH.__dict__, "global_pool": "maxmean", "kmer": 3})
    net = build_network(arch, 2, equivariant=True).double().eval()
    assert any(isinstance(m, MaxMeanPool) for m in net.modules())
    check_equivariance(net, RC, _one_hot(4, 61), RC.act_on_one_hot).assert_equivariant(
        tolerance(torch.float64)
    )
    tied = ArchConfig(**{**arch.__dict__, "head": "strand", "strand_trunk": "tied"})
    net = build_network(tied, 2, equivariant=True).double().eval()
    out_action = RC.action(RCFieldType(regular=2), length_axis=False)
    report = check_equivariance(net, RC, _one_hot(4, 61), RC.act_on_one_hot, out_action)
    report.assert_equivariant(tolerance(torch.float64))
    plain = build_network(arch, 2, equivariant=False)  # [max | mean] of every channel
    assert plain(_one_hot(2, 61).float()).shape == (2, 2)


def test_exp_activation_is_odd_on_minus_channels_and_exp_elsewhere():
    act = ExpActivation(RCFieldType(regular=1, plus=1, minus=1))
    x = torch.tensor([[[0.5], [-1.0], [2.0], [-0.3]]])  # regular pair, +1, -1
    out = act(x)
    torch.testing.assert_close(out[0, :3, 0], torch.exp(x[0, :3, 0]))
    torch.testing.assert_close(out[0, 3, 0], torch.tanh(x[0, 3, 0]))
    assert torch.isfinite(ExpActivation()(torch.full((1, 2, 3), 1e4))).all()  # clamped


def test_plain_net_takes_the_same_options_and_padding_stays_masked():
    net = build_network(ARCH, 1, equivariant=False).eval()
    x = _one_hot(2, 60).float()
    mask = torch.ones(2, 1, 60)
    # Row 1 is a 50 bp sequence centred in the 60 bp frame, as framing pads it.
    x[1, :, :5], x[1, :, 55:], mask[1, :, :5], mask[1, :, 55:] = 0.0, 0.0, 0.0, 0.0
    with torch.no_grad():
        alone = net(x[1:, :, 5:55])[0]
        torch.testing.assert_close(net(x, mask)[1], alone)


def test_label_smoothing_changes_the_training_loss_only():
    task = DNATask(sequence_length=30, channels=[2], kernel_sizes=[3], dilations=[1],
                   pool_sizes=[1], hidden=[2], label_smoothing=0.2)  # fmt: skip
    logits = torch.tensor([[3.0], [-2.0], [0.5]])
    y = torch.tensor([[1.0], [0.0], [float("nan")]])
    task.eval()
    plain = task.loss(logits, y)
    task.train()
    smoothed = task.loss(logits, y)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits[:2], torch.tensor([[0.9], [0.1]])
    )
    torch.testing.assert_close(smoothed, expected)
    assert plain < smoothed  # confident correct logits pay for the smoothing
