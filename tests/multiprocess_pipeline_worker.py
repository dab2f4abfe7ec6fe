"""One process of `test_pipeline_multiprocess.py`: joins a JAX run on localhost, reads its shard.

    python tests/multiprocess_pipeline_worker.py --process_id=0 --num_processes=2 --port=PORT \
        --builder_dir=DIR --out=result_0.json

Writes a JSON file: the process layout, the (video_id, frame_index, valid) rows of every local
batch of one evaluation pass and one training epoch, and what the processes computed together
from the first evaluation batch placed as a global array (`shard_batch`).
"""

import argparse
import json

import jax

LOCAL_DEVICES = 2
GLOBAL_BATCH = 4
IMAGE_SIZE = 16


def rows(batch, pipeline):
  return [
    [pipeline.video_ids[v] if ok else None, int(f), bool(ok)]
    for v, f, ok in zip(batch["video"], batch["frame_index"], batch["valid"])
  ]


def main():
  parser = argparse.ArgumentParser()
  for name in ("process_id", "num_processes", "port"):
    parser.add_argument(f"--{name}", type=int, required=True)
  parser.add_argument("--builder_dir", required=True)
  parser.add_argument("--out", required=True)
  args = parser.parse_args()

  jax.config.update("jax_num_cpu_devices", LOCAL_DEVICES)
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  # Imported after the configuration, as a training entry point would.
  import jax.numpy as jnp
  import numpy as np
  import tensorflow_datasets as tfds
  from jax.experimental import multihost_utils

  from fakenas_jax import parallel
  from fakenas_jax.data import pipeline as pipeline_lib

  process_index, process_count = parallel.initialize_distributed(
    coordinator_address=f"localhost:{args.port}",
    num_processes=args.num_processes,
    process_id=args.process_id,
    initialization_timeout=120,
  )
  source = tfds.builder_from_directory(args.builder_dir).as_data_source("train")
  common = dict(
    source=source, global_batch_size=GLOBAL_BATCH, image_size=IMAGE_SIZE, num_threads=1
  )  # process index and count: JAX's
  evaluation = pipeline_lib.make_pipeline(training=False, **common)
  training = pipeline_lib.make_pipeline(training=True, seed=0, num_epochs=1, **common)
  eval_batches = list(evaluation)
  train_batches = list(training)

  mesh = parallel.make_data_mesh()
  local = eval_batches[0]
  placed = parallel.shard_batch(local, mesh)
  row_sums = jax.jit(lambda image: jnp.sum(image, axis=(1, 2, 3)))(placed["image"])
  total = jax.jit(
    lambda batch: jnp.sum(jnp.where(batch["valid"][:, None, None, None], batch["image"], 0.0))
  )(placed)
  gathered = multihost_utils.process_allgather(row_sums, tiled=True)

  result = {
    "process_index": process_index,
    "process_count": process_count,
    "local_devices": jax.local_device_count(),
    "devices": jax.device_count(),
    "evaluation": [rows(batch, evaluation) for batch in eval_batches],
    "training": [rows(batch, training) for batch in train_batches],
    "global_shape": list(placed["image"].shape),
    "local_row_sums": np.sum(local["image"], axis=(1, 2, 3)).tolist(),
    "gathered_row_sums": np.asarray(gathered).tolist(),
    "total": float(total),
  }
  with open(args.out, "w") as file:
    json.dump(result, file)
  jax.distributed.shutdown()


if __name__ == "__main__":
  main()
