r"""Benchmark of the detectors' training step on this machine: compile time, speed, memory.

    python scripts/benchmark_train.py                          # every model, quick variants
    python scripts/benchmark_train.py --models=meso4,c2pn --steps=3
    python scripts/benchmark_train.py --variant=paper --batch=8   # the papers' input sizes
    python scripts/benchmark_train.py --models=meso4 --profile     # + where the step's time goes

Each model is measured in its own process (so peak memory is its own), with the training step
the trainer compiles (`training.steps.make_train_step`: the config's loss and optimiser, the
state replicated and the batch sharded on a one-device `data` mesh), on random images and masks
of the config's size. Reported per model:

* `first_step_s` — time to the first step: initialisation, trace, compile and first run
  (the persistent compilation cache is off, so compile times are real);
* `img_s` — steady images per second (median of `--steps` timed steps after one warm-up);
* `predict_img_s` — images per second of the evaluation forward pass (`make_predict_step`);
* `peak_rss_mib` — peak resident memory of the model's process;
* `params` — trainable parameters;
* `profile` (`--profile`) — a profiler trace of the steady step summed per HLO instruction, by
  kind, Flax module and pass (`fakenas_jax/profiling.py`), printed after the model's row.

The configs are `configs/train/<config>.py` (`:quick` unless `--variant=paper`); networks built
from a genotype use `DARTS_V2` when the config names none. Results: a table on stdout and JSON
under `--out` (default `runs/benchmark_train`). On a shared machine, compare runs taken under
similar load (the load average is recorded).
"""

from __future__ import annotations

import importlib
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

from absl import app, flags

# model → training config that trains it.
MODELS = {
  "meso4": "meso4",
  "resnet18": "resnet18",
  "xception": "xception",
  "c2pn": "c2pn_fdnas",
  "darts_eval": "darts_eval",
  "add": "add_ffpp",
  "bigarts_meso4": "bigarts_synthetic",
}

_MODELS = flags.DEFINE_list("models", list(MODELS), f"Models to measure, of {list(MODELS)}.")
_VARIANT = flags.DEFINE_enum(
  "variant", "quick", ["quick", "paper"], "Config variant: CPU-scale `quick`, or the paper's sizes."
)
_BATCH = flags.DEFINE_integer("batch", 0, "Batch size (0 = the config's).")
_STEPS = flags.DEFINE_integer("steps", 5, "Timed steady steps after one warm-up step.")
_PROFILE = flags.DEFINE_boolean("profile", False, "Also trace the steady step (per model).")
_OUT = flags.DEFINE_string("out", "runs/benchmark_train", "Directory of the JSON results.")
_ONE = flags.DEFINE_string("one", "", "Internal: measure this model in this process.")


def _config(model: str, variant: str, batch: int):
  module = importlib.import_module(f"configs.train.{MODELS[model]}")
  config = module.get_config("quick") if variant == "quick" else module.get_config()
  if "genotype" in config.model and not config.model.genotype:
    config.model.genotype = "DARTS_V2"
  if batch:
    config.batch_size = batch
  return config


def _median_seconds(run, steps: int) -> float:
  """Median wall time of `steps` calls of `run` (which waits for its result) after a warm-up."""
  run()
  times = []
  for _ in range(steps):
    begin = time.perf_counter()
    run()
    times.append(time.perf_counter() - begin)
  return statistics.median(times)


