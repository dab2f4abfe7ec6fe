"""The supernet as it was before the node scan (one `MixedEdges` module per source node).

Kept as the reference of `test_supernet_scan.py`: the scanned cell must give the same outputs,
gradients and estimation errors. Not used by the library.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.nas import estimation
from fakenas_jax.nas.mixed_edges import MixedEdges
from fakenas_jax.nas.network_loss import classification_loss
from fakenas_jax.nas.supernet import NORMAL, REDUCE, ReLUConvBN, channel_shuffle, max_pool_2x2
from fakenas_jax.nn import batch_norm, conv, genotypes
from fakenas_jax.nn import ops as ops_lib


class ReferenceCell(nn.Module):
  op_names: tuple[str, ...]
  channels: int
  reduction: bool
  reduction_prev: bool
  k: int
  steps: int = 4
  reducing_skip: str = "factorized_reduce"

  @nn.compact
  def __call__(self, s0, s1, weights, edge_weights, train):
    C, k = self.channels, self.k
    c = C // k
    if self.reduction_prev:
      s0 = ops_lib.FactorizedReduce(C, affine=False, name="preprocess0")(s0, train)
    else:
      s0 = ReLUConvBN(C, name="preprocess0")(s0, train)
    s1 = ReLUConvBN(C, name="preprocess1")(s1, train)
    stride = 2 if self.reduction else 1

    def bypass(x, x_stride):
      rest = x[..., c:]
      return max_pool_2x2(rest) if x_stride == 2 else rest

    sampled = [0.0] * self.steps
    bypassed = [0.0] * self.steps

    def add_edges(outputs, sources, targets, source_states, source_stride):
      for s, source in enumerate(sources):
        rest = bypass(source_states[s], source_stride)
        for e, target in enumerate(targets):
          row = genotypes.edge_index(target, source)
          sampled[target] = sampled[target] + edge_weights[row] * outputs[s, e]
          bypassed[target] = bypassed[target] + edge_weights[row] * rest

    def rows(sources, targets):
      return jnp.asarray([[genotypes.edge_index(t, s) for t in targets] for s in sources])

    inputs = jnp.stack([s0[..., :c], s1[..., :c]])
    targets = list(range(self.steps))
    out = MixedEdges(self.op_names, len(targets), stride, self.reducing_skip, name="edges_in")(
      inputs, weights[rows([0, 1], targets)], train
    )
    add_edges(out, [0, 1], targets, [s0, s1], stride)
    states = []
    for node in range(self.steps):
      state = channel_shuffle(jnp.concatenate([sampled[node], bypassed[node]], axis=-1), k)
      states.append(state)
      targets = list(range(node + 1, self.steps))
      if targets:
        out = MixedEdges(
          self.op_names, len(targets), 1, self.reducing_skip, name=f"edges_node{node}"
        )(state[None, ..., :c], weights[rows([node + 2], targets)], train)
        add_edges(out, [node + 2], targets, [state], 1)
    return jnp.concatenate(states, axis=-1)


class ReferenceNetwork(nn.Module):
  op_names: tuple[str, ...]
  layout: str = "NNRNNR"
  channels: int = 16
  k: int = 8
  num_classes: int = 2
  stem_multiplier: int = 3
  steps: int = 4
  reducing_skip: str = "factorized_reduce"
  indicator_lambda: float = estimation.LAMBDA

  @nn.compact
  def __call__(
    self,
    x,
    train: bool = True,
    active=None,
    estimation_scores=None,
    override_weights=None,
    override_mask=None,
  ):
    edges, n_ops = genotypes.edges_per_cell(self.steps), len(self.op_names)
    init = lambda key, shape: 1e-3 * jax.random.normal(key, shape)
    alpha = self.variable("arch", "alpha", lambda: init(self.make_rng("params"), (2, edges, n_ops)))
    beta = self.variable("arch", "beta", lambda: init(self.make_rng("params"), (2, edges)))
    weights = estimation.indicator(alpha.value, estimation_scores, active, self.indicator_lambda)
    if override_weights is not None:
      weights = jnp.where(override_mask[..., None], override_weights, weights)
    edge_weights = jnp.stack(
      [estimation.node_edge_weights(beta.value[t], self.steps) for t in (NORMAL, REDUCE)]
    )
    stem_kernel = self.param(
      "stem_conv",
      conv.torch_default_init(27),
      (3, 3, x.shape[-1], self.stem_multiplier * self.channels),
    )
    s = batch_norm.BatchNorm(True, name="stem_bn")(conv.conv2d(x, stem_kernel), train)
    s0 = s1 = s
    reduction_prev = False
    channels = self.channels
    for index, kind in enumerate(self.layout):
      reduction = kind == "R"
      if reduction:
        channels *= 2
      cell_type = REDUCE if reduction else NORMAL
      cell = ReferenceCell(
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


def reference_override_errors(network, variables, inputs, batch, *, chunk: int = 8):
  """The estimation errors as they were computed before: one full forward pass per override."""
  types, edges, n_ops = inputs.active.shape
  estimation_scores = jnp.where(inputs.use_estimation, inputs.estimation, 0.0)
  t, e, o = jnp.meshgrid(jnp.arange(types), jnp.arange(edges), jnp.arange(n_ops), indexing="ij")
  t, e, o = t.ravel(), e.ravel(), o.ravel()

  def one(index):
    mask = (jnp.arange(types)[:, None] == t[index]) & (jnp.arange(edges)[None, :] == e[index])
    weights = jnp.broadcast_to(jax.nn.one_hot(o[index], n_ops), (types, edges, n_ops))
    logits, _ = network.apply(
      variables,
      batch["image"],
      train=True,
      active=inputs.active,
      estimation_scores=estimation_scores,
      override_weights=weights,
      override_mask=mask,
      mutable=["batch_stats"],
    )
    return classification_loss(logits, batch["label"])[0]

  losses = jax.lax.map(one, jnp.arange(types * edges * n_ops), batch_size=chunk)
  return losses.reshape(types, edges, n_ops)
