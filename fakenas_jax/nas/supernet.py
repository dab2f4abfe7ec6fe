"""The search supernet: cells of mixed operations with partial channels and edge normalisation.

FD-NAS §3.5 / PC-DARTS: every edge (i → j) applies its mixed operation to the first C/k channels
of x_i and lets the others bypass (2×2 max-pooled on reducing edges); the two parts are
concatenated and channel-shuffled with k groups (Eq. 6). Node j is the β-weighted sum of its
incoming edges, softmax over the edges of the node (Eq. 7). Since shuffle and concatenation are
linear, the node sums the sampled parts and the bypassed parts first and shuffles once.

The operation weights of an edge are I = softmax(α) + λE (Eq. 5; plain softmax(α) when no
estimation E is given), with pruned operations masked out (`active`). For performance
estimation (Eq. 4) a caller may replace the weights of chosen edges (`override_mask`) by given
weights (`override_weights`, e.g. one-hot: the edge reduced to one operation).

Architecture parameters live in the collection `arch`: `alpha` (2, 14, ops) and `beta`
(2, 14) — index 0 the normal cell, 1 the reduction cell, shared by all cells of that type.

Network (DARTS search network): stem conv 3×3 → stem_multiplier·C + BN; cells by `layout`
('N' normal, 'R' reduction, which doubles C); global average pool → linear.
FD-NAS: layout 'NNRNNR', C = 16, 32×32 input; DARTS: 'NNRNNRNN'.
`stem='imagenet'` puts DARTS' ImageNet stems in front instead (three 3×3 stride-2 convs: s0 at
stride 4, s1 at stride 8, C channels each; `darts_eval.ImageNetStem`), for inputs of any shape
and channel count: the speech search on (B, 60, T, 1) LFCC (WORKSPACE.md, Speech: an ImageNet-style stem with strides); `stem_multiplier` is then unused.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.models.darts_eval import ImageNetStem
from fakenas_jax.nas import estimation
from fakenas_jax.nas.mixed_edges import MixedEdges
from fakenas_jax.nn import batch_norm, conv, genotypes, pooling
from fakenas_jax.nn import ops as ops_lib

NORMAL, REDUCE = 0, 1
STEMS = ("cifar", "imagenet")


def channel_shuffle(x: jax.Array, groups: int) -> jax.Array:
  """PC-DARTS' shuffle on NHWC: channel g·(C/groups) + i moves to i·groups + g."""
  *lead, channels = x.shape
  if groups <= 1:
    return x
  x = x.reshape(*lead, groups, channels // groups)
  return jnp.swapaxes(x, -1, -2).reshape(*lead, channels)


def max_pool_2x2(x: jax.Array) -> jax.Array:
  """PyTorch's `MaxPool2d(2, 2)` on NHWC: the bypass of reducing edges. On odd sizes, where
  PyTorch's floor leaves the bypass a row short of the operations' ⌈H/2⌉, the last window
  takes the one remaining row/column (ceil mode), as `ops.FactorizedReduce` does. The four
  shifted slices of `pooling.max_pool`: XLA:CPU's reduce-window gradient (select-and-scatter)
  materialised four index arrays of the input's size every step."""
  return pooling.max_pool(x, window=2, stride=2, pad=((0, x.shape[1] % 2), (0, x.shape[2] % 2)))


class ReLUConvBN(nn.Module):
  channels: int
  affine: bool = False

  @nn.compact
  def __call__(self, x, train):
    kernel = self.param(
      "kernel", conv.torch_default_init(x.shape[-1]), (x.shape[-1], self.channels)
    )
    x = conv.pointwise_conv(nn.relu(x), kernel)
    return batch_norm.BatchNorm(self.affine)(x, train)


class NodeEdges(nn.Module):
  """One step of the node scan of a cell: node j's state → its mixed edges to nodes j+1, j+2, …

  The carry is the accumulators of the nodes, sampled (N, B, H, W, c) and bypassed
  (N, B, H, W, C − c) parts, padded to N = 2·steps − 2 slots so that every step adds E =
  steps − 1 edge outputs to slots j+1 … j+E; slots past the last node collect the outputs of
  the edges that node j does not have (its E − (steps − 1 − j) padded edges, weight 0), which
  nothing reads. `weights` (1, E, ops) and `edge_weights` (E,) are node j's (padded with 0).
  """

  op_names: tuple[str, ...]
  num_edges: int
  k: int
  reducing_skip: str
  train: bool

  @nn.compact
  def __call__(self, carry, step):
    sampled, bypassed = carry
    node, weights, edge_weights = step
    c = sampled.shape[-1]
    parts = (
      jax.lax.dynamic_index_in_dim(sampled, node, keepdims=False),
      jax.lax.dynamic_index_in_dim(bypassed, node, keepdims=False),
    )
    state = channel_shuffle(jnp.concatenate(parts, axis=-1), self.k)
    out = MixedEdges(self.op_names, self.num_edges, 1, self.reducing_skip, name="edges")(
      state[None, ..., :c], weights, self.train
    )[0]
    rest, E = state[..., c:], self.num_edges
    old_s = jax.lax.dynamic_slice_in_dim(sampled, node + 1, E)
    old_b = jax.lax.dynamic_slice_in_dim(bypassed, node + 1, E)
    w = edge_weights[:, None, None, None, None]
    new_s, new_b = old_s + w * out, old_b + w * rest[None]
    sampled = jax.lax.dynamic_update_slice_in_dim(sampled, new_s, node + 1, 0)
    bypassed = jax.lax.dynamic_update_slice_in_dim(bypassed, new_b, node + 1, 0)
    return (sampled, bypassed), state


class SearchCell(nn.Module):
  """A search cell: the edges from the two inputs in one `MixedEdges`, then the edges from the
  intermediate nodes 0 … steps−2 as a scan (`NodeEdges`) over stacked parameters, so the
  program holds one copy of a node's mixed edges whatever the number of nodes."""

  op_names: tuple[str, ...]
  channels: int
  reduction: bool
  reduction_prev: bool
  k: int
  steps: int = 4
  reducing_skip: str = "factorized_reduce"

  @nn.compact
  def __call__(self, s0, s1, weights, edge_weights, train):
    """weights (14, ops) and edge_weights (14,) of this cell's type."""
    C, k, steps = self.channels, self.k, self.steps
    if C % k:
      raise ValueError(f"channels {C} not divisible by the partial-channel divisor k={k}")
    c = C // k
    if self.reduction_prev:
      s0 = ops_lib.FactorizedReduce(C, affine=False, name="preprocess0")(s0, train)
    else:
      s0 = ReLUConvBN(C, name="preprocess0")(s0, train)
    s1 = ReLUConvBN(C, name="preprocess1")(s1, train)
    stride = 2 if self.reduction else 1

    def bypass(x):
      rest = x[..., c:]
      return max_pool_2x2(rest) if stride == 2 else rest

    # The edges of the inputs s0, s1 to every node.
    targets = list(range(steps))
    rows = jnp.asarray([[genotypes.edge_index(t, s) for t in targets] for s in (0, 1)])
    out = MixedEdges(self.op_names, steps, stride, self.reducing_skip, name="edges_in")(
      jnp.stack([s0[..., :c], s1[..., :c]]), weights[rows], train
    )
    rests = [bypass(s0), bypass(s1)]
    sampled, bypassed = [], []
    for t in targets:
      s_acc, b_acc = 0.0, 0.0
      for s in (0, 1):
        w = edge_weights[genotypes.edge_index(t, s)]
        s_acc, b_acc = s_acc + w * out[s, t], b_acc + w * rests[s]
      sampled.append(s_acc)
      bypassed.append(b_acc)
    if steps == 1:
      return channel_shuffle(jnp.concatenate([sampled[0], bypassed[0]], axis=-1), k)

    # The edges of nodes 0 … steps−2: node j feeds nodes j+1 … steps−1 (E = steps − 1 slots,
    # the ones past the last node padded with weight 0 into spare accumulator slots).
    E = steps - 1
    pad = [jnp.zeros_like(sampled[0])] * (E - 1), [jnp.zeros_like(bypassed[0])] * (E - 1)
    carry = jnp.stack(sampled + pad[0]), jnp.stack(bypassed + pad[1])
    table = [
      [
        genotypes.edge_index(node + 1 + e, node + 2) if node + 1 + e < steps else 0
        for e in range(E)
      ]
      for node in range(E)
    ]
    valid = jnp.asarray([[node + 1 + e < steps for e in range(E)] for node in range(E)])
    table = jnp.asarray(table)
    node_weights = jnp.where(valid[..., None], weights[table], 0.0)[:, None]  # (E, 1, E, ops)
    node_edge_weights = jnp.where(valid, edge_weights[table], 0.0)  # (E, E)
    scan = nn.scan(
      NodeEdges,
      variable_axes={"params": 0, "batch_stats": 0},
      split_rngs={"params": True},
      length=E,
    )
    carry, states = scan(self.op_names, E, k, self.reducing_skip, train, name="edges_nodes")(
      carry, (jnp.arange(E), node_weights, node_edge_weights)
    )
    last = channel_shuffle(jnp.concatenate([carry[0][steps - 1], carry[1][steps - 1]], -1), k)
    return jnp.concatenate([states[j] for j in range(E)] + [last], axis=-1)


class SearchNetwork(nn.Module):
  """The supernet (module docstring). Call: `(x, train, active=None, estimation=None,
  override_weights=None, override_mask=None) -> logits`.

  `stop_cell=i` returns the states (s0, s1) that cell i takes instead of the logits;
  `start_cell=i` takes such states as `x` and runs cells i, i+1, … and the classifier (the
  estimation reuses the cells an override does not change, `network_loss.override_errors`)."""

  op_names: tuple[str, ...]
  layout: str = "NNRNNR"
  channels: int = 16
  k: int = 8
  num_classes: int = 2
  stem_multiplier: int = 3
  steps: int = 4
  reducing_skip: str = "factorized_reduce"
  indicator_lambda: float = estimation.LAMBDA
  stem: str = "cifar"  # or 'imagenet' (module docstring)

  def operation_weights(self, alpha, active, estimation_scores):
    return estimation.indicator(alpha, estimation_scores, active, self.indicator_lambda)

  @nn.compact
  def __call__(
    self,
    x,
    train: bool = True,
    active=None,
    estimation_scores=None,
    override_weights=None,
    override_mask=None,
    *,
    start_cell: int = 0,
    stop_cell: int | None = None,
  ):
    edges, n_ops = genotypes.edges_per_cell(self.steps), len(self.op_names)
    init = lambda key, shape: 1e-3 * jax.random.normal(key, shape)
    alpha = self.variable("arch", "alpha", lambda: init(self.make_rng("params"), (2, edges, n_ops)))
    beta = self.variable("arch", "beta", lambda: init(self.make_rng("params"), (2, edges)))
    weights = self.operation_weights(alpha.value, active, estimation_scores)
    if override_weights is not None:
      weights = jnp.where(override_mask[..., None], override_weights, weights)
    edge_weights = jnp.stack(
      [estimation.node_edge_weights(beta.value[t], self.steps) for t in (NORMAL, REDUCE)]
    )

    if start_cell:
      s0, s1 = x
      reduction_prev = self.layout[start_cell - 1] == "R"
    elif self.stem == "cifar":
      stem_kernel = self.param(
        "stem_conv",
        conv.torch_default_init(27),
        (3, 3, x.shape[-1], self.stem_multiplier * self.channels),
      )
      s = conv.conv2d(x, stem_kernel)
      s = batch_norm.BatchNorm(True, name="stem_bn")(s, train)
      s0 = s1 = s
      reduction_prev = False
    elif self.stem == "imagenet":
      s0, s1, reduction_prev = ImageNetStem(self.channels, name="stem")(x, train)
    else:
      raise ValueError(f"unknown stem {self.stem!r}; known: {', '.join(STEMS)}")
    channels = self.channels * 2 ** self.layout[:start_cell].count("R")
    for index, kind in enumerate(self.layout):
      if index < start_cell:
        continue
      if index == stop_cell:
        return s0, s1
      reduction = kind == "R"
      if reduction:
        channels *= 2
      cell_type = REDUCE if reduction else NORMAL
      cell = SearchCell(
        self.op_names,
        channels,
        reduction,
        reduction_prev,
        self.k,
        self.steps,
        self.reducing_skip,
        name=f"cell{index}",
      )
      s0, s1 = s1, cell(s0, s1, weights[cell_type], edge_weights[cell_type], train)
      reduction_prev = reduction
    features = jnp.mean(s1, axis=(1, 2))
    return nn.Dense(self.num_classes, name="classifier")(features)
