"""Operation names → modules, and the named search spaces (DARTS, ADD, FD-NAS).

Names are the ones of the papers' code: fixed names (``none``, ``skip_connect``,
``max_pool_3x3``, ``avg_pool_3x3``, ``conv_7x1_1x7``) and patterns with an odd kernel size k and,
for the FD-NAS central-difference ops, a θ in [0, 1] written in the name (``SepCDC_3x3_0.7``).

Search spaces:

* ``darts`` — the 8 operations of DARTS.
* ``add`` — the 11 operations of ADD's deepfake space (paper 001, Sec. III-B): zero, identity,
  3×3 average and max pooling, 3×3 / 5×5 / 7×7 convolution, 3×3 / 5×5 separable convolution and
  3×3 / 5×5 dilated separable convolution (``dil_sep_conv``; see ``ops.SepConv`` for the reading).
* ``fdnas`` — the 11 operations of the FD-NAS public code: max pooling, SepCDC and DilCDC 3×3
  with θ ∈ {0, 0.5, 0.7, 0.8}, skip, zero. Its reducing ``skip_connect`` is a 3×3 stride-2
  average pool excluding padding (``reducing_skip='avg_pool'``), where DARTS and ADD use
  FactorizedReduce.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from typing import Literal

import flax.linen as nn

from fakenas_jax.nn import conv, ops, pooling

ReducingSkip = Literal["factorized_reduce", "avg_pool"]
REDUCING_SKIPS = ("factorized_reduce", "avg_pool")

SEARCH_SPACES: dict[str, tuple[str, ...]] = {
  "fdnas": (
    "max_pool_3x3",
    "SepCDC_3x3_0.0",
    "SepCDC_3x3_0.5",
    "SepCDC_3x3_0.7",
    "SepCDC_3x3_0.8",
    "DilCDC_3x3_0.0",
    "DilCDC_3x3_0.5",
    "DilCDC_3x3_0.7",
    "DilCDC_3x3_0.8",
    "skip_connect",
    "none",
  ),
  "add": (
    "none",
    "skip_connect",
    "avg_pool_3x3",
    "max_pool_3x3",
    "conv_3x3",
    "conv_5x5",
    "conv_7x7",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_sep_conv_3x3",
    "dil_sep_conv_5x5",
  ),
  "darts": (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
  ),
}
SPACE_REDUCING_SKIP: dict[str, ReducingSkip] = {
  "fdnas": "avg_pool",
  "add": "factorized_reduce",
  "darts": "factorized_reduce",
}


@dataclasses.dataclass(frozen=True)
class OpSpec:
  """A parsed operation name.

  ``kind`` is one of ``none``, ``skip_connect``, ``max_pool``, ``avg_pool``, ``conv``,
  ``conv_7x1_1x7``, ``sep_conv`` (two-layer separable) or ``dil_conv`` (one-layer separable);
  ``kernel_size``, ``dilation`` and ``theta`` (CDC) describe the convolutions.
  """

  name: str
  kind: str
  kernel_size: int = 0
  dilation: int = 1
  theta: float = 0.0

  @property
  def has_parameters(self) -> bool:
    return self.kind in ("conv", "conv_7x1_1x7", "sep_conv", "dil_conv")


_FIXED = {
  "none": OpSpec("none", "none"),
  "skip_connect": OpSpec("skip_connect", "skip_connect"),
  "max_pool_3x3": OpSpec("max_pool_3x3", "max_pool", 3),
  "avg_pool_3x3": OpSpec("avg_pool_3x3", "avg_pool", 3),
  "conv_7x1_1x7": OpSpec("conv_7x1_1x7", "conv_7x1_1x7", 7),
}
_THETA = r"(?P<theta>[01](?:\.\d+)?)"
# (pattern, kind, dilation, minimum kernel size); k must be odd.
_PATTERNS = (
  (r"conv_(?P<k>\d+)x(?P=k)", "conv", 1, 1),
  (r"sep_conv_(?P<k>\d+)x(?P=k)", "sep_conv", 1, 3),
  (r"dil_sep_conv_(?P<k>\d+)x(?P=k)", "sep_conv", 2, 3),
  (r"dil_conv_(?P<k>\d+)x(?P=k)", "dil_conv", 2, 3),
  (rf"SepCDC_(?P<k>\d+)x(?P=k)_{_THETA}", "sep_conv", 1, 3),
  (rf"DilCDC_(?P<k>\d+)x(?P=k)_{_THETA}", "dil_conv", 2, 3),
)
_PATTERN_HELP = (
  "conv_<k>x<k>",
  "sep_conv_<k>x<k>",
  "dil_sep_conv_<k>x<k>",
  "dil_conv_<k>x<k>",
  "SepCDC_<k>x<k>_<θ>",
  "DilCDC_<k>x<k>_<θ>",
)


def known_names_help() -> str:
  return (
    f"known names: {', '.join(_FIXED)}; patterns: {', '.join(_PATTERN_HELP)} "
    "(k odd, θ in [0, 1], e.g. SepCDC_3x3_0.7); spaces: "
    + "; ".join(f"{space}: {', '.join(names)}" for space, names in SEARCH_SPACES.items())
  )


def parse_op_name(name: str) -> OpSpec:
  """Parses an operation name; unknown names raise ``ValueError`` listing the known ones."""
  if name in _FIXED:
    return _FIXED[name]
  for pattern, kind, dilation, min_kernel in _PATTERNS:
    match = re.fullmatch(pattern, name)
    if match is None:
      continue
    kernel_size = int(match["k"])
    theta = float(match["theta"]) if "theta" in pattern else 0.0
    if kernel_size % 2 == 1 and kernel_size >= min_kernel and 0.0 <= theta <= 1.0:
      return OpSpec(name, kind, kernel_size, dilation, theta)
  raise ValueError(f"unknown operation {name!r}; {known_names_help()}")


def make_op(
  name: str,
  channels: int,
  stride: int,
  *,
  affine: bool,
  pool_batch_norm: bool = False,
  reducing_skip: ReducingSkip = "factorized_reduce",
  conv_impl: conv.ConvImpl = "auto",
  pool_impl: pooling.PoolImpl = "taps",
  module_name: str | None = None,
) -> nn.Module:
  """The Linen module of operation ``name`` mapping C = ``channels`` to C channels.

  Args:
    name: an operation name (see ``parse_op_name``).
    channels: input = output channels.
    stride: 1 on a normal edge, 2 on a reducing one.
    affine: learnable scale and shift in every BN (False during search).
    pool_batch_norm: follow pooling ops with a non-affine BN (DARTS' search mixed op).
    reducing_skip: what ``skip_connect`` is at stride 2: ``'factorized_reduce'`` (DARTS, ADD)
      or ``'avg_pool'`` (FD-NAS: 3×3 stride-2 average pool, no BN).
    conv_impl, pool_impl: primitive implementations (``conv``, ``pooling``).
    module_name: Linen name of the returned module.
  """
  if stride not in (1, 2):
    raise ValueError(f"stride must be 1 or 2, got {stride}")
  if reducing_skip not in REDUCING_SKIPS:
    raise ValueError(f"reducing_skip must be one of {REDUCING_SKIPS}, got {reducing_skip!r}")
  spec = parse_op_name(name)
  kind = spec.kind
  if kind == "none":
    return ops.Zero(channels, stride, name=module_name)
  if kind == "skip_connect":
    if stride == 1:
      return ops.Identity(name=module_name)
    if reducing_skip == "avg_pool":
      return ops.Pool("avg", stride, False, pool_impl, name=module_name)
    return ops.FactorizedReduce(channels, affine, name=module_name)
  if kind in ("max_pool", "avg_pool"):
    return ops.Pool(kind.split("_")[0], stride, pool_batch_norm, pool_impl, name=module_name)
  if kind == "conv":
    return ops.ReLUConvBN(
      channels, spec.kernel_size, stride, 1, spec.theta, affine, conv_impl, name=module_name
    )
  if kind == "conv_7x1_1x7":
    return ops.Conv7x1Then1x7(channels, stride, affine, conv_impl, name=module_name)
  op_class = ops.SepConv if kind == "sep_conv" else ops.DilConv
  return op_class(
    channels,
    spec.kernel_size,
    stride,
    spec.dilation,
    spec.theta,
    affine,
    conv_impl,
    name=module_name,
  )


@dataclasses.dataclass(frozen=True)
class SearchSpace:
  """An ordered, validated tuple of operation names plus what a reducing skip is."""

  name: str
  ops: tuple[str, ...]
  reducing_skip: ReducingSkip = "factorized_reduce"

  def __post_init__(self):
    for op_name in self.ops:
      parse_op_name(op_name)
    if len(set(self.ops)) != len(self.ops):
      raise ValueError(f"duplicate operations in {self.ops}")
    if self.reducing_skip not in REDUCING_SKIPS:
      raise ValueError(f"reducing_skip must be one of {REDUCING_SKIPS}")

  def __len__(self) -> int:
    return len(self.ops)

  def __iter__(self) -> Iterator[str]:
    return iter(self.ops)

  def index(self, op_name: str) -> int:
    return self.ops.index(op_name)

  def make_op(self, name: str, channels: int, stride: int, *, affine: bool, **kwargs) -> nn.Module:
    """``make_op`` with this space's reducing skip."""
    if name not in self.ops:
      raise ValueError(f"{name!r} is not in search space {self.name!r}: {self.ops}")
    return make_op(
      name, channels, stride, affine=affine, reducing_skip=self.reducing_skip, **kwargs
    )


def search_space(
  name_or_ops: str | Sequence[str], *, reducing_skip: ReducingSkip | None = None
) -> SearchSpace:
  """A named space (``'fdnas'``, ``'add'``, ``'darts'``) or any list of valid op names.

  ``reducing_skip`` overrides the space's own (``'factorized_reduce'`` for a custom list).
  """
  if isinstance(name_or_ops, str):
    if name_or_ops not in SEARCH_SPACES:
      raise ValueError(f"unknown search space {name_or_ops!r}; known: {sorted(SEARCH_SPACES)}")
    return SearchSpace(
      name_or_ops, SEARCH_SPACES[name_or_ops], reducing_skip or SPACE_REDUCING_SKIP[name_or_ops]
    )
  return SearchSpace("custom", tuple(name_or_ops), reducing_skip or "factorized_reduce")
