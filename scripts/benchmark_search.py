r"""End-to-end benchmark of the search supernet's bilevel steps on this machine.

    python scripts/benchmark_search.py                           # the default FD-NAS supernet
    python scripts/benchmark_search.py --layout=NR --steps=5     # a small net, quick
    python scripts/benchmark_search.py --noprune                 # skip the pruning-step row
    python scripts/benchmark_search.py --noprune --profile       # + where the steps' time goes

Builds the supernet exactly as ``fakenas_jax/nas/search.py`` does (``SearchNetwork`` with the
space's operations and reducing skip, rbg initialisation, ``network_loss.make_loss_fn``,
``bilevel.weight_step`` / first-order ``bilevel.arch_step`` with the default optimisers: Adam on
the weights as in ``configs/search/default.py``) and measures, on random data:

* ``first_step_s`` — time to the first weight step: trace/lower + compile + first run, with
  the three parts reported apart (``lower_s``, ``compile_s``, ``first_run_s``);
* ``hlo_ops`` — StableHLO operations in the lowered weight step (a proxy of compile cost);
* ``weight_img_s`` / ``arch_img_s`` — steady images per second of the weight step and of the
  architecture step (from the median of ``--steps`` timed steps after one warm-up);
* ``peak_rss_mib`` — peak resident memory of the process;
* ``estimation_s`` (``--estimation``) — the estimation errors of one batch
  (``network_loss.override_errors``, every (cell type, edge, operation) override; ``--pruned``
  operations pruned from every edge), steady, and ``estimation_compile_s``; also as a multiple
  of the weight step (``estimation_weight_steps``);
* ``weight_profile`` / ``arch_profile`` (``--profile``) — a profiler trace of the steady steps
  summed per HLO instruction, by kind, Flax module and pass (``fakenas_jax/profiling.py``);
* ``prune_s`` — cost of a pruning step: rebuild with k/2 and initialise it, ``search.grow_like``,
  and compile + first run of the new weight step.

Prints a table and writes the figures as JSON under ``--out`` (default ``runs/benchmark_search``).
The persistent compilation cache is not used, so compile times are real. On a shared machine,
compare runs taken under similar load (the load average is recorded).
"""

from __future__ import annotations

import json
import os
import pathlib
import resource
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from fakenas_jax import profiling
from fakenas_jax.nas import bilevel, network_loss, optimizers
from fakenas_jax.nas import search as search_lib
from fakenas_jax.nas.supernet import SearchNetwork
from fakenas_jax.nn import genotypes, registry

_LAYOUT = flags.DEFINE_string("layout", "NNRNNR", "Cells: 'N' normal, 'R' reduction.")
_K = flags.DEFINE_integer("k", 8, "Partial-channel divisor.")
_BATCH = flags.DEFINE_integer("batch", 32, "Batch size.")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", 32, "Input height and width.")
_SPACE = flags.DEFINE_string("space", "fdnas", "Search space (registry.SEARCH_SPACES).")
_CHANNELS = flags.DEFINE_integer("channels", 16, "Initial channels C.")
_STEPS = flags.DEFINE_integer("steps", 10, "Timed steady steps per step kind.")
_PRUNE = flags.DEFINE_boolean("prune", True, "Also time a pruning step (k → k/2).")
_ARCH = flags.DEFINE_boolean("arch", True, "Also time the architecture step.")
_ESTIMATION = flags.DEFINE_boolean(
  "estimation", False, "Also time the estimation errors of one batch (Eq. 4)."
)
_CHUNK = flags.DEFINE_integer("estimation_chunk", 8, "Overrides vmapped together (estimation).")
_PRUNED = flags.DEFINE_integer("pruned", 0, "Operations pruned from every edge (estimation).")
_PROFILE = flags.DEFINE_boolean(
  "profile", False, "Also trace the steady steps and print where their time goes."
)
_OUT = flags.DEFINE_string("out", "runs/benchmark_search", "Directory of the JSON results.")
_TAG = flags.DEFINE_string("tag", "", "Free text stored with the results.")


def _peak_rss_mib() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _count_hlo_ops(text: str) -> int:
  """Operations in a StableHLO module's text (lines that assign or return an op result)."""
  count = 0
  for line in text.splitlines():
    line = line.strip()
    if " = " in line and ("stablehlo." in line or "chlo." in line or "func.call" in line):
      count += 1
  return count


def _build(op_names, reducing_skip, k):
  network = SearchNetwork(
    op_names,
    layout=_LAYOUT.value,
    channels=_CHANNELS.value,
    k=k,
    num_classes=2,
    stem_multiplier=3,
    reducing_skip=reducing_skip,
    indicator_lambda=0.15,
  )
  x = jnp.zeros((_BATCH.value, _IMAGE_SIZE.value, _IMAGE_SIZE.value, 3))
  return network, x


