"""Benchmark of the data side: building the synthetic corpus, and the input pipeline's throughput.

    python scripts/benchmark_data.py                                  # builds a fresh corpus
    python scripts/benchmark_data.py --builder_dir=~/tfds/synthetic_faces/studio/1.0.0
    python scripts/benchmark_data.py --override=identities=20,4,4 --batch_size=128

Prints a table and writes JSON (`--output`). Three parts:
1. build rate: frames/s of `prepare` (the real builder, array_record, its default workers);
2. pipeline throughput: frames/s of training batches at `--image_size`, without and with the
   three masks, with the default thread count and each count of `--thread_sweep`; the consumer
   does nothing but take batches, so this is the most the pipeline can feed a training step;
3. where a frame's time goes, measured on one thread: reading + parsing the record, decoding
   the image, decoding the masks, resizing, and the per-batch conversion to float (per frame)
   — what bounds the throughput.
"cores busy" is the process's CPU time over wall time while batches are taken: near 1 with
several threads means the GIL (Python work) is the limit, near the core count means the CPU
is. The load average is recorded too: on a shared machine other processes take cores.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
import time

import numpy as np
import tensorflow_datasets as tfds
from absl import app, flags

from fakenas_jax.data import corpora, overrides, preparation, preprocess
from fakenas_jax.data import pipeline as pipeline_lib

_DATASET = flags.DEFINE_string("dataset", "synthetic_faces/studio", "Corpus to build, NAME/CONFIG.")
_OVERRIDE = flags.DEFINE_multi_string(
  "override", ["identities=12,2,2", "resolution=64"], "Config override KEY=VALUE (repeatable)."
)
_DATA_DIR = flags.DEFINE_string(
  "data_dir", None, "Where to build and keep the corpus (default: a temp dir, removed after)."
)
_BUILDER_DIR = flags.DEFINE_string(
  "builder_dir", None, "An already prepared dataset directory: skip the build, read this."
)
_SPLIT = flags.DEFINE_string("split", "train", "Split to read.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Global batch size.")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", 64, "Output image side.")
_BATCHES = flags.DEFINE_integer("batches", 30, "Timed batches per measurement.")
_THREAD_SWEEP = flags.DEFINE_list("thread_sweep", ["1", "4"], "Thread counts to try as well.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed windows per measurement; the best counts.")
_STEP_MS = flags.DEFINE_float(
  "step_ms", 20.0, "Simulated training step for the overlap row (0: no such row)."
)
_OUTPUT = flags.DEFINE_string("output", "runs/benchmark_data.json", "JSON results file.")

_WARMUP_BATCHES = 3
_STAGE_SAMPLE = 256


def benchmark_build(dataset: str, data_dir: str, override_pairs: list[str]) -> dict:
  """Builds the corpus and returns frames, seconds and frames/s (all splits together)."""
  config = corpora.resolve_config(dataset)
  summary = preparation.prepare(
    dataset, data_dir, overrides=overrides.parse(override_pairs, config)
  )
  frames = sum(counts.examples for counts in summary.splits.values())
  return {
    "dataset": dataset,
    "overrides": override_pairs,
    "frames": frames,
    "seconds": summary.seconds,
    "frames_per_s": frames / summary.seconds,
    "already_prepared": summary.already_prepared,
    "workers": os.cpu_count(),
    "path": summary.path,
  }


def benchmark_pipeline(
  source,
  table,
  *,
  batch_size: int,
  image_size: int,
  masks: tuple,
  num_threads: int | None,
  batches: int,
  step_ms: float = 0.0,
) -> dict:
  """Frames/s of a training pipeline whose consumer takes batches and sleeps `step_ms` after
  each (a stand-in for a device step, which releases the GIL as a sleep does)."""
  pipeline = pipeline_lib.make_pipeline(
    source=source,
    table=table,
    global_batch_size=batch_size,
    image_size=image_size,
    training=True,
    seed=0,
    masks=masks,
    num_threads=num_threads,
    process_index=0,
    process_count=1,
  )
  iterator = iter(pipeline)
  for _ in range(_WARMUP_BATCHES):
    next(iterator)
  seconds = cpu_seconds = float("inf")
  for _ in range(_REPEATS.value):  # consecutive windows; the fastest counts (shared machine)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(batches):
      next(iterator)
      time.sleep(step_ms / 1000)
    if time.perf_counter() - start < seconds:
      seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
  iterator.close()
  return {
    "masks": list(masks),
    "threads": os.cpu_count() if num_threads is None else num_threads,
    "step_ms": step_ms,
    "frames_per_s": batches * batch_size / seconds,
    "ms_per_batch": 1000 * seconds / batches,
    "cores_busy": cpu_seconds / seconds,
  }


def _best_seconds(fn, repeats: int = 3) -> float:
  """The fastest of a few runs of `fn()`: the machine may be shared."""
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    best = min(best, time.perf_counter() - start)
  return best


def stage_costs(source, image_size: int) -> dict:
  """Microseconds per frame of each preprocessing stage, on one thread."""
  reader = pipeline_lib.RecordReader(source)
  count = min(_STAGE_SAMPLE, len(reader))
  mean = std = preprocess.channel_stats(0.5, "mean")
  names = ("image",) + preprocess.MASK_FEATURES
  records = [reader.read(i, names) for i in range(count)]
  images = [preprocess.decode_image(r["image"], channels=3) for r in records]
  resized = [preprocess.decode_frame(r, image_size=image_size) for r in records]
  stacked = {name: np.stack([frame[name] for frame in resized]) for name in names}
  stages = {
    "read_and_parse": lambda: [reader.read(i, names) for i in range(count)],
    "decode_image": lambda: [preprocess.decode_image(r["image"], channels=3) for r in records],
    "decode_3_masks": lambda: [
      preprocess.decode_image(r[name], channels=1)
      for r in records
      for name in preprocess.MASK_FEATURES
    ],
    "resize_image": lambda: [preprocess.resize(image, image_size) for image in images],
    "batch_to_float_image": lambda: preprocess.batch_to_float(
      {"image": stacked["image"]}, mean=mean, std=std
    ),
    "batch_to_float_3_masks": lambda: preprocess.batch_to_float(
      {name: stacked[name] for name in preprocess.MASK_FEATURES}, mean=mean, std=std
    ),
  }
  timings = {name: 1e6 * _best_seconds(fn) / count for name, fn in stages.items()}
  timings["stored_resolution"] = list(images[0].shape)
  timings["encoded_image_bytes"] = float(np.mean([len(r["image"]) for r in records]))
  return timings


def render(results: dict) -> str:
  lines = []
  build = results.get("build")
  if build:
    state = (
      "already prepared (not timed)"
      if build["already_prepared"]
      else (
        f"{build['frames']} frames in {build['seconds']:.1f} s = {build['frames_per_s']:.1f} "
        f"frames/s ({build['workers']} workers)"
      )
    )
    lines.append(f"build {build['dataset']} {' '.join(build['overrides'])}: {state}")
  lines.append(
    f"pipeline, {results['split']} split, batch {results['batch_size']}, "
    f"{results['image_size']}x{results['image_size']}:"
  )
  lines.append(f"  {'masks':<8}{'threads':>8}{'frames/s':>11}{'ms/batch':>10}{'cores busy':>12}")
  for row in results["pipeline"]:
    lines.append(
      f"  {'3' if row['masks'] else 'none':<8}{row['threads']:>8}"
      f"{row['frames_per_s']:>11.0f}{row['ms_per_batch']:>10.1f}"
      f"{row['cores_busy']:>12.2f}"
    )
  overlap = results.get("overlap")
  if overlap:
    alone = results["pipeline"][0]["ms_per_batch"]
    lines.append(
      f"  with a simulated {overlap['step_ms']:.0f} ms step after each batch: "
      f"{overlap['ms_per_batch']:.1f} ms a step (no overlap would be "
      f"{alone + overlap['step_ms']:.1f}, full overlap "
      f"{max(alone, overlap['step_ms']):.1f})"
    )
  stages = results["stages_us_per_frame"]
  lines.append(
    f"one thread, us per frame (stored {stages['stored_resolution']}, "
    f"~{stages['encoded_image_bytes']:.0f} B/image):"
  )
  for name in (
    "read_and_parse",
    "decode_image",
    "decode_3_masks",
    "resize_image",
    "batch_to_float_image",
    "batch_to_float_3_masks",
  ):
    lines.append(f"  {name:<24}{stages[name]:>8.0f}")
  return "\n".join(lines)


def run(results: dict, data_dir: str | None) -> None:
  """Fills `results`: the build (unless --builder_dir), the frame table, stages, pipeline."""
  if _BUILDER_DIR.value:
    builder = tfds.builder_from_directory(os.path.expanduser(_BUILDER_DIR.value))
  else:
    results["build"] = benchmark_build(_DATASET.value, data_dir, _OVERRIDE.value)
    builder = tfds.builder_from_directory(results["build"]["path"])
  source = builder.as_data_source(_SPLIT.value)

  start = time.perf_counter()
  table = pipeline_lib.read_frame_table(source)
  results["frame_table"] = {
    "records": len(table),
    "records_per_s": len(table) / (time.perf_counter() - start),
  }
  results["load_average_before"] = os.getloadavg()
  results["stages_us_per_frame"] = stage_costs(source, _IMAGE_SIZE.value)
  thread_counts = [None] + [int(count) for count in _THREAD_SWEEP.value]
  results["pipeline"] = [
    benchmark_pipeline(
      source,
      table,
      batch_size=_BATCH_SIZE.value,
      image_size=_IMAGE_SIZE.value,
      masks=masks,
      num_threads=threads,
      batches=_BATCHES.value,
    )
    for threads in thread_counts
    for masks in ((), preprocess.MASK_FEATURES)
  ]
  if _STEP_MS.value > 0:
    results["overlap"] = benchmark_pipeline(
      source,
      table,
      batch_size=_BATCH_SIZE.value,
      image_size=_IMAGE_SIZE.value,
      masks=(),
      num_threads=None,
      batches=_BATCHES.value,
      step_ms=_STEP_MS.value,
    )
  results["load_average_after"] = os.getloadavg()


def main(argv):
  del argv
  results = {
    "split": _SPLIT.value,
    "batch_size": _BATCH_SIZE.value,
    "image_size": _IMAGE_SIZE.value,
    "cpu_count": os.cpu_count(),
  }
  if _DATA_DIR.value or _BUILDER_DIR.value:
    run(results, _DATA_DIR.value)
  else:  # a throw-away build
    with tempfile.TemporaryDirectory(prefix="benchmark_data_") as data_dir:
      run(results, data_dir)

  print(render(results))
  print(
    f"frame table: {results['frame_table']['records']} records read at "
    f"{results['frame_table']['records_per_s']:.0f} records/s"
  )
  print(
    f"load average (1 min) before / after: {results['load_average_before'][0]:.2f} / "
    f"{results['load_average_after'][0]:.2f} on {os.cpu_count()} cores"
  )
  output = pathlib.Path(_OUTPUT.value)
  output.parent.mkdir(parents=True, exist_ok=True)
  output.write_text(json.dumps(results, indent=2))
  print(f"wrote {output}")


if __name__ == "__main__":
  app.run(main)
