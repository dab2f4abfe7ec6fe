"""Network building blocks: CDC, fast conv primitives, candidate operations, search spaces,
genotypes (the searched cells every network is built from)."""

from fakenas_jax.nn.batch_norm import BatchNorm
from fakenas_jax.nn.cdc import fold_central_difference
from fakenas_jax.nn.conv import conv2d, depthwise_conv, pointwise_conv
from fakenas_jax.nn.registry import (
  SEARCH_SPACES,
  OpSpec,
  SearchSpace,
  make_op,
  parse_op_name,
  search_space,
)

__all__ = [
  "BatchNorm",
  "SEARCH_SPACES",
  "OpSpec",
  "SearchSpace",
  "conv2d",
  "depthwise_conv",
  "fold_central_difference",
  "make_op",
  "parse_op_name",
  "pointwise_conv",
  "search_space",
]
