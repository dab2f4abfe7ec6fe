"""Parameters and MACs of operations and of a genotype's network against hand counts; the
expected-cost penalty."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs.search import default
from fakenas_jax.nas import cost
from fakenas_jax.nn import genotypes, registry


def test_operation_costs_by_hand():
  # SepCDC 3×3, C = 8, 16×16: two halves of depthwise 3·3·8 + pointwise 8·8 (+ BN 2·8).
  half = 3 * 3 * 8 + 8 * 8
  assert cost.module_cost(
    registry.make_op("SepCDC_3x3_0.7", 8, 1, affine=True), (1, 16, 16, 8), train=False
  ) == {"params": 2 * (half + 16), "macs": 2 * half * 16 * 16}
  # Strided: both halves run at 8×8.
  assert (
    cost.module_cost(
      registry.make_op("SepCDC_3x3_0.7", 8, 2, affine=True), (1, 16, 16, 8), train=False
    )["macs"]
    == 2 * half * 8 * 8
  )
  # FactorizedReduce: two 1×1 convs C → C/2 at half resolution.
  assert cost.module_cost(
    registry.make_op("skip_connect", 16, 2, affine=True), (1, 16, 16, 16), train=False
  ) == {"params": 2 * 16 * 8 + 2 * 16, "macs": 2 * 16 * 8 * 8 * 8}
  for name in ("max_pool_3x3", "skip_connect", "none"):
    assert cost.module_cost(
      registry.make_op(name, 8, 1, affine=True), (1, 16, 16, 8), train=False
    ) == {"params": 0, "macs": 0}


def _all_pools(first=("max_pool_3x3", 0)):
  pairs = tuple((("max_pool_3x3", s) for node in range(4) for s in (0, 1)))
  pairs = (first,) + pairs[1:]
  return genotypes.Genotype(pairs, (2, 3, 4, 5), pairs, (2, 3, 4, 5))


def test_a_genotypes_network_against_a_hand_count():
  # C2PN, one normal cell, C = 8, 16×16, every operation a pool: stem 3×3 conv 3 → 24 + BN,
  # two 1×1 preprocessing convs 24 → 8 + BN, lateral 1×1 conv 32 → 128 + BN, dense 128 → 2.
  model = {"name": "c2pn", "channels": 8, "layout": "N"}
  params = (27 * 24 + 48) + 2 * (24 * 8 + 16) + (32 * 128 + 256) + (128 * 2 + 2)
  macs = (27 * 24 + 2 * 24 * 8 + 32 * 128) * 16 * 16 + 128 * 2
  assert cost.network_cost(model, _all_pools(), 16, "fdnas") == {"params": params, "macs": macs}
  # One pool replaced by a SepCDC adds exactly that operation's cost.
  sep = cost.network_cost(model, _all_pools(("SepCDC_3x3_0.0", 0)), 16, "fdnas")
  assert sep == {
    "params": params + 2 * (3 * 3 * 8 + 64 + 16),
    "macs": macs + 2 * (3 * 3 * 8 + 64) * 256,
  }
  # The count agrees with the parameters of the real network's initialisation.
  import pathlib
  import tempfile

  from fakenas_jax.models import factory

  with tempfile.TemporaryDirectory() as d:
    path = pathlib.Path(d) / "g.json"
    genotypes.save(_all_pools(("SepCDC_3x3_0.0", 0)), path, search_space="fdnas")
    net = factory.build_model({**model, "genotype": str(path)})
    variables = net.init(jax.random.key(0), jnp.zeros((1, 16, 16, 3)), train=False)
  assert sum(np.size(x) for x in jax.tree.leaves(variables["params"])) == sep["params"]


def _search_config():
  config = default.get_config()
  config.ops = ("none", "max_pool_3x3", "skip_connect", "SepCDC_3x3_0.0")
  config.layout, config.channels, config.image_size = "NNR", 8, 16
  return config


def test_operation_costs_sum_over_the_cells_of_each_type():
  table = cost.operation_costs(_search_config())
  half = 3 * 3 * 8 + 64
  # Normal cells: two of them, C = 8 at 16×16.
  assert table["macs"][0, :, 3] == pytest.approx(np.full(14, 2 * 2 * half * 256))
  assert table["params"][0, :, 3] == pytest.approx(np.full(14, 2 * 2 * (half + 16)))
  # Reduction cell: C = 16 at 16×16 in; edges from the cell inputs are strided.
  half16 = 3 * 3 * 16 + 256
  strided = [genotypes.edge_index(n, s) for n in range(4) for s in (0, 1)]
  assert table["macs"][1, strided, 3] == pytest.approx(np.full(8, 2 * half16 * 64))
  assert table["macs"][1, genotypes.edge_index(3, 4), 3] == pytest.approx(2 * half16 * 64)
  assert table["macs"][:, :, :2].sum() == 0  # none and the pool cost nothing


def test_expected_cost_penalty_and_its_gradient():
  rng = np.random.default_rng(0)
  alpha = jnp.asarray(rng.normal(size=(2, 14, 4)), jnp.float32)
  table = jnp.asarray(rng.uniform(0, 3, size=(2, 14, 4)), jnp.float32)
  active = jnp.ones((2, 14, 4), bool).at[0, 0, 3].set(False)
  p = np.exp(np.asarray(alpha)) * np.asarray(active)
  p /= p.sum(-1, keepdims=True)
  assert float(cost.expected_cost(alpha, table, active)) == pytest.approx(
    float((p * np.asarray(table)).sum()), rel=1e-5
  )
  grad = jax.grad(cost.expected_cost)(alpha, table)
  assert float(jnp.sum(grad[0, 1] * (table[0, 1] - table[0, 1].mean()))) > 0  # costly ops pushed


def test_genotype_metadata_names_the_network_only_when_configured():
  config = _search_config()
  config.network.name = ""
  assert cost.genotype_metadata(config, _all_pools()) == {}
  config.network.update(dict(name="c2pn", channels=8, layout="N", image_size=16))
  meta = cost.genotype_metadata(config, _all_pools())
  assert meta["network"]["name"] == "c2pn" and meta["params"] == 5722 and meta["macs"] > 0