def _fresh_state(network, x, weight_tx, arch_tx, seed):
  variables = jax.jit(lambda key: network.init(key, x))(jax.random.key(seed, impl="rbg"))
  return bilevel.init_state(
    variables["params"], variables["arch"], variables["batch_stats"], weight_tx, arch_tx
  )


def _steps(network, weight_tx, arch_tx):
  def weight_step(state, batch, rng, inputs):
    loss_fn = network_loss.make_loss_fn(network, inputs)
    return bilevel.weight_step(state, batch, rng, loss_fn=loss_fn, weight_tx=weight_tx)

  def arch_step(state, batch, rng, inputs):
    loss_fn = network_loss.make_loss_fn(network, inputs)
    return bilevel.arch_step(state, batch, rng, loss_fn=loss_fn, arch_tx=arch_tx)

  return jax.jit(weight_step), jax.jit(arch_step)


def _first_step(fn, *args):
  """(lower s, compile s, first run s, HLO ops, compiled fn, output) of a jitted function."""
  start = time.perf_counter()
  lowered = fn.lower(*args)
  lowered_at = time.perf_counter()
  hlo_ops = _count_hlo_ops(lowered.as_text())
  counted_at = time.perf_counter()
  compiled = lowered.compile()
  compiled_at = time.perf_counter()
  out = compiled(*args)
  jax.block_until_ready(out)
  done = time.perf_counter()
  return (lowered_at - start, compiled_at - counted_at, done - compiled_at, hlo_ops, compiled, out)


def _steady(compiled, state, args, steps, threads_state):
  """Median seconds of one step; `threads_state` feeds each step's state to the next."""
  times = []
  for _ in range(steps):
    start = time.perf_counter()
    out = compiled(state, *args)
    jax.block_until_ready(out)
    times.append(time.perf_counter() - start)
    if threads_state:
      state = out[0]
  return statistics.median(times), min(times)


def _profile(kind, compiled, args):
  """Where one step of `compiled` spends its time (fakenas_jax/profiling.py), printed."""
  figures = profiling.breakdown(
    compiled, args, steps=3, trace_dir=pathlib.Path(_OUT.value) / f"trace_{kind}"
  )
  print(f"{kind} step — " + profiling.format_breakdown(figures), flush=True)
  return figures


