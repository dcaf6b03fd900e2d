"""RC-equivariant layers: each maps between RC field types and exposes in_type/out_type."""

from gdl_dna.layers.batchnorm import RCBatchNorm1d
from gdl_dna.layers.conv import RCConv1d
from gdl_dna.layers.heads import StrandHead
from gdl_dna.layers.kmer import KmerEncoding
from gdl_dna.layers.masking import MaskedBatchNorm1d, kmer_mask
from gdl_dna.layers.nonlinearity import RCPointwise
from gdl_dna.layers.pooling import (
    RCGlobalPool1d,
    RCPool1d,
    block_max,
    block_mean,
    masked_max,
    masked_mean,
    pool_mask,
    pooled_length,
    rc_safe_padding,
)
from gdl_dna.layers.taps import LiveTapConv1d, live_taps

__all__ = [
    "KmerEncoding",
    "LiveTapConv1d",
    "MaskedBatchNorm1d",
    "RCBatchNorm1d",
    "RCConv1d",
    "RCGlobalPool1d",
    "RCPointwise",
    "RCPool1d",
    "StrandHead",
    "block_max",
    "block_mean",
    "kmer_mask",
    "live_taps",
    "masked_max",
    "masked_mean",
    "pool_mask",
    "pooled_length",
    "rc_safe_padding",
]
