"""Benchmark of the LFCC front end: utterances/s of the jitted feature extraction.

    python scripts/benchmark_lfcc.py                       # batch 64 of 4 s utterances
    python scripts/benchmark_lfcc.py --batch_size=128 --repeats=5

Times `fakenas_jax.audio.features` (LFCC, NHWC) on random (B, 64000) float32 batches already on
the device, without and with frequency masking: the first call (compilation included) and the
best of `--repeats` windows of `--iterations` calls each (`block_until_ready` after each window).
Prints a table and writes JSON (`--output`). The load average is recorded: on a shared machine
other processes take cores.
"""

from __future__ import annotations

import json
import os
import pathlib
import time

import jax
import numpy as np
from absl import app, flags

from fakenas_jax import audio

_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Utterances per batch.")
_ITERATIONS = flags.DEFINE_integer("iterations", 5, "Calls per timed window.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed windows; the best counts.")
_OUTPUT = flags.DEFINE_string("output", "runs/benchmark_lfcc.json", "JSON results file.")


def measure(function, batch, key, iterations: int, repeats: int) -> dict:
  """First-call seconds and the best steady utterances/s of `function(batch, key)`."""
  start = time.perf_counter()
  jax.block_until_ready(function(batch, key))
  first = time.perf_counter() - start
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(iterations):
      out = function(batch, key)
    jax.block_until_ready(out)
    best = min(best, (time.perf_counter() - start) / iterations)
  return {
    "first_call_s": first,
    "batch_s": best,
    "utterances_per_s": batch.shape[0] / best,
    "output_shape": list(out.shape),
  }


def main(argv):
  del argv
  batch = jax.device_put(
    np.random.default_rng(0)
    .uniform(-0.5, 0.5, (_BATCH_SIZE.value, audio.FIXED_LENGTH))
    .astype(np.float32)
  )
  key = jax.random.key(0)
  plain = jax.jit(lambda x, k: audio.features(x))
  masked = jax.jit(lambda x, k: audio.features(x, k, mask=True))
  results = {
    "device": str(jax.devices()[0]),
    "batch_size": _BATCH_SIZE.value,
    "num_samples": audio.FIXED_LENGTH,
    "load_average": os.getloadavg(),
    "lfcc": measure(plain, batch, key, _ITERATIONS.value, _REPEATS.value),
    "lfcc_masked": measure(masked, batch, key, _ITERATIONS.value, _REPEATS.value),
  }
  print(
    f"device {results['device']}, batch {_BATCH_SIZE.value} x {audio.FIXED_LENGTH} samples, "
    f"load average {results['load_average'][0]:.2f}"
  )
  print(f"{'':<14}{'first call s':>14}{'batch ms':>10}{'utt/s':>10}")
  for name in ("lfcc", "lfcc_masked"):
    row = results[name]
    print(
      f"{name:<14}{row['first_call_s']:>14.2f}{1000 * row['batch_s']:>10.1f}"
      f"{row['utterances_per_s']:>10.0f}"
    )
  output = pathlib.Path(_OUTPUT.value)
  output.parent.mkdir(parents=True, exist_ok=True)
  output.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
  app.run(main)
