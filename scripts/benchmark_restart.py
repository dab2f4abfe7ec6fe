"""Time to the first step of a search: cold, repeated (warm compilation cache) and resumed.

    python scripts/benchmark_restart.py                     # the default FD-NAS supernet
    python scripts/benchmark_restart.py --layout=NR --channels=8 --k=2 --image_size=16

Runs `python -m fakenas_jax.search` three times on the synthetic studio corpus (built first, not
timed) with one epoch of `--steps` steps: (1) with an empty compilation cache, (2) the same
command into a new workdir (every program in the cache), (3) resumed: the second run's workdir
with one more epoch. Reports each run's wall time and its `time/first_step_s` (compile included,
from metrics.jsonl), with the machine's load average.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from absl import app, flags

_LAYOUT = flags.DEFINE_string("layout", "NNRNNR", "Supernet layout.")
_CHANNELS = flags.DEFINE_integer("channels", 16, "Supernet channels C.")
_K = flags.DEFINE_integer("k", 8, "Partial-channel divisor.")
_IMAGE = flags.DEFINE_integer("image_size", 32, "Input side.")
_BATCH = flags.DEFINE_integer("batch_size", 32, "Batch size.")
_STEPS = flags.DEFINE_integer("steps", 3, "Steps in the epoch.")
_DATA_DIR = flags.DEFINE_string("data_dir", "runs/tfds", "Where the corpus is (or is built).")

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _search(workdir, cache, epochs):
  args = [
    sys.executable,
    "-m",
    "fakenas_jax.search",
    f"--workdir={workdir}",
    f"--compilation_cache={cache}",
    f"--config.layout={_LAYOUT.value}",
    f"--config.channels={_CHANNELS.value}",
    f"--config.k={_K.value}",
    f"--config.image_size={_IMAGE.value}",
    f"--config.batch_size={_BATCH.value}",
    f"--config.steps_per_epoch={_STEPS.value}",
    f"--config.epochs={epochs}",
    "--config.warmup_epochs=0",
    "--config.indicator=False",
    "--config.progress=False",
    f"--config.data_dir={_DATA_DIR.value}",
  ]
  start = time.perf_counter()
  done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
  wall = time.perf_counter() - start
  if done.returncode:
    raise SystemExit(f"search failed:\n{done.stderr[-3000:]}")
  lines = [
    json.loads(line) for line in (pathlib.Path(workdir) / "metrics.jsonl").read_text().splitlines()
  ]
  return wall, lines[-1].get("time/first_step_s")


def main(argv):
  del argv
  from fakenas_jax.data import corpus  # pylint: disable=import-outside-toplevel

  corpus.prepared_builder("synthetic_faces/studio", _DATA_DIR.value)
  with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    rows = [
      ("cold (empty cache)", *_search(tmp / "a", tmp / "cache", 1)),
      ("repeated (warm cache)", *_search(tmp / "b", tmp / "cache", 1)),
      ("resumed (+1 epoch)", *_search(tmp / "b", tmp / "cache", 2)),
    ]
  print(
    f"search {_LAYOUT.value}, C {_CHANNELS.value}, k {_K.value}, batch {_BATCH.value}, "
    f"{_IMAGE.value}×{_IMAGE.value}; load average {os.getloadavg()[0]:.1f}"
  )
  print(f"{'run':24s} {'wall (s)':>9s} {'first step (s)':>15s}")
  for name, wall, first in rows:
    print(f"{name:24s} {wall:9.1f} {first if first is None else round(first, 1)!s:>15s}")


if __name__ == "__main__":
  app.run(main)
