r"""How the compiled search program grows with the network: StableHLO ops and compile time.

    python scripts/benchmark_compile.py                          # NR, NNR, NNRNNR, NNRNNRNNR
    python scripts/benchmark_compile.py --layouts=NR,NNRNNR --step=arch

For each layout builds the supernet as ``scripts/benchmark_search.py`` does (default FD-NAS
space, C = 16, k = 8, batch 32, 32×32), lowers the weight step (or the first-order architecture
step, ``--step=arch``) and reports the StableHLO operations of the lowered module (lines that
assign an op result, `benchmark_search._count_hlo_ops`), the lowering time and XLA's compile
time. The persistent compilation cache is off, so compile times are real. Writes JSON under
``--out``/compile (``--out``, ``--space``, ``--k``, ``--channels``, ``--batch`` and
``--image_size`` are ``benchmark_search``'s flags).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import benchmark_search  # noqa: E402  (the op counter and the step builders)

from fakenas_jax.nas import network_loss, optimizers  # noqa: E402
from fakenas_jax.nas.supernet import SearchNetwork  # noqa: E402
from fakenas_jax.nn import genotypes, registry  # noqa: E402

_LAYOUTS = flags.DEFINE_list("layouts", ["NR", "NNR", "NNRNNR", "NNRNNRNNR"], "Layouts to compile.")
_STEP = flags.DEFINE_enum("step", "weight", ["weight", "arch"], "Which step to compile.")
_COMPILE = flags.DEFINE_boolean("compile", True, "Also compile (not only lower and count).")
# --space, --k, --batch, --image_size, --channels and --out are benchmark_search's flags.
_SPACE, _K, _BATCH = benchmark_search._SPACE, benchmark_search._K, benchmark_search._BATCH
_IMAGE_SIZE, _CHANNELS = benchmark_search._IMAGE_SIZE, benchmark_search._CHANNELS


def measure(layout: str) -> dict:
  op_names = registry.SEARCH_SPACES[_SPACE.value]
  network = SearchNetwork(
    op_names,
    layout=layout,
    channels=_CHANNELS.value,
    k=_K.value,
    reducing_skip=registry.SPACE_REDUCING_SKIP[_SPACE.value],
  )
  opt_config = optimizers.OptimizerConfig(
    weights="adam", learning_rate=3e-3, learning_rate_min=3e-4
  )
  weight_tx, arch_tx = optimizers.bilevel_optimizers(opt_config, 1000)
  x = jnp.zeros((_BATCH.value, _IMAGE_SIZE.value, _IMAGE_SIZE.value, 3))
  state = benchmark_search._fresh_state(network, x, weight_tx, arch_tx, 0)
  edges, n_ops = genotypes.edges_per_cell(), len(op_names)
  inputs = network_loss.SearchInputs(
    active=jnp.ones((2, edges, n_ops), bool),
    estimation=jnp.zeros((2, edges, n_ops)),
    use_estimation=jnp.asarray(False),
  )
  rng = np.random.default_rng(0)
  batch = {
    "image": jnp.asarray(rng.normal(size=x.shape), jnp.float32),
    "label": jnp.asarray(rng.integers(0, 2, x.shape[0]), jnp.int32),
  }
  weight_step, arch_step = benchmark_search._steps(network, weight_tx, arch_tx)
  step = weight_step if _STEP.value == "weight" else arch_step
  start = time.perf_counter()
  lowered = step.lower(state, batch, jax.random.key(1), inputs)
  lower_s = time.perf_counter() - start
  result = {
    "layout": layout,
    "hlo_ops": benchmark_search._count_hlo_ops(lowered.as_text()),
    "lower_s": lower_s,
    "params": int(sum(v.size for v in jax.tree.leaves(state.params))),
  }
  if _COMPILE.value:
    start = time.perf_counter()
    lowered.compile()
    result["compile_s"] = time.perf_counter() - start
  return result


def main(argv):
  del argv
  jax.config.update("jax_enable_compilation_cache", False)
  results = []
  print(
    f"{_STEP.value} step, {_SPACE.value} C={_CHANNELS.value} k={_K.value} "
    f"batch={_BATCH.value} {_IMAGE_SIZE.value}x{_IMAGE_SIZE.value}, load {os.getloadavg()}"
  )
  print(f"{'layout':<12} {'params':>8} {'HLO ops':>9} {'lower s':>8} {'compile s':>10}")
  for layout in _LAYOUTS.value:
    r = measure(layout)
    results.append(r)
    print(
      f"{layout:<12} {r['params']:>8} {r['hlo_ops']:>9} {r['lower_s']:>8.1f} "
      f"{r.get('compile_s', float('nan')):>10.1f}",
      flush=True,
    )
  out = pathlib.Path(benchmark_search._OUT.value) / "compile"
  out.mkdir(parents=True, exist_ok=True)
  path = out / f"{time.strftime('%Y%m%d-%H%M%S')}_{_STEP.value}.json"
  path.write_text(
    json.dumps(
      {
        "results": results,
        "jax": jax.__version__,
        "load_avg_end": os.getloadavg(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
      },
      indent=2,
    )
  )
  print(f"wrote {path}")


if __name__ == "__main__":
  app.run(main)
