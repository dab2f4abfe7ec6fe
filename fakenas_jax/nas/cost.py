"""What an architecture costs: parameters and multiply-accumulates (MACs), and the search penalty.

The papers' claims are about efficiency (FD-NAS §4: a lightweight search and network; PC-DARTS
for speech: far fewer parameters), so every genotype carries the size of the network built from
it, and the architecture step can pay for cost (the expected-cost regulariser of cost-aware
DARTS variants, as in NNI's FLOPs / parameter penalties):

* `module_cost(module, input_shape)` — parameters and MACs of one forward pass of one sample,
  from shapes only (`jax.eval_shape`, nothing is computed): every weight of two or more axes
  (a conv or dense kernel) costs its size in MACs times the spatial size of the output of the
  module that owns it (1 for a dense layer); BN scales and biases cost nothing.
* `operation_costs(config)` — (2, 14, ops) arrays of every candidate operation's parameters and
  MACs at its place in the network the search config describes (full channels, each cell's
  own width and resolution), summed over the cells of each type.
* `expected_cost(alpha, table, active)` and `with_penalty(config, loss_fn, inputs)` — the
  penalty λ_cost · Σ_{t,e} Σ_o softmax(α_{t,e})_o · cost_{t,e,o} (in millions of MACs or
  parameters, `config.cost.metric`) added to the supernet's loss, so only α feels it.
* `genotype_metadata(config, genotype)` — {'network': …, 'params': …, 'macs': …} of the network
  `config.network` names (e.g. C2PN) built from the genotype.
"""

from __future__ import annotations

import functools
import json
import pathlib
import tempfile
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from fakenas_jax.models import factory
from fakenas_jax.nn import genotypes, registry

METRICS = ("macs", "params")


def _owner_output(intermediates, path: tuple[str, ...]):
  node = intermediates
  for name in path:
    if not isinstance(node, Mapping) or name not in node:
      return None
    node = node[name]
  outputs = node.get("__call__") if isinstance(node, Mapping) else None
  if not outputs:
    return None
  out = outputs[0]
  return out[0] if isinstance(out, (tuple, list)) else out


def module_cost(module, input_shape, **call_kwargs) -> dict[str, int]:
  """{'params', 'macs'} of `module` on one input of shape `input_shape` (batch axis included;
  MACs are per sample)."""
  x = jax.ShapeDtypeStruct(tuple(input_shape), jnp.float32)

  def run(x):
    variables = module.init(jax.random.key(0), x, **call_kwargs)
    _, state = module.apply(
      variables,
      x,
      capture_intermediates=True,
      mutable=["intermediates", "batch_stats"],
      **call_kwargs,
    )
    return variables.get("params", {}), state["intermediates"]

  params, intermediates = jax.eval_shape(run, x)
  total_params, macs = 0, 0
  for key_path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
    names = tuple(str(getattr(k, "key", k)) for k in key_path)
    size = int(np.prod(leaf.shape))
    total_params += size
    if len(leaf.shape) < 2:
      continue
    out = _owner_output(intermediates, names[:-1])
    spatial = int(np.prod(out.shape[1:-1])) if out is not None and len(out.shape) == 4 else 1
    macs += size * spatial
  return {"params": total_params, "macs": int(macs)}


def cell_places(config) -> list[dict]:
  """Per cell of `config.layout`: {'reduction', 'channels', 'size'} (its input resolution)."""
  from fakenas_jax.nas import search  # the supernet a search builds

  network = search.build_network(config, 1)  # full channels: the derived network's widths
  if config.modality != "face":
    raise ValueError("operation costs are computed for face searches only")
  size = config.image_size
  x = jax.ShapeDtypeStruct((1, size, size, 3), jnp.float32)

  def run(x):
    variables = network.init(jax.random.key(0), x)
    _, state = network.apply(
      variables, x, capture_intermediates=True, mutable=["intermediates", "batch_stats"]
    )
    return state["intermediates"]

  intermediates = jax.eval_shape(run, x)
  places, channels = [], config.channels
  for index, kind in enumerate(config.layout):
    channels = channels * 2 if kind == "R" else channels
    out = _owner_output(intermediates, (f"cell{index}",))
    if out is None:
      raise ValueError(f"cannot read the output of cell{index} of the supernet")
    out_size = int(out.shape[1])
    places.append(
      {
        "reduction": kind == "R",
        "channels": channels,
        "size": out_size * 2 if kind == "R" else out_size,
      }
    )
  return places