def measure(model: str, variant: str, batch: int, steps: int, profile: bool = False) -> dict:
  """Figures of one model's training step (run in a fresh process)."""
  import jax
  import numpy as np

  from fakenas_jax import parallel
  from fakenas_jax.models import factory
  from fakenas_jax.training import losses, optimizer, train_state
  from fakenas_jax.training import steps as steps_lib

  config = _config(model, variant, batch)
  size, batch_size = config.image_size, config.batch_size
  mesh = parallel.make_data_mesh(jax.devices()[:1])
  start = time.perf_counter()
  network = factory.build_model(config.model)
  variables = train_state.init_variables(network, size, config.seed)
  loss = losses.loss_for(config, train_state.output_names(network, variables, size))
  tx, _ = optimizer.make_optimizer(config.optimizer, steps_per_epoch=100, epochs=config.epochs)
  state = jax.device_put(
    train_state.create_train_state(variables, tx), parallel.replicated_sharding(mesh)
  )
  rng = np.random.default_rng(0)
  batch_data = {
    "image": rng.normal(size=(batch_size, size, size, 3)).astype(np.float32),
    "label": rng.integers(0, 2, batch_size).astype(np.int32),
  }
  for name in loss.masks:
    batch_data[name] = (rng.random((batch_size, size, size, 1)) > 0.5).astype(np.float32)
  batch_data = parallel.shard_batch(batch_data, mesh)
  key = jax.random.key(1)
  drop_path = np.float32(0.1 if float(config.model.get("drop_path_prob", 0.0) or 0) else 0.0)
  step_args = (batch_data, key, drop_path)
  # Compiled once, explicitly: the same executable is timed and (--profile) traced.
  step = jax.jit(steps_lib.make_train_step(network, loss, tx)).lower(state, *step_args).compile()
  state, metrics = step(state, *step_args)
  jax.block_until_ready(metrics)
  first_step_s = time.perf_counter() - start

  def train_step():
    nonlocal state, metrics
    state, metrics = step(state, *step_args)
    jax.block_until_ready(metrics)

  median = _median_seconds(train_step, steps)
  figures = {}
  if profile:
    from fakenas_jax import profiling

    figures["profile"] = profiling.breakdown(
      step,
      (state, *step_args),
      trace_dir=pathlib.Path(_OUT.value) / f"trace_{model}",
    )
  predict = jax.jit(steps_lib.make_predict_step(network))
  predict_s = _median_seconds(
    lambda: jax.block_until_ready(predict(state.variables, batch_data["image"])), steps
  )
  return {
    "model": model,
    "config": f"{MODELS[model]}{':quick' if variant == 'quick' else ''}",
    "image_size": size,
    "batch": batch_size,
    "outputs": sorted(train_state.output_names(network, variables, size)),
    "params": int(sum(np.size(leaf) for leaf in jax.tree.leaves(variables["params"]))),
    "first_step_s": first_step_s,
    "step_ms": 1e3 * median,
    "img_s": batch_size / median,
    "predict_img_s": batch_size / predict_s,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    "loss": float(metrics["loss"]),
    "backend": jax.default_backend(),
    **figures,
  }


def main(argv):
  del argv
  if _ONE.value:
    print(
      json.dumps(measure(_ONE.value, _VARIANT.value, _BATCH.value, _STEPS.value, _PROFILE.value))
    )
    return 0
  unknown = sorted(set(_MODELS.value) - set(MODELS))
  if unknown:
    print(f"error: unknown model(s) {unknown}; known: {list(MODELS)}", file=sys.stderr)
    return 2
  root = pathlib.Path(__file__).resolve().parents[1]
  path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH", "")]))
  env = dict(os.environ, PYTHONPATH=path, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("JAX_COMPILATION_CACHE_DIR", None)
  results = []
  load_start = os.getloadavg()[0]
  for model in _MODELS.value:
    command = [
      sys.executable,
      __file__,
      f"--one={model}",
      f"--variant={_VARIANT.value}",
      f"--batch={_BATCH.value}",
      f"--steps={_STEPS.value}",
      f"--profile={_PROFILE.value}",
      f"--out={_OUT.value}",
    ]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if done.returncode:
      print(f"{model}: failed\n{done.stderr[-1500:]}", file=sys.stderr)
      continue
    results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    row = results[-1]
    print(
      f"{model:14s} {row['image_size']:4d}px batch {row['batch']:3d}  "
      f"first step {row['first_step_s']:7.1f} s  {row['img_s']:8.1f} img/s  "
      f"predict {row['predict_img_s']:8.1f} img/s  "
      f"peak {row['peak_rss_mib']:7.0f} MiB  {row['params']:>9,d} params",
      flush=True,
    )
    if "profile" in row:
      from fakenas_jax import profiling

      print(profiling.format_breakdown(row["profile"], rows=8), flush=True)
  out = pathlib.Path(_OUT.value)
  out.mkdir(parents=True, exist_ok=True)
  path = out / f"benchmark_train_{_VARIANT.value}_{time.strftime('%Y%m%d_%H%M%S')}.json"
  path.write_text(
    json.dumps(
      {
        "results": results,
        "load_avg_start": load_start,
        "load_avg_end": os.getloadavg()[0],
        "cpus": os.cpu_count(),
      },
      indent=2,
    )
  )
  print(f"load average {load_start:.2f} → {os.getloadavg()[0]:.2f}; written to {path}")
  return 0


if __name__ == "__main__":
  sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
  app.run(main)
