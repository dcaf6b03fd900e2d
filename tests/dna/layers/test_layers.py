"""Every RC layer through the core checker, in float64 at both group elements (<= 1e-10)."""

from __future__ import annotations

import itertools

import pytest
import torch
from gdl_dna.layers import (
    KmerEncoding,
    RCBatchNorm1d,
    RCConv1d,
    RCPointwise,
    RCPool1d,
    StrandHead,
)
from gdl_dna.layers.tying import conv_weight_tying

from gdl_science.symmetry import ONE_HOT, RCFieldType, ReverseComplementGroup, check_equivariance

RC = ReverseComplementGroup()
ATOL = 1e-10
# Regular only (RCPS), irreps only (Mallet & Vert), and mixed types, including -1 alone.
TYPES = [
    RCFieldType(regular=3),
    RCFieldType(plus=2, minus=3),
    RCFieldType(regular=2, plus=1, minus=2),
    RCFieldType(minus=2),
]


def _x(field_type: RCFieldType, length: int = 17, batch: int = 3, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, field_type.size, length, generator=g, dtype=torch.float64)


@pytest.mark.parametrize(("in_type", "out_type"), list(itertools.product([ONE_HOT, *TYPES], TYPES)))
@pytest.mark.parametrize(("kernel_size", "dilation"), [(1, 1), (5, 1), (3, 3)])
def test_conv_is_equivariant_between_all_type_pairs(in_type, out_type, kernel_size, dilation):
    torch.manual_seed(0)
    conv = RCConv1d(in_type, out_type, kernel_size, dilation=dilation).double()
    report = check_equivariance(conv, RC, _x(in_type), RC.action(in_type), RC.action(out_type))
    report.assert_equivariant(ATOL)
    # The check must see a non-trivial output, or a zero map would pass.
    assert conv(_x(in_type)).abs().max() > 1e-3


def test_conv_parameter_count_is_the_dimension_of_the_equivariant_subspace():
    """Free parameters = rank of the projector (W + T W) / 2 onto equivariant weights."""
    in_type, out_type, k = RCFieldType(2, 1, 1), RCFieldType(1, 2, 1), 3
    tying = conv_weight_tying(in_type, out_type, k)
    n = in_type.size * out_type.size * k
    # Build T as a matrix from the tying's involution: project random weights and count rank.
    conv = RCConv1d(in_type, out_type, k, bias=False).double()
    basis = []
    for i in range(tying.num_free):
        with torch.no_grad():
            conv.theta.zero_()
            conv.theta[i] = 1.0
        basis.append(conv.weight().reshape(-1))
    rank = torch.linalg.matrix_rank(torch.stack(basis)).item()
    assert rank == tying.num_free < n
    # And every equivariant weight is reachable: the symmetrisation of any W lies in the span.
    w = torch.randn(n, dtype=torch.float64)
    sym = (w + _involution(w.view(out_type.size, in_type.size, k), in_type, out_type)) / 2
    coef = torch.linalg.lstsq(torch.stack(basis).T, sym.reshape(-1, 1)).solution
    assert torch.allclose(torch.stack(basis).T @ coef, sym.reshape(-1, 1), atol=1e-10)


def _involution(w: torch.Tensor, in_type: RCFieldType, out_type: RCFieldType) -> torch.Tensor:
    """T(W) written directly from the actions, independent of the tying code."""
    eye_in = torch.eye(in_type.size, dtype=w.dtype)[None, :, :]  # (1, C, C) as a batch of rows
    eye_out = torch.eye(out_type.size, dtype=w.dtype)[None, :, :]
    p_in = in_type.act(1, eye_in, length_axis=False)[0]  # column c = action on basis vector c
    p_out = out_type.act(1, eye_out, length_axis=False)[0]
    return torch.einsum("oa,abk,cb->ock", p_out, w.flip(-1), p_in).reshape(-1)


def test_export_gives_a_plain_conv_with_the_same_output():
    conv = RCConv1d(ONE_HOT, RCFieldType(2, 1, 1), 5, dilation=2).double()
    x = _x(ONE_HOT)
    assert torch.allclose(conv.export()(x), conv(x), atol=1e-12)


def test_even_kernel_is_refused():
    with pytest.raises(ValueError, match="odd"):
        RCConv1d(ONE_HOT, RCFieldType(1), 4)


@pytest.mark.parametrize("field_type", TYPES)
@pytest.mark.parametrize("training", [False, True])
def test_batchnorm_is_equivariant_in_train_and_eval_mode(field_type, training):
    bn = RCBatchNorm1d(field_type).double()
    x = _x(field_type, batch=6) * 3 + 1
    bn.train()
    for _ in range(3):  # non-trivial running statistics
        bn(x)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    act = RC.action(field_type)
    if training:  # the checker puts modules in eval mode, so check train mode directly
        bn.train()
        err = (bn(act(1, x)) - act(1, bn(x))).abs().max().item()
        assert err < ATOL
    else:
        check_equivariance(bn, RC, x, act, act).assert_equivariant(ATOL)