@functools.lru_cache(maxsize=512)
def _op_cost(name: str, channels: int, stride: int, size: int, reducing_skip: str):
  op = registry.make_op(name, channels, stride, affine=True, reducing_skip=reducing_skip)
  return module_cost(op, (1, size, size, channels), train=False)


def operation_costs(config) -> dict[str, np.ndarray]:
  """{'params': (2, 14, ops), 'macs': (2, 14, ops)}: candidate o on edge e of every cell of
  type t (0 normal, 1 reduction), summed over those cells."""
  from fakenas_jax.nas import search

  op_names, reducing_skip = search.search_space(config)
  edges = genotypes.edges_per_cell()
  table = {metric: np.zeros((2, edges, len(op_names))) for metric in METRICS}
  for place in cell_places(config):
    t = 1 if place["reduction"] else 0
    for node in range(genotypes.STEPS):
      for source in range(2 + node):
        stride = 2 if place["reduction"] and source < 2 else 1
        # A reduction cell's own nodes are already at half its input's resolution.
        size = place["size"] // 2 if place["reduction"] and source >= 2 else place["size"]
        for o, name in enumerate(op_names):
          cost = _op_cost(name, place["channels"], stride, size, reducing_skip)
          for metric in METRICS:
            table[metric][t, genotypes.edge_index(node, source), o] += cost[metric]
  return table


def expected_cost(alpha: jax.Array, table: jax.Array, active: jax.Array | None = None):
  """E_α[cost] = Σ_{t,e,o} softmax(α_{t,e})_o · cost_{t,e,o}, over the surviving operations."""
  if active is not None:
    alpha = jnp.where(active, alpha, -jnp.inf)
  return jnp.sum(jnp.where(jnp.isfinite(alpha), jax.nn.softmax(alpha, -1), 0.0) * table)


@functools.lru_cache(maxsize=8)
def _table_for(config_json: str, metric: str) -> np.ndarray:
  import ml_collections

  config = ml_collections.ConfigDict(json.loads(config_json))
  return operation_costs(config)[metric] / 1e6


def with_penalty(config, loss_fn, inputs):
  """`loss_fn` plus λ_cost · E_α[cost] (millions of `config.cost.metric`); `loss_fn` itself
  when `config.cost.penalty` is 0 or absent. The supernet's weights do not see the penalty."""
  settings = config.get("cost")
  penalty = float(settings.get("penalty", 0.0)) if settings is not None else 0.0
  if not penalty:
    return loss_fn
  metric = settings.get("metric", "macs")
  if metric not in METRICS:
    raise ValueError(f"config.cost.metric must be one of {', '.join(METRICS)}, got {metric!r}")
  table = jnp.asarray(_table_for(config.to_json_best_effort(), metric), jnp.float32)

  def penalised(params, arch, batch_stats, batch, rng):
    loss, (updates, metrics) = loss_fn(params, arch, batch_stats, batch, rng)
    expected = expected_cost(arch["alpha"], table, inputs.active)
    return loss + penalty * expected, (updates, {**metrics, f"expected_m{metric}": expected})

  return penalised


def network_cost(
  model_config: dict, genotype: genotypes.Genotype, image_size: int, search_space: str = ""
) -> dict[str, int]:
  """{'params', 'macs'} of the network `model_config` describes, built from `genotype`."""
  with tempfile.TemporaryDirectory() as directory:
    path = pathlib.Path(directory) / "genotype.json"
    genotypes.save(genotype, path, **({"search_space": search_space} if search_space else {}))
    model = factory.build_model({**model_config, "genotype": str(path)})
    return module_cost(model, (1, image_size, image_size, 3), train=False)


def genotype_metadata(config, genotype: genotypes.Genotype) -> dict:
  """{'network': {...}, 'params', 'macs'} when `config.network.name` names a network."""
  network = config.get("network")
  if network is None or not network.get("name"):
    return {}
  network = dict(network.to_dict())
  image_size = int(network.pop("image_size", config.image_size))
  cost = network_cost(network, genotype, image_size, config.get("space", ""))
  return {"network": {**network, "image_size": image_size}, **cost}