def main(argv):
  del argv
  op_names = registry.SEARCH_SPACES[_SPACE.value]
  reducing_skip = registry.SPACE_REDUCING_SKIP[_SPACE.value]
  opt_config = optimizers.OptimizerConfig(
    weights="adam", learning_rate=3e-3, learning_rate_min=3e-4
  )
  weight_tx, arch_tx = optimizers.bilevel_optimizers(opt_config, 1000)
  edges, n_ops = genotypes.edges_per_cell(), len(op_names)
  inputs = network_loss.SearchInputs(
    active=jnp.ones((2, edges, n_ops), bool),
    estimation=jnp.zeros((2, edges, n_ops)),
    use_estimation=jnp.asarray(False),
  )
  rng = np.random.default_rng(0)
  batch = {
    "image": jnp.asarray(
      rng.normal(size=(_BATCH.value, _IMAGE_SIZE.value, _IMAGE_SIZE.value, 3)), jnp.float32
    ),
    "label": jnp.asarray(rng.integers(0, 2, _BATCH.value), jnp.int32),
  }
  key = jax.random.key(1)
  result = {
    "layout": _LAYOUT.value,
    "k": _K.value,
    "batch": _BATCH.value,
    "image_size": _IMAGE_SIZE.value,
    "space": _SPACE.value,
    "channels": _CHANNELS.value,
    "steps": _STEPS.value,
    "backend": jax.default_backend(),
    "jax": jax.__version__,
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
    "tag": _TAG.value,
    "load_avg_start": os.getloadavg()[0],
  }

  start = time.perf_counter()
  network, x = _build(op_names, reducing_skip, _K.value)
  state = _fresh_state(network, x, weight_tx, arch_tx, 0)
  jax.block_until_ready(state)
  result["init_s"] = time.perf_counter() - start
  weight_step, arch_step = _steps(network, weight_tx, arch_tx)

  lower_s, compile_s, run_s, hlo_ops, weight_compiled, _ = _first_step(
    weight_step, state, batch, key, inputs
  )
  result.update(
    lower_s=lower_s,
    compile_s=compile_s,
    first_run_s=run_s,
    first_step_s=lower_s + compile_s + run_s,
    hlo_ops=hlo_ops,
  )
  median, best = _steady(weight_compiled, state, (batch, key, inputs), _STEPS.value, True)
  result.update(
    weight_step_ms=1e3 * median,
    weight_img_s=_BATCH.value / median,
    weight_img_s_best=_BATCH.value / best,
  )
  if _PROFILE.value:
    result["weight_profile"] = _profile("weight", weight_compiled, (state, batch, key, inputs))

  if _ARCH.value:
    a_lower, a_compile, a_run, a_ops, arch_compiled, _ = _first_step(
      arch_step, state, batch, key, inputs
    )
    result.update(arch_first_step_s=a_lower + a_compile + a_run, arch_hlo_ops=a_ops)
    median, best = _steady(arch_compiled, state, (batch, key, inputs), _STEPS.value, True)
    result.update(
      arch_step_ms=1e3 * median,
      arch_img_s=_BATCH.value / median,
      arch_img_s_best=_BATCH.value / best,
    )
    if _PROFILE.value:
      result["arch_profile"] = _profile("arch", arch_compiled, (state, batch, key, inputs))

  if _ESTIMATION.value:
    active = np.ones((2, edges, n_ops), bool)
    prunable = [i for i, name in enumerate(op_names) if name != "none"]
    active[:, :, prunable[len(prunable) - _PRUNED.value :]] = False  # never 'none'
    est_inputs = inputs.replace(active=jnp.asarray(active))

    @jax.jit
    def errors(state, batch, inputs):
      variables = {"params": state.params, "arch": state.arch, "batch_stats": state.model_state}
      return network_loss.override_errors(network, variables, inputs, batch, chunk=_CHUNK.value)

    start = time.perf_counter()
    compiled = errors.lower(state, batch, est_inputs).compile()
    result["estimation_compile_s"] = time.perf_counter() - start
    jax.block_until_ready(compiled(state, batch, est_inputs))
    start = time.perf_counter()
    jax.block_until_ready(compiled(state, batch, est_inputs))
    result["estimation_s"] = time.perf_counter() - start
    result["estimation_weight_steps"] = result["estimation_s"] / (result["weight_step_ms"] / 1e3)

  if _PRUNE.value and _K.value >= 2 and (_CHANNELS.value % (_K.value // 2) == 0):
    start = time.perf_counter()
    small_network, x = _build(op_names, reducing_skip, _K.value // 2)
    fresh = _fresh_state(small_network, x, weight_tx, arch_tx, 1)
    grown = search_lib.grow_like(jax.device_get(state), jax.device_get(fresh))
    grown = jax.device_put(grown)
    small_weight_step, _ = _steps(small_network, weight_tx, arch_tx)
    small_weight_step(grown, batch, key, inputs)[1]["loss"].block_until_ready()
    result["prune_s"] = time.perf_counter() - start

  result["peak_rss_mib"] = _peak_rss_mib()
  result["load_avg_end"] = os.getloadavg()[0]

  rows = [
    ("time to first weight step (s)", "first_step_s"),
    ("  lower (s)", "lower_s"),
    ("  compile (s)", "compile_s"),
    ("  first run (s)", "first_run_s"),
    ("init (s)", "init_s"),
    ("HLO ops (weight step)", "hlo_ops"),
    ("weight step img/s", "weight_img_s"),
    ("weight step ms", "weight_step_ms"),
    ("arch first step (s)", "arch_first_step_s"),
    ("arch step img/s", "arch_img_s"),
    ("estimation compile (s)", "estimation_compile_s"),
    ("estimation of a batch (s)", "estimation_s"),
    ("  in weight steps", "estimation_weight_steps"),
    ("pruning step (s)", "prune_s"),
    ("peak RSS (MiB)", "peak_rss_mib"),
    ("load average (start, end)", None),
  ]
  print(
    f"supernet {_SPACE.value} {_LAYOUT.value} C={_CHANNELS.value} k={_K.value} "
    f"batch={_BATCH.value} {_IMAGE_SIZE.value}x{_IMAGE_SIZE.value} on {result['backend']}"
  )
  for label, name in rows:
    if name is None:
      value = f"{result['load_avg_start']:.2f}, {result['load_avg_end']:.2f}"
    elif name not in result:
      continue
    else:
      value = result[name]
      value = f"{value:.2f}" if isinstance(value, float) else str(value)
    print(f"{label:<30} {value:>12}")

  out = pathlib.Path(_OUT.value)
  out.mkdir(parents=True, exist_ok=True)
  path = out / f"{time.strftime('%Y%m%d-%H%M%S')}_{_LAYOUT.value}_k{_K.value}.json"
  path.write_text(json.dumps(result, indent=2))
  print(f"wrote {path}")


if __name__ == "__main__":
  app.run(main)