def test_batchnorm_normalises_pooled_over_rc_pairs():
    t = RCFieldType(regular=1, plus=1, minus=1)
    bn = RCBatchNorm1d(t, affine=False).double().train()
    x = (
        _x(t, batch=64, length=50)
        * torch.tensor([1.0, 3.0, 2.0, 5.0], dtype=torch.float64)[:, None]
    )
    x[:, 3] += 7.0  # a -1 channel is not centred (the shift would not be odd)
    y = bn(x)
    pair = torch.cat([y[:, 0], y[:, 1]])
    assert abs(pair.mean().item()) < 1e-10 and abs(pair.var(unbiased=False).item() - 1) < 1e-4
    assert abs(y[:, 3].pow(2).mean().item() - 1) < 1e-4 and y[:, 3].mean().item() > 0.5


@pytest.mark.parametrize("field_type", TYPES)
def test_pointwise_nonlinearity_is_equivariant(field_type):
    act = RC.action(field_type)
    check_equivariance(RCPointwise(field_type), RC, _x(field_type), act, act).assert_equivariant(
        ATOL
    )


def test_nonlinearity_refuses_even_function_on_minus_channels():
    with pytest.raises(ValueError, match="odd"):
        RCPointwise(RCFieldType(minus=1), odd="relu")


@pytest.mark.parametrize("field_type", TYPES)
@pytest.mark.parametrize(("window", "length"), [(4, 16), (4, 18), (3, 17), (3, 16), (5, 17)])
def test_pooling_is_equivariant_whenever_it_accepts_the_length(field_type, window, length):
    pool = RCPool1d(field_type, window)
    act = RC.action(field_type)
    check_equivariance(pool, RC, _x(field_type, length), act, act).assert_equivariant(ATOL)


def test_pooling_refuses_a_length_that_cannot_tile_symmetrically():
    with pytest.raises(ValueError, match="length 17"):
        RCPool1d(RCFieldType(1), 4)(torch.zeros(1, 2, 17))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_kmer_encoding_is_equivariant_and_sums_to_one(k):
    layer = KmerEncoding(k)
    x = torch.nn.functional.one_hot(torch.randint(4, (2, 20)), 4).transpose(1, 2).double()
    x[:, :, 5] = 0.25  # an N spreads over 4^k k-mers
    report = check_equivariance(layer, RC, x, RC.act_on_one_hot, RC.action(layer.out_type))
    report.assert_equivariant(ATOL)
    assert torch.allclose(layer(x).sum(dim=1), torch.ones(2, 21 - k, dtype=torch.float64))
    assert layer.out_type.size == 4**k


def test_kmer_palindromes_are_plus_channels():
    # 2-mers: AT, CG, GC, TA are their own reverse complement.
    assert KmerEncoding(2).out_type == RCFieldType(regular=6, plus=4)


@pytest.mark.parametrize("field_type", TYPES)
def test_strand_head_swaps_strands_under_rc(field_type):
    head = StrandHead(field_type, n_outputs=3, hidden=4).double()
    out_action = RC.action(head.out_type, length_axis=False)
    report = check_equivariance(head, RC, _x(field_type), RC.action(field_type), out_action)
    report.assert_equivariant(ATOL)
    y = head(_x(field_type))
    assert y.shape == (3, 6) and (y[:, :3] - y[:, 3:].flip(1)).abs().max() > 1e-6  # not invariant


@pytest.mark.parametrize("masked", [False, True])
def test_batchnorm_backward_matches_numerical_gradients_with_and_without_a_mask(masked):
    from gdl_dna.layers.batchnorm import _RCBatchNormFn, field_of_channel

    torch.manual_seed(0)
    ft = RCFieldType(regular=2, plus=1, minus=1)
    bn = RCBatchNorm1d(ft).double()
    x = torch.randn(3, ft.size, 7, dtype=torch.float64, requires_grad=True)
    weight = torch.rand(ft.invariant_size, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(ft.invariant_size, dtype=torch.float64)
    bias[ft.regular + ft.plus :] = 0.0  # -1 fields have no shift
    bias.requires_grad_(True)
    mask = None
    if masked:
        mask = torch.ones(3, 1, 7, dtype=torch.float64)
        mask[0, :, :2] = mask[0, :, -2:] = 0.0  # a padded row
    index = field_of_channel(ft)

    def fn(x, weight, bias):
        y, *_ = _RCBatchNormFn.apply(
            x, weight, bias, index, bn.channels_per_field.double(), bn.minus_field, 1e-5, mask,
            False,
        )  # fmt: skip
        return y if mask is None else y * mask  # the network zeroes padding after the norm

    assert torch.autograd.gradcheck(fn, (x, weight, bias), eps=1e-6, atol=1e-6)
