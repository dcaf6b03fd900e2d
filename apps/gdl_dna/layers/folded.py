"""The tied RC convolution with half the multiply-adds: folded symmetric kernels.

In the basis s = h + h_bar, a = h - h_bar of every RC-regular pair (h, h_bar), RC acts
on s as a plain flip of the length axis (a +1 irrep) and on a as minus that flip (a -1
irrep); the +1/-1 irrep channels are in this basis already. Write P for the +1 channels
[s | plus] and M for the -1 channels [a | minus]. An equivariant kernel maps P -> P and
M -> M with a *symmetric* kernel (W[c + j] = W[c - j], c the centre tap) and P -> M,
M -> P with an *antisymmetric* one (W[c + j] = -W[c - j], zero centre). So, with the
input folded into

    S_j(t) = x(t + j d) + x(t - j d),   A_j(t) = x(t + j d) - x(t - j d),   j = 1..c,

    P_out = W_PP[c] P + sum_j W_PP[c + j] S_j(P) + sum_j W_PM[c + j] A_j(M),
    M_out = W_MM[c] M + sum_j W_MM[c + j] S_j(M) + sum_j W_MP[c + j] A_j(P),

each output reads (K + 1) / 2 or (K - 1) / 2 taps per input channel instead of K: two
GEMMs with half the dense convolution's multiply-adds, about those of a plain CNN with
the same number of parameters. Taps that read only padding are skipped (``taps``).

The outputs stay in the (s/2, a/2) basis until the end, where h = s/2 + a/2 and
h_bar = s/2 - a/2 (computing h directly from all folded inputs would save nothing).
Layout: the folded inputs are (N, B * L) matrices, so each product is one large GEMM.
The weight is the layer's usual dense tied weight, changed to this basis by adds, so
the parameters, the state dict and ``export()`` are those of the dense layer.
"""

from __future__ import annotations

import torch

from gdl_dna.layers.taps import live_taps
from gdl_science.symmetry import RCFieldType


def irrep_split(a: torch.Tensor, ft: RCFieldType, dim: int, half: bool) -> tuple[torch.Tensor, ...]:
    """Rows of ``a`` along ``dim`` (laid out as ``ft``) in the irrep basis: (P, M).

    P = [u + u_bar | plus], M = [u - u_bar | minus] for the pairs (u, u_bar); ``half``
    divides the pair sums by two (the weight's input side and output side both need it).
    """
    r, p = ft.regular, ft.plus
    u = a.narrow(dim, 0, r)
    u_bar = a.narrow(dim, r, r).flip(dim)
    scale = 0.5 if half else 1.0
    s, d = (u + u_bar) * scale, (u - u_bar) * scale
    plus, minus = a.narrow(dim, 2 * r, p), a.narrow(dim, 2 * r + p, ft.minus)
    return torch.cat([s, plus], dim), torch.cat([d, minus], dim)


