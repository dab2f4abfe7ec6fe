"""The scanned supernet against the one-module-per-node reference (tests/reference_supernet.py):
same logits, batch statistics, gradients (params and arch), estimation errors and genotype."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import reference_supernet

from fakenas_jax.nas import estimation, network_loss, search, supernet
from fakenas_jax.nn import genotypes

OPS = ("none", "max_pool_3x3", "skip_connect", "SepCDC_3x3_0.0", "SepCDC_3x3_0.7", "DilCDC_3x3_0.5")
# A reduction cell, then a normal cell after it (FactorizedReduce preprocessing).
KW = dict(layout="RN", channels=8, k=2, num_classes=2)


def to_scanned(old, fresh):
  """The reference's variables in the scanned layout: `edges_node{j}` of a cell becomes row j
  of `edges_nodes/edges`, its edge axis padded (the padding keeps `fresh`'s values)."""
  out = {}
  for name, value in fresh.items():
    if not name.startswith("cell"):
      out[name] = old[name]
      continue
    cell = {key: old[name][key] for key in value if key != "edges_nodes"}
    if "edges_nodes" in value:
      stacked = value["edges_nodes"]["edges"]
      rows = [
        jax.tree.map(
          lambda o, f, j=j: search.grow_like(o, f[j]), old[name][f"edges_node{j}"], stacked
        )
        for j in range(3)
      ]
      cell["edges_nodes"] = {"edges": jax.tree.map(lambda *r: np.stack(r), *rows)}
    out[name] = cell
  return out


def to_reference(new, old_like):
  """The inverse of `to_scanned`: row j of `edges_nodes/edges`, cut to node j's edges."""
  out = {}
  for name, value in old_like.items():
    if not name.startswith("cell"):
      out[name] = new[name]
      continue
    cell = {key: new[name][key] for key in value if not key.startswith("edges_node")}
    for j in range(3):
      cell[f"edges_node{j}"] = jax.tree.map(
        lambda n, o, j=j: np.asarray(n[j])[tuple(slice(0, s) for s in o.shape)],
        new[name]["edges_nodes"]["edges"],
        value[f"edges_node{j}"],
      )
    out[name] = cell
  return out


@functools.lru_cache(maxsize=None)
def _pair():
  new_net = supernet.SearchNetwork(OPS, **KW)
  ref_net = reference_supernet.ReferenceNetwork(OPS, **KW)
  x = jax.random.normal(jax.random.key(0), (4, 8, 8, 3))
  ref = jax.jit(lambda key: ref_net.init(key, x))(jax.random.key(1, impl="rbg"))
  fresh = jax.jit(lambda key: new_net.init(key, x))(jax.random.key(2, impl="rbg"))
  # Non-trivial architecture and running statistics, so that mixing and β matter.
  arch = jax.tree.map(lambda a: jax.random.normal(jax.random.key(3), a.shape), ref["arch"])
  ref = {
    **ref,
    "arch": arch,
    "batch_stats": jax.tree.map(
      lambda v: v + 0.1 * jax.random.uniform(jax.random.key(4), v.shape), ref["batch_stats"]
    ),
  }
  new = {
    "params": to_scanned(ref["params"], fresh["params"]),
    "arch": arch,
    "batch_stats": to_scanned(ref["batch_stats"], fresh["batch_stats"]),
  }
  return new_net, ref_net, x, new, ref


def _close(a, b, tol=2e-5):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)
  assert jax.tree.structure(a) == jax.tree.structure(b)


def test_same_logits_and_batch_statistics():
  new_net, ref_net, x, new, ref = _pair()
  for train in (True, False):
    out_new, st_new = jax.jit(lambda v: new_net.apply(v, x, train, mutable=["batch_stats"]))(new)
    out_ref, st_ref = jax.jit(lambda v: ref_net.apply(v, x, train, mutable=["batch_stats"]))(ref)
    _close(out_new, out_ref)
    _close(to_reference(st_new["batch_stats"], ref["batch_stats"]), st_ref["batch_stats"])


def test_same_gradients_of_params_and_arch():
  new_net, ref_net, x, new, ref = _pair()
  labels = jnp.array([0, 1, 1, 0])
  active = jnp.ones((2, 14, len(OPS)), bool).at[0, 5, 2].set(False)
  scores = jax.random.uniform(jax.random.key(5), (2, 14, len(OPS)))

  def grads(net, v):
    def loss(params, arch):
      logits, _ = net.apply(
        {**v, "params": params, "arch": arch},
        x,
        True,
        active=active,
        estimation_scores=scores,
        mutable=["batch_stats"],
      )
      return network_loss.classification_loss(logits, labels)[0]

    return jax.jit(jax.grad(loss, argnums=(0, 1)))(v["params"], v["arch"])

  (p_new, a_new), (p_ref, a_ref) = grads(new_net, new), grads(ref_net, ref)
  _close(a_new, a_ref)
  _close(to_reference(p_new, ref["params"]), p_ref)
  assert np.abs(np.asarray(a_ref["beta"])).sum() > 0
  # The padded edges of the node scan get no gradient.
  cell = p_new["cell0"]["edges_nodes"]["edges"]["sep_conv_3x3_d1"]["pw1"]  # (3, S, E, M, c, c)
  assert not np.asarray(cell[2, :, 1:]).any() and np.asarray(cell[2, :, 0]).any()


def test_same_estimation_errors_and_genotype():
  """The estimation (prefix reused, pruned pairs skipped) against one forward pass per override.

  In the layout 'RN' the reduction overrides start at the stem and the normal ones from the
  states after cell 0; pruned (edge, operation) pairs are NaN and get E = 0 (Eq. 4)."""
  new_net, ref_net, x, new, ref = _pair()
  active = np.ones((2, 14, len(OPS)), bool)
  active[:, :, [1, 4]] = False  # pruned everywhere: whole chunks of pruned pairs are skipped
  active[1, 3, 2] = False
  inputs = network_loss.SearchInputs(
    active=jnp.asarray(active),
    use_estimation=jnp.asarray(True),
    estimation=jax.random.uniform(jax.random.key(6), (2, 14, len(OPS))) * active,
  )
  batch = {"image": x, "label": jnp.array([0, 1, 1, 0])}
  got = jax.jit(lambda v: network_loss.override_errors(new_net, v, inputs, batch, chunk=4))(new)
  want = jax.jit(lambda v: reference_supernet.reference_override_errors(ref_net, v, inputs, batch))(
    ref
  )
  got, want = np.asarray(got), np.asarray(want)
  assert np.isnan(got[~active]).all() and np.isfinite(got[active]).all()
  np.testing.assert_allclose(got[active], want[active], rtol=1e-5, atol=1e-5)
  assert np.ptp(got[active]) > 1e-3  # the overrides do change the loss
  held_out = want * 0.9 + 0.01 * np.random.default_rng(0).normal(size=want.shape)
  genotype = []
  for errors in (got, want):
    scores = estimation.estimation_scores(
      errors[..., None], held_out[..., None], jnp.asarray(active)
    )
    assert np.isfinite(np.asarray(scores)).all()
    h = [
      estimation.importance(
        new["arch"]["alpha"][t], new["arch"]["beta"][t], scores[t], jnp.asarray(active[t])
      )
      for t in (0, 1)
    ]
    genotype.append(genotypes.derive(np.asarray(h[0]), np.asarray(h[1]), OPS))
  assert genotype[0] == genotype[1]
