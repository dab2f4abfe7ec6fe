"""Networks from genotypes: cells, drop path, DARTS' evaluation network, C2PN, ADD."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fakenas_jax.models import add_net, c2pn, cells, darts_eval
from fakenas_jax.nn import genotypes, registry


def _count(tree) -> int:
  return sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(tree))


def _init(model, x):
  return jax.jit(lambda key: model.init({"params": key}, x, train=False))(
    jax.random.key(0, impl="rbg")
  )


def _random_genotype(space: str, seed: int) -> genotypes.Genotype:
  """A genotype derived from random scores over a search space (every op may appear)."""
  ops = registry.SEARCH_SPACES[space]
  rng = np.random.default_rng(seed)
  shape = (genotypes.edges_per_cell(), len(ops))
  return genotypes.derive(rng.random(shape), rng.random(shape), ops)


def _all_finite(tree) -> bool:
  return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(tree))


# ---------------------------------------------------------------------------------------------
# Drop path and cells.


def test_drop_path_zeroes_whole_examples_and_rescales_the_rest():
  x = jnp.ones((4000, 2, 2, 3))
  out = np.asarray(cells.drop_path(x, 0.3, jax.random.key(0)))
  per_example = out.reshape(4000, -1)
  assert np.all((per_example == 0).all(1) | np.isclose(per_example, 1 / 0.7).all(1))
  dropped = (per_example == 0).all(1).mean()
  assert abs(dropped - 0.3) < 3 * np.sqrt(0.3 * 0.7 / 4000)
  # A traced rate (a schedule) gives the same masks as the constant.
  traced = jax.jit(cells.drop_path)(x, jnp.float32(0.3), jax.random.key(0))
  np.testing.assert_allclose(traced, out, rtol=1e-6)


@pytest.mark.parametrize("space", ["darts", "add", "fdnas"])
def test_cell_nodes_are_sums_of_the_genotype_operations(space):
  genotype = _random_genotype(space, seed=len(space))
  reducing_skip = registry.SPACE_REDUCING_SKIP[space]
  s0 = jax.random.normal(jax.random.key(0), (2, 8, 8, 6))
  s1 = jax.random.normal(jax.random.key(1), (2, 8, 8, 5))
  kinds = (
    (False, genotype.normal, genotype.normal_concat),
    (True, genotype.reduce, genotype.reduce_concat),
  )
  built = [
    cells.Cell(pairs, concat, 4, reduction, reducing_skip=reducing_skip)
    for reduction, pairs, concat in kinds
  ]

  @jax.jit
  def run(key):
    results = []
    for cell in built:
      variables = cell.init(key, s0, s1, False)
      out, state = cell.apply(
        variables, s0, s1, False, capture_intermediates=True, mutable=["intermediates"]
      )
      results.append((variables, out, state["intermediates"]))
    return results

  for (reduction, pairs, concat), (variables, out, captured) in zip(
    kinds, run(jax.random.key(2, impl="rbg"))
  ):
    op_out = [captured[f"op{k}"]["__call__"][0] for k in range(len(pairs))]
    nodes = [op_out[2 * i] + op_out[2 * i + 1] for i in range(len(pairs) // 2)]
    expected = jnp.concatenate([nodes[index - 2] for index in concat], axis=-1)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    size = 4 if reduction else 8
    assert out.shape == (2, size, size, 4 * len(concat))
    # Edges leaving the cell inputs of a reduction cell have stride 2; the others stride 1.
    for k, (name, source) in enumerate(pairs):
      assert op_out[k].shape[1] == (4 if reduction and source < 2 else size)
      if reduction and source < 2 and name == "skip_connect":
        has_params = f"op{k}" in variables["params"]
        assert has_params == (reducing_skip == "factorized_reduce")


def test_cell_input_sizes_must_agree():
  pairs, concat = genotypes.PUBLISHED["DARTS_V2"].normal, (2, 3, 4, 5)
  cell = cells.Cell(pairs, concat, 4, reduction=False, reduction_prev=False)
  with pytest.raises(ValueError, match="reduction_prev"):
    cell.init(jax.random.key(0), jnp.zeros((1, 8, 8, 4)), jnp.zeros((1, 4, 4, 4)), False)


def test_layout_strings():
  assert cells.parse_layout("NNR") == (False, False, True)
  assert darts_eval.darts_layout(8) == "NNRNNRNN"
  assert add_net.add_layout(3, 4) == "NNNNRNNNNRNNNN"
  assert c2pn.group_ends("NNRNNRNNRNNR") == (2, 5, 8, 11)
  assert c2pn.group_ends("NNRNN") == (2, 4)
  for bad in ("", "NXR", "nnr"):
    with pytest.raises(ValueError, match="'N' \\(normal\\) and 'R'"):
      cells.parse_layout(bad)


# ---------------------------------------------------------------------------------------------
# DARTS' evaluation network.


@pytest.mark.parametrize(
  "name, size, published", [("DARTS_V2", 3_349_342, 3.3e6), ("PC_DARTS", 3_634_678, 3.6e6)]
)
def test_darts_network_sizes_match_the_papers(name, size, published):
  """DARTS (3.3M) and PC-DARTS (3.6M) on CIFAR-10: C = 36, 20 cells, auxiliary head excluded."""
  model = darts_eval.DartsEvalNetwork(
    genotypes.load(name), num_classes=10, channels=36, layers=20, auxiliary=True
  )
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 32, 32, 3))))
  params = dict(variables["params"])
  auxiliary = params.pop("auxiliary_head")
  assert _count(params) == size
  assert abs(_count(params) - published) <= 0.05e6
  assert _count(auxiliary) > 0


def test_darts_imagenet_network_size():
  """DARTS on ImageNet (mobile setting): C = 48, 14 cells, 4.7M parameters without the aux head."""
  model = darts_eval.DartsEvalNetwork(
    genotypes.load("DARTS_V2"),
    num_classes=1000,
    channels=48,
    layers=14,
    auxiliary=True,
    stem="imagenet",
  )
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 224, 224, 3))))
  params = dict(variables["params"])
  params.pop("auxiliary_head")
  assert abs(_count(params) - 4.7e6) <= 0.05e6


def test_darts_network_trains_with_auxiliary_head_and_drop_path():
  model = darts_eval.DartsEvalNetwork(
    genotypes.load("DARTS_V2"),
    num_classes=3,
    channels=4,
    layers=3,
    auxiliary=True,
    drop_path_prob=0.5,
  )
  x = jax.random.normal(jax.random.key(0), (4, 32, 32, 3))
  variables = _init(model, x)  # initialised in evaluation mode, as a trainer does
  assert "auxiliary_head" in variables["params"]

  @jax.jit
  def run(params, key, rate):
    def loss(params):
      outputs, _ = model.apply(
        {**variables, "params": params},
        x,
        train=True,
        rngs={"dropout": key},
        mutable=["batch_stats"],
        drop_path_prob=rate,
      )
      return jnp.sum(outputs["logits"] ** 2) + jnp.sum(outputs["aux_logits"] ** 2), outputs

    grads, outputs = jax.grad(loss, has_aux=True)(params)
    # Evaluation: no rng, deterministic, no auxiliary output.
    evaluation = model.apply({**variables, "params": params}, x, train=False)
    return grads, outputs, evaluation

  grads, outputs, evaluation = run(variables["params"], jax.random.key(1), jnp.float32(0.5))
  assert outputs["logits"].shape == outputs["aux_logits"].shape == (4, 3)
  assert _all_finite(grads)
  _, other_masks, other_evaluation = run(variables["params"], jax.random.key(2), jnp.float32(0.5))
  assert not np.allclose(outputs["logits"], other_masks["logits"])
  _, no_drop_1, _ = run(variables["params"], jax.random.key(1), jnp.float32(0.0))
  _, no_drop_2, _ = run(variables["params"], jax.random.key(2), jnp.float32(0.0))
  np.testing.assert_allclose(no_drop_1["logits"], no_drop_2["logits"], rtol=1e-6)
  assert set(evaluation) == {"logits"}
  np.testing.assert_array_equal(evaluation["logits"], other_evaluation["logits"])


# ---------------------------------------------------------------------------------------------
# C2PN.


def _numpy_adaptive_pool(x, size):
  """PyTorch's AdaptiveAvgPool2d written out with loops."""
  batch, height, width, channels = x.shape
  out = np.empty((batch, *size, channels))
  for i in range(size[0]):
    for j in range(size[1]):
      rows = slice(i * height // size[0], -(-(i + 1) * height // size[0]))
      cols = slice(j * width // size[1], -(-(j + 1) * width // size[1]))
      out[:, i, j] = x[:, rows, cols].mean(axis=(1, 2))
  return out


@pytest.mark.parametrize(
  "shape, size", [((2, 8, 8, 3), (4, 4)), ((1, 9, 7, 2), (5, 4)), ((1, 5, 5, 1), (3, 3))]
)
def test_adaptive_avg_pool_matches_pytorch_definition(shape, size):
  x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
  np.testing.assert_allclose(
    c2pn.adaptive_avg_pool(jnp.asarray(x), size),
    _numpy_adaptive_pool(x, size),
    rtol=1e-5,
    atol=1e-6,
  )


def test_c2pn_fuses_the_pyramid_levels_by_the_cascade():
  """FD-NAS cells (CDC ops) in 'NRR' on an odd-sized input; logits from the laterals by hand."""
  genotype = _random_genotype("fdnas", seed=7)
  model = c2pn.C2PN(
    genotype,
    num_classes=2,
    channels=4,
    layout="NRR",
    fusion_channels=8,
    drop_path_prob=0.2,
    expose_features=True,
  )
  x = jax.random.normal(jax.random.key(0), (2, 10, 10, 3))

  @jax.jit
  def run(key):
    variables = model.init({"params": key}, x, train=False)
    outputs, state = model.apply(
      variables, x, train=False, capture_intermediates=True, mutable=["intermediates"]
    )

    def loss(params):
      out, _ = model.apply(
        {**variables, "params": params},
        x,
        train=True,
        rngs={"dropout": key},
        mutable=["batch_stats"],
      )
      return jnp.sum(out["logits"] ** 2)

    return variables, outputs, state["intermediates"], jax.grad(loss)(variables["params"])

  variables, outputs, captured, grads = run(jax.random.key(0, impl="rbg"))
  laterals = [
    np.asarray(captured[f"lateral{level}"]["__call__"][0], np.float64) for level in range(2)
  ]
  assert [lateral.shape[1] for lateral in laterals] == [5, 3]  # 10 → 5 → 3
  pyramid = laterals[1] + _numpy_adaptive_pool(laterals[0], (3, 3))
  dense = variables["params"]["classifier"]
  expected = pyramid.mean(axis=(1, 2)) @ np.asarray(dense["kernel"]) + np.asarray(dense["bias"])
  np.testing.assert_allclose(outputs["logits"], expected, rtol=1e-4, atol=1e-5)
  # Skips for decoders: the stem size, then every reduced size.
  assert [f.shape[1] for f in outputs["features"]] == [10, 5, 3]
  assert _all_finite(grads)


# ---------------------------------------------------------------------------------------------
# ADD.


def test_add_network_gates_features_by_the_region_map():
  genotype = _random_genotype("add", seed=3)
  model = add_net.ADDNetwork(
    genotype,
    num_classes=2,
    channels=4,
    blocks=2,
    cells_per_block=1,
    head_channels=8,
    hidden_units=8,
  )
  x = jax.random.normal(jax.random.key(0), (2, 16, 16, 3))

  def close_region(variables):
    """A region bias of −10⁴: the map is 0 everywhere."""
    return jax.tree_util.tree_map_with_path(
      lambda path, a: (
        a - 1e4
        if "region_head" in jax.tree_util.keystr(path) and "bias" in jax.tree_util.keystr(path)
        else a
      ),
      variables,
    )

  @jax.jit
  def run(key):
    variables = model.init({"params": key}, x, train=False)
    outputs, state = model.apply(
      variables, x, train=False, capture_intermediates=True, mutable=["intermediates"]
    )
    moved = model.apply(variables, 3 * x + 1)["logits"]
    closed = [model.apply(close_region(variables), image)["logits"] for image in (x, 3 * x + 1)]

    def loss(params):
      out, _ = model.apply(
        {**variables, "params": params},
        x,
        train=True,
        rngs={"dropout": key},
        mutable=["batch_stats"],
      )
      return jnp.sum(out["logits"] ** 2) + jnp.mean((out["region"] - 0.5) ** 2)

    small = state["intermediates"]["region_head"]["__call__"][0]
    return outputs, small, moved, closed, jax.grad(loss)(variables["params"])

  outputs, small, moved, closed, gradients = run(jax.random.key(0, impl="rbg"))
  assert outputs["logits"].shape == (2, 2)
  assert outputs["region"].shape == (2, 16, 16, 1)
  region = np.asarray(outputs["region"])
  assert region.min() >= 0.0 and region.max() <= 1.0
  # The region is the feature-size sigmoid map, bilinearly up-sampled to the input size.
  assert small.shape == (2, 8, 8, 1)
  np.testing.assert_allclose(region, jax.image.resize(small, (2, 16, 16, 1), "bilinear"), rtol=1e-6)
  # A region map of zeros hides the features: the logits no longer depend on the image.
  np.testing.assert_allclose(closed[0], closed[1], rtol=1e-6, atol=1e-6)
  assert not np.allclose(moved, outputs["logits"])
  assert _all_finite(gradients)
  assert float(jnp.abs(gradients["region_head"]["conv"]["kernel"]).max()) > 0
  plain = add_net.ADDNetwork(
    genotype,
    channels=4,
    blocks=2,
    cells_per_block=1,
    mask_head=False,
    head_channels=8,
    hidden_units=8,
  )
  assert set(jax.eval_shape(lambda: plain.init_with_output(jax.random.key(0), x)[0])) == {"logits"}