def folded_weights(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    in_type: RCFieldType,
    out_type: RCFieldType,
    taps: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Dense tied (C_out, C_in, K) weight -> the two folded GEMM matrices and biases.

    W_P: (P_out, P_in (1 + T) + M_in T), columns [centre P | S_j(P) for j | A_j(M) for j]
    (j-major, T = ``taps``); W_M likewise for M_out from [centre M | S_j(M) | A_j(P)].
    Outputs are s/2 and a/2 (``half`` on the output side), inputs s and a.
    """
    c = (weight.shape[-1] - 1) // 2
    out_p, out_m = irrep_split(weight, out_type, 0, half=True)
    blocks = []
    for rows in (out_p, out_m):
        w_p, w_m = irrep_split(rows, in_type, 1, half=True)
        blocks.append((w_p, w_m))
    (pp, pm), (mp, mm) = blocks

    def right(w: torch.Tensor) -> torch.Tensor:  # (O, I, K) -> (O, T * I), j-major
        return w[:, :, c + 1 : c + 1 + taps].permute(0, 2, 1).reshape(w.shape[0], taps * w.shape[1])

    w_p = torch.cat([pp[:, :, c], right(pp), right(pm)], dim=1)
    w_m = torch.cat([mm[:, :, c], right(mm), right(mp)], dim=1)
    if bias is None:
        zero = weight.new_zeros(())
        b_p, b_m = zero.expand(w_p.shape[0]), zero.expand(w_m.shape[0])
    else:
        b_p, b_m = irrep_split(bias, out_type, 0, half=True)
    return w_p, w_m, b_p.contiguous(), b_m.contiguous()


def _to_irreps(x: torch.Tensor, ft: RCFieldType, pad: int) -> torch.Tensor:
    """(B, C, L) regular layout -> (C, B, L + 2 pad) irrep layout [P | M], zero padded."""
    r, p = ft.regular, ft.plus
    b, _, length = x.shape
    out = x.new_zeros(ft.size, b, length + 2 * pad)
    mid = out[:, :, pad : pad + length]
    xt = x.transpose(0, 1)  # (C, B, L) view
    h, h_bar = xt[:r], xt[r : 2 * r].flip(0)
    n_p = r + p
    torch.add(h, h_bar, out=mid[:r])
    mid[r:n_p] = xt[2 * r : 2 * r + p]
    torch.sub(h, h_bar, out=mid[n_p : n_p + r])
    mid[n_p + r :] = xt[2 * r + p :]
    return out


def _from_irreps(y_p: torch.Tensor, y_m: torch.Tensor, ft: RCFieldType) -> torch.Tensor:
    """(P, B, L), (M, B, L) in the (s/2, a/2) basis -> (B, C, L) regular layout."""
    r, p = ft.regular, ft.plus
    b, length = y_p.shape[1], y_p.shape[2]
    out = y_p.new_empty(b, ft.size, length)
    ot = out.transpose(0, 1)  # (C, B, L) view
    torch.add(y_p[:r], y_m[:r], out=ot[:r])
    ot[r : 2 * r] = (y_p[:r] - y_m[:r]).flip(0)
    ot[2 * r : 2 * r + p] = y_p[r:]
    ot[2 * r + p :] = y_m[r:]
    return out


def _fold(xp: torch.Tensor, n_p: int, taps: int, dilation: int, length: int):
    """(C, B, L + 2 pad) irreps -> Z_P (N_P, B, L), Z_M (N_M, B, L) (``folded_weights``)."""
    c_all, b = xp.shape[0], xp.shape[1]
    n_m = c_all - n_p
    pad = taps * dilation
    z_p = xp.new_empty(n_p * (1 + taps) + n_m * taps, b, length)
    z_m = xp.new_empty(n_m * (1 + taps) + n_p * taps, b, length)
    z_p[:n_p] = xp[:n_p, :, pad : pad + length]
    z_m[:n_m] = xp[n_p:, :, pad : pad + length]
    for j in range(1, taps + 1):
        hi, lo = xp[:, :, pad + j * dilation :], xp[:, :, pad - j * dilation :]
        hi, lo = hi[:, :, :length], lo[:, :, :length]
        sp = n_p + (j - 1) * n_p  # S_j(P) rows in Z_P
        ap = n_p * (1 + taps) + (j - 1) * n_m  # A_j(M) rows in Z_P
        sm = n_m + (j - 1) * n_m  # S_j(M) rows in Z_M
        am = n_m * (1 + taps) + (j - 1) * n_p  # A_j(P) rows in Z_M
        torch.add(hi[:n_p], lo[:n_p], out=z_p[sp : sp + n_p])
        torch.sub(hi[n_p:], lo[n_p:], out=z_p[ap : ap + n_m])
        torch.add(hi[n_p:], lo[n_p:], out=z_m[sm : sm + n_m])
        torch.sub(hi[:n_p], lo[:n_p], out=z_m[am : am + n_p])
    return z_p, z_m


def _unfold(g_p: torch.Tensor, g_m: torch.Tensor, n_p: int, taps: int, dilation: int):
    """Adjoint of ``_fold``: (N_P, B, L), (N_M, B, L) -> (C, B, L + 2 pad)."""
    n_m = g_m.shape[0] - n_p * taps
    n_m //= 1 + taps
    b, length = g_p.shape[1], g_p.shape[2]
    pad = taps * dilation
    gx = g_p.new_zeros(n_p + n_m, b, length + 2 * pad)
    gx[:n_p, :, pad : pad + length] = g_p[:n_p]
    gx[n_p:, :, pad : pad + length] = g_m[:n_m]
    for j in range(1, taps + 1):
        sp = n_p + (j - 1) * n_p
        ap = n_p * (1 + taps) + (j - 1) * n_m
        sm = n_m + (j - 1) * n_m
        am = n_m * (1 + taps) + (j - 1) * n_p
        s_all = torch.cat([g_p[sp : sp + n_p], g_m[sm : sm + n_m]])  # (C, B, L) sym part
        a_all = torch.cat([g_m[am : am + n_p], g_p[ap : ap + n_m]])  # (C, B, L) anti part
        hi = gx[:, :, pad + j * dilation : pad + j * dilation + length]
        lo = gx[:, :, pad - j * dilation : pad - j * dilation + length]
        hi += s_all
        hi += a_all
        lo += s_all
        lo -= a_all
    return gx


class FoldedRCConvFn(torch.autograd.Function):
    """y = conv1d(x, W, b, "same" padding, dilation) for a tied W, via the folded GEMMs.

    x (B, C_in, L) and y (B, C_out, L) in the usual regular layout; w_p, w_m, b_p, b_m
    from ``folded_weights`` (autograd carries their gradients back to the free parameters).
    """

    @staticmethod
    def forward(ctx, x, w_p, w_m, b_p, b_m, in_type, out_type, taps, dilation):  # type: ignore[override]
        b, _, length = x.shape
        n_p = in_type.regular + in_type.plus
        xp = _to_irreps(x, in_type, taps * dilation)
        z_p, z_m = _fold(xp, n_p, taps, dilation, length)
        z_p2, z_m2 = z_p.view(z_p.shape[0], b * length), z_m.view(z_m.shape[0], b * length)
        y_p = torch.addmm(b_p[:, None], w_p, z_p2).view(w_p.shape[0], b, length)
        y_m = torch.addmm(b_m[:, None], w_m, z_m2).view(w_m.shape[0], b, length)
        ctx.save_for_backward(z_p2, z_m2, w_p, w_m)
        ctx.meta = (in_type, out_type, taps, dilation, n_p, b, length)
        return _from_irreps(y_p, y_m, out_type)

    @staticmethod
    def backward(ctx, grad_y):  # type: ignore[override]
        z_p2, z_m2, w_p, w_m = ctx.saved_tensors
        in_type, out_type, taps, dilation, n_p, b, length = ctx.meta
        # Adjoint of _from_irreps: g_s' = g_h + g_hbar, g_a' = g_h - g_hbar.
        g_p, g_m = (t.contiguous() for t in irrep_split(grad_y.transpose(0, 1), out_type, 0, False))
        g_p2, g_m2 = g_p.view(g_p.shape[0], b * length), g_m.view(g_m.shape[0], b * length)
        grad_wp = grad_wm = grad_bp = grad_bm = grad_x = None
        if ctx.needs_input_grad[1]:
            grad_wp, grad_wm = g_p2 @ z_p2.t(), g_m2 @ z_m2.t()
        if ctx.needs_input_grad[3]:
            grad_bp, grad_bm = g_p2.sum(1), g_m2.sum(1)
        if ctx.needs_input_grad[0]:
            gz_p = (w_p.t() @ g_p2).view(w_p.shape[1], b, length)
            gz_m = (w_m.t() @ g_m2).view(w_m.shape[1], b, length)
            pad = taps * dilation
            gx = _unfold(gz_p, gz_m, n_p, taps, dilation)[:, :, pad : pad + length]
            # Adjoint of _to_irreps: g_h = g_s + g_a, g_hbar = g_s - g_a.
            r = in_type.regular
            g_s, g_a = gx[:r], gx[n_p : n_p + r]
            grad_x = torch.cat(
                [g_s + g_a, (g_s - g_a).flip(0), gx[r:n_p], gx[n_p + r :]], dim=0
            ).transpose(0, 1)
        return grad_x, grad_wp, grad_wm, grad_bp, grad_bm, None, None, None, None


def folded_conv1d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    in_type: RCFieldType,
    out_type: RCFieldType,
    dilation: int,
) -> torch.Tensor:
    """``F.conv1d(x, weight, bias, padding=dilation * (K - 1) // 2, dilation=dilation)``
    for a tied RC weight (odd K), computed with the folded kernels."""
    taps = live_taps(weight.shape[-1], dilation, x.shape[-1])
    w_p, w_m, b_p, b_m = folded_weights(weight, bias, in_type, out_type, taps)
    return FoldedRCConvFn.apply(
        x, w_p.contiguous(), w_m.contiguous(), b_p, b_m, in_type, out_type, taps, dilation
    )
