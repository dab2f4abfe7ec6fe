"""Predictions of a detector over one evaluation split: P(fake) of every frame, and a few samples.

    predict = jax.jit(steps.make_predict_step(model))
    result = predict_split(predict, state.variables, pipeline, mesh, samples_per_class=4)
    metrics.auc(result.labels, result.p_fake)

The pipeline is an evaluation pipeline (`training=False`): every selected frame once, the last
batch padded; padding rows (`valid` False) are dropped here. Each batch is placed on the `data`
mesh with its metadata, so on several processes every process gathers the whole split.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import tqdm
from jax.experimental import multihost_utils

from fakenas_jax import parallel
from fakenas_jax.data import pipeline as pipeline_lib

_METADATA = ("label", "video", "frame_index", "method", "valid")


@dataclasses.dataclass(frozen=True)
class SplitPredictions:
  """Per valid frame, in pipeline order; `samples` holds a few frames with their maps."""

  p_fake: np.ndarray  # float32 (N,)
  labels: np.ndarray  # int32 (N,)
  video: np.ndarray  # int32 (N,), index into video_ids
  frame_index: np.ndarray  # int32 (N,)
  method: np.ndarray  # int32 (N,), index into method_names
  video_ids: tuple[str, ...]
  method_names: tuple[str, ...]
  samples: dict[str, np.ndarray]  # 'image' [K,S,S,3] in [0, 1], 'label', 'p_fake', masks, maps

  @property
  def frame_video_ids(self) -> np.ndarray:
    """The video id of every frame (what `eval.video_level` groups by)."""
    return np.asarray(self.video_ids)[self.video]


def _gather(array: jax.Array) -> np.ndarray:
  if jax.process_count() > 1:
    return np.asarray(multihost_utils.process_allgather(array, tiled=True))
  return np.asarray(jax.device_get(array))


def predict_split(
  predict: Callable[[Any, jax.Array], dict[str, jax.Array]],
  variables: Any,
  pipeline: pipeline_lib.Pipeline,
  mesh: jax.sharding.Mesh,
  *,
  samples_per_class: int = 0,
  mean: float = 0.5,
  std: float = 0.5,
  max_batches: int | None = None,
  progress: bool = False,
  description: str = "predict",
) -> SplitPredictions:
  """Runs `predict` over every batch of `pipeline` (at most `max_batches`).

  `samples_per_class` real and as many fake frames (the first ones met) are kept with their
  image (un-normalised with `mean`/`std`), ground-truth masks and predicted maps.
  """
  columns: dict[str, list[np.ndarray]] = {name: [] for name in ("p_fake",) + _METADATA}
  samples: dict[str, list[np.ndarray]] = {}
  kept = {0: 0, 1: 0}
  batches = pipeline.num_batches if max_batches is None else min(max_batches, pipeline.num_batches)
  iterator = iter(pipeline)
  for _ in tqdm.tqdm(range(batches), desc=description, disable=not progress, leave=False):
    batch = next(iterator)
    masks = [name for name in ("face_hull", "intrinsic", "extrinsic") if name in batch]
    placed = parallel.shard_batch(
      {name: batch[name] for name in ("image",) + _METADATA + tuple(masks)}, mesh
    )
    outputs = predict(variables, placed["image"])
    host = {name: _gather(value) for name, value in outputs.items()}
    meta = {name: _gather(placed[name]) for name in _METADATA}
    valid = meta["valid"].astype(bool)
    columns["p_fake"].append(host["p_fake"][valid])
    for name in _METADATA:
      columns[name].append(meta[name][valid])
    if samples_per_class:
      labels = meta["label"]
      picks = []
      for row in np.flatnonzero(valid):
        label = int(labels[row])
        if kept[label] < samples_per_class:
          kept[label] += 1
          picks.append(row)
      if picks:
        picks = np.asarray(picks)
        images = _gather(placed["image"])[picks]
        samples.setdefault("image", []).append(np.clip(images * std + mean, 0.0, 1.0))
        samples.setdefault("label", []).append(labels[picks])
        for name, value in host.items():
          samples.setdefault(name, []).append(value[picks])
        for name in masks:
          samples.setdefault(f"true_{name}", []).append(_gather(placed[name])[picks])
  return SplitPredictions(
    p_fake=np.concatenate(columns["p_fake"]).astype(np.float32),
    labels=np.concatenate(columns["label"]).astype(np.int32),
    video=np.concatenate(columns["video"]).astype(np.int32),
    frame_index=np.concatenate(columns["frame_index"]).astype(np.int32),
    method=np.concatenate(columns["method"]).astype(np.int32),
    video_ids=pipeline.video_ids,
    method_names=pipeline.method_names,
    samples={name: np.concatenate(parts) for name, parts in samples.items()},
  )
