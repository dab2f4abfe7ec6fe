"""The input pipeline: one split of a face corpus -> host-local numpy batches, with grain.

    builder = corpora.load_builder("synthetic_faces/studio", data_dir)
    pipeline = make_pipeline(source=builder.as_data_source("train"), global_batch_size=64,
                             image_size=64, training=True, seed=0, frames_per_video=10)
    iterator = iter(pipeline)          # a grain DatasetIterator
    batch = next(iterator)             # numpy arrays, global_batch_size / process_count rows
    state = iterator.get_state()       # JSON-serialisable; iterator.set_state(state) resumes

Every batch holds `image` float32 (B, S, S, 3) normalised with `mean`/`std`; the masks asked for
(`face_hull`, `intrinsic`, `extrinsic`) float32 (B, S, S, 1) in [0, 1]; `label` int32 (0 real,
1 fake); `video` int32 (index into `pipeline.video_ids`); `frame_index` int32; `method` int32
(index into `pipeline.method_names`); `valid` bool. Padding rows (evaluation only) are zeros
with `valid` False and -1 in `video`, `frame_index` and `method`.

How the examples are ordered (every process computes the same global order and keeps its part):

* A frame table (video, frame index, label, method of every record) is read once, cheaply: the
  records of a TFDS array_record source are parsed as `tf.train.Example` protos directly and
  only those four fields are looked at, so no image is decoded (~7x faster than the data
  source's own deserialisation). `frames_per_video` then keeps at most F frames of each video,
  evenly spaced over its frames by frame index.
* Training: epoch e is a permutation of the selected frames (`np.random.default_rng((s, e))`,
  s derived from `seed`; computed once per epoch, where grain's per-index `shuffle` costs
  ~27 us an example), cut to a whole number of global batches (the remainder is dropped per
  epoch, so a batch never mixes epochs); epochs follow each other for `num_epochs` or forever.
  Evaluation: the selected frames in record order, once, padded to whole global batches.
* Process p keeps global positions p, p + P, p + 2P, ...: local batch k of every process
  together is global batch k, the processes' examples are disjoint and cover the epoch, and
  every process yields the same number of batches (collectives never wait on a missing batch).
* The augmentation is a grain `random_map` over the global stream: its per-example
  `np.random.Generator` depends only on (seed, epoch, position in the epoch), not on the
  process layout.

Each batch is decoded by one of `num_threads` threads (grain's `to_iter_dataset` prefetch over
the batched `MapDataset`), `prefetch_batches` ahead of the consumer, so decoding overlaps the
training step; OpenCV and numpy release the GIL. Frames stay uint8 until the batch is stacked,
then image and masks become float32 in one vectorised pass (`preprocess.batch_to_float`).
The iterator state is grain's `{'next_index': k}`, JSON, so `grain.checkpoint.CheckpointSave`
can put it in an Orbax checkpoint; a restored iterator yields exactly the batches the
uninterrupted one would have.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

import grain
import jax
import numpy as np
from tensorflow_datasets.core.data_sources import array_record as tfds_array_record
from tensorflow_datasets.proto import tf_example_pb2

from fakenas_jax.data import integrity, preprocess

METADATA_FEATURES = ("video_id", "frame_index", "label", "method")
_SHUFFLE_SEED_PURPOSE = 0
_AUGMENT_SEED_PURPOSE = 1


@dataclasses.dataclass(frozen=True, eq=False)
class FrameTable:
  """Per-record metadata of one split; `video` and `method` index the two name tables."""

  video: np.ndarray  # int32 (num_records,)
  frame_index: np.ndarray  # int32
  label: np.ndarray  # int32
  method: np.ndarray  # int32
  video_ids: tuple[str, ...]  # sorted
  method_names: tuple[str, ...]  # sorted

  def __len__(self) -> int:
    return len(self.video)


@dataclasses.dataclass(frozen=True, eq=False)
class Pipeline:
  """A configured input pipeline; `iter(pipeline)` starts a fresh, checkpointable iterator."""

  dataset: grain.IterDataset
  table: FrameTable
  selected: np.ndarray  # record indices of the selected frames, ascending
  global_batch_size: int
  local_batch_size: int
  steps_per_epoch: int  # global batches per epoch (each process yields one local batch a step)
  num_batches: int | None  # batches this iterator yields in all; None = forever

  @property
  def video_ids(self) -> tuple[str, ...]:
    return self.table.video_ids

  @property
  def method_names(self) -> tuple[str, ...]:
    return self.table.method_names

  def __iter__(self) -> grain.DatasetIterator:
    return iter(self.dataset)


class RecordReader:
  """Reads named features of single records, from a TFDS array_record source or any sequence.

  A TFDS `ArrayRecordDataSource` is read underneath its deserialiser: the raw record is parsed
  as a `tf.train.Example` and only the asked-for features are converted (image features stay
  encoded bytes). Any other source must return a mapping per index (`source[i]['image']`
  encoded bytes or a uint8 array).
  """

  def __init__(self, source: Any):
    self._source = source
    if isinstance(source, tfds_array_record.ArrayRecordDataSource):
      self._raw = source.data_source
      available = set(source.dataset_info.features.keys())
    else:
      self._raw = None
      available = set(source[0].keys()) if len(source) else set()
    self.available = frozenset(available)

  def __len__(self) -> int:
    return len(self._source)

  def _raw_records(self, indices) -> list[bytes]:
    """Raw records of a TFDS source; a damaged file is an `integrity.CorruptCorpusError`
    naming it and the rebuild command."""
    try:
      return self._raw.__getitems__(indices)
    except Exception as error:  # noqa: BLE001 — only array_record's read errors are translated
      if integrity.is_corruption(error):
        raise integrity.corrupt_corpus_error(self._source.dataset_info, error) from None
      raise

  def read(self, index: int, names: Sequence[str], optional: Sequence[str] = ()) -> dict[str, Any]:
    """The `names` features of record `index` (and those of `optional` that it has)."""
    if self._raw is not None:
      return _parse_example(self._raw_records([index])[0], names, optional)
    record = self._source[index]
    values = {name: record[name] for name in names}
    values.update({name: record[name] for name in optional if name in record})
    return values

  def read_range(self, start: int, stop: int, names: Sequence[str]) -> list[dict[str, Any]]:
    return self.read_many(range(start, stop), names)

  def read_many(
    self,
    indices: Sequence[int],
    names: Sequence[str],
    optional: Sequence[str] = (),
    *,
    chunk_size: int = 4096,
  ) -> list[dict[str, Any]]:
    """`read` of every index, the raw records fetched `chunk_size` at a time."""
    indices = [int(i) for i in indices]
    if self._raw is None:
      return [self.read(index, names, optional) for index in indices]
    rows = []
    for start in range(0, len(indices), chunk_size):
      chunk = indices[start : start + chunk_size]
      rows += [_parse_example(raw, names, optional) for raw in self._raw_records(chunk)]
    return rows


def _parse_example(
  serialized: bytes, names: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
  features = tf_example_pb2.Example.FromString(serialized).features.feature
  values = {}
  for name in (*names, *optional):
    if name in optional and name not in features:
      continue
    feature = features[name]
    kind = feature.WhichOneof("kind")
    if kind == "bytes_list":
      values[name] = feature.bytes_list.value[0]
    elif kind == "int64_list":
      values[name] = feature.int64_list.value[0]
    elif kind == "float_list":
      values[name] = np.asarray(feature.float_list.value, np.float32)
    else:
      raise ValueError(f"feature {name!r} is stored as {kind}, expected bytes, int64 or floats")
  return values


def read_frame_table(source: Any, *, chunk_size: int = 4096) -> FrameTable:
  """The video, frame index, label and method of every record of `source`, no image decoded."""
  reader = RecordReader(source)
  missing = sorted(set(METADATA_FEATURES) - reader.available)
  if missing:
    raise ValueError(
      f"the source has no feature(s) {missing}; a face corpus needs "
      f"{list(METADATA_FEATURES)} (has {sorted(reader.available)})"
    )
  columns = {name: [] for name in METADATA_FEATURES}
  for start in range(0, len(reader), chunk_size):
    for record in reader.read_range(start, min(start + chunk_size, len(reader)), METADATA_FEATURES):
      for name in METADATA_FEATURES:
        value = record[name]
        columns[name].append(value.decode() if isinstance(value, bytes) else value)
  video_ids, video = np.unique(np.asarray(columns["video_id"], dtype=str), return_inverse=True)
  method_names, method = np.unique(np.asarray(columns["method"], dtype=str), return_inverse=True)
  return FrameTable(
    video=video.astype(np.int32).reshape(-1),
    frame_index=np.asarray(columns["frame_index"], np.int32).reshape(-1),
    label=np.asarray(columns["label"], np.int32).reshape(-1),
    method=method.astype(np.int32).reshape(-1),
    video_ids=tuple(str(v) for v in video_ids),
    method_names=tuple(str(m) for m in method_names),
  )


def evenly_spaced(count: int, limit: int | None) -> np.ndarray:
  """Positions of at most `limit` of `count` items, evenly spaced, first and last included."""
  if limit is None or count <= limit:
    return np.arange(count)
  return np.round(np.linspace(0, count - 1, limit)).astype(np.int64)


def select_frames(table: FrameTable, frames_per_video: int | None) -> np.ndarray:
  """Record indices (ascending) of at most `frames_per_video` evenly spaced frames a video."""
  if frames_per_video is not None and frames_per_video < 1:
    raise ValueError(f"frames_per_video must be >= 1 or None, got {frames_per_video}")
  if frames_per_video is None or len(table) == 0:
    return np.arange(len(table), dtype=np.int64)
  order = np.lexsort((table.frame_index, table.video))  # by video, then frame index
  videos = table.video[order]
  starts = np.flatnonzero(np.r_[True, videos[1:] != videos[:-1]])
  counts = np.diff(np.r_[starts, len(order)])
  picked = [
    order[start + evenly_spaced(count, frames_per_video)] for start, count in zip(starts, counts)
  ]
  return np.sort(np.concatenate(picked))


def video_folds(table: FrameTable, count: int) -> np.ndarray:
  """Fold (0..count-1) of every video: round-robin over the videos of each label, by id.

  Used to split a training split in halves by video (FD-NAS Alg. 1 line 1: one half updates the
  weights, the other the architecture) with both classes in every fold.
  """
  if count < 1:
    raise ValueError(f"need at least one fold, got {count}")
  video_label = np.zeros(len(table.video_ids), np.int64)
  video_label[table.video] = table.label
  folds = np.zeros(len(table.video_ids), np.int64)
  for label in np.unique(video_label):
    members = np.flatnonzero(video_label == label)  # ids are sorted, so this order is fixed
    folds[members] = np.arange(len(members)) % count
  return folds


@functools.lru_cache(maxsize=4)
def _epoch_permutation(num_examples: int, seed: int, epoch: int) -> np.ndarray:
  permutation = np.random.default_rng([seed, epoch]).permutation(num_examples)
  permutation.flags.writeable = False
  return permutation


@dataclasses.dataclass(frozen=True, eq=False)
class _TrainingOrder:
  """Global position -> record index: a permutation per epoch, cut to whole global batches."""

  selected: np.ndarray
  used_per_epoch: int
  seed: int

  def __call__(self, position: int) -> int:
    epoch, offset = divmod(position, self.used_per_epoch)
    return int(self.selected[_epoch_permutation(len(self.selected), self.seed, epoch)[offset]])


@dataclasses.dataclass(frozen=True, eq=False)
class _EvaluationOrder:
  """Global position -> record index, or -1 past the end (a padding row)."""

  selected: np.ndarray

  def __call__(self, position: int) -> int:
    return int(self.selected[position]) if position < len(self.selected) else -1


@dataclasses.dataclass(frozen=True, eq=False)
class _FrameLoader:
  """Record index -> example dict (decoded, augmented, resized uint8 arrays, and metadata)."""

  reader: RecordReader
  table: FrameTable
  image_size: int
  masks: tuple[str, ...]
  augment: preprocess.Augment | None = None

  def __call__(self, record: int, rng: np.random.Generator | None = None) -> dict[str, Any]:
    if record < 0:
      return self._padding()
    encoded = self.reader.read(record, ("image",) + self.masks)
    example = preprocess.decode_frame(
      encoded, image_size=self.image_size, augment=self.augment, rng=rng
    )
    example.update(
      label=np.int32(self.table.label[record]),
      video=np.int32(self.table.video[record]),
      frame_index=np.int32(self.table.frame_index[record]),
      method=np.int32(self.table.method[record]),
      valid=np.bool_(True),
    )
    return example

  def _padding(self) -> dict[str, Any]:
    size = self.image_size
    example = {"image": np.zeros((size, size, 3), np.uint8)}
    example.update({name: np.zeros((size, size, 1), np.uint8) for name in self.masks})
    example.update(
      label=np.int32(0),
      video=np.int32(-1),
      frame_index=np.int32(-1),
      method=np.int32(-1),
      valid=np.bool_(False),
    )
    return example


@dataclasses.dataclass(frozen=True, eq=False)
class _Collate:
  """Examples -> a batch: stacked, image and masks converted to float once for the batch."""

  mean: np.ndarray
  std: np.ndarray

  def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    stacked = {name: np.stack([example[name] for example in examples]) for name in examples[0]}
    batch = preprocess.batch_to_float(stacked, mean=self.mean, std=self.std)
    padding = ~batch["valid"]
    if padding.any():
      for name in ("image",) + preprocess.MASK_FEATURES:
        if name in batch:
          batch[name][padding] = 0.0
    return batch


def _derived_seed(seed: int, purpose: int) -> int:
  """An independent 32-bit seed for each random part of the pipeline."""
  return int(np.random.SeedSequence([seed, purpose]).generate_state(1)[0])


def check_reading(
  global_batch_size: int,
  training: bool,
  num_epochs: int | None,
  process_index: int | None,
  process_count: int | None,
  num_threads: int | None,
  prefetch_batches: int | None,
):
  """Checks what every pipeline shares; returns the processes and threads with defaults filled."""
  process_index = jax.process_index() if process_index is None else process_index
  process_count = jax.process_count() if process_count is None else process_count
  if process_count < 1 or not 0 <= process_index < process_count:
    raise ValueError(
      f"need 0 <= process_index < process_count, got process_index="
      f"{process_index}, process_count={process_count}"
    )
  if global_batch_size < 1 or global_batch_size % process_count:
    raise ValueError(
      f"global_batch_size ({global_batch_size}) must be a positive multiple of "
      f"the process count ({process_count})"
    )
  if num_epochs is not None and num_epochs < 1:
    raise ValueError(f"num_epochs must be >= 1 or None, got {num_epochs}")
  if not training and num_epochs not in (None, 1):
    raise ValueError(f"evaluation reads the split once; num_epochs={num_epochs} is for training")
  num_threads = (os.cpu_count() or 1) if num_threads is None else num_threads
  prefetch_batches = 2 * max(num_threads, 1) if prefetch_batches is None else prefetch_batches
  if num_threads < 0 or prefetch_batches < 0:
    raise ValueError(
      f"num_threads ({num_threads}) and prefetch_batches ({prefetch_batches}) must be >= 0"
    )
  return process_index, process_count, num_threads, prefetch_batches


def global_order(
  selected: np.ndarray,
  global_batch_size: int,
  training: bool,
  seed: int,
  num_epochs: int | None,
  *,
  what: str,
  training_order=None,
):
  """The global order of record positions: (grain MapDataset, steps_per_epoch, num_batches).

  Training: a per-epoch permutation of `selected` (or `training_order(used_per_epoch,
  shuffle_seed)`), each epoch's remainder dropped; evaluation: `selected` once, padded to whole
  batches. `what` names the records in errors.
  """
  if training:
    steps_per_epoch = len(selected) // global_batch_size
    if steps_per_epoch == 0:
      raise ValueError(
        f"global_batch_size ({global_batch_size}) exceeds the {len(selected)} selected {what}; "
        "training drops each epoch's remainder, so it would yield no batch"
      )
    used_per_epoch = steps_per_epoch * global_batch_size
    length = sys.maxsize if num_epochs is None else num_epochs * used_per_epoch
    shuffle_seed = _derived_seed(seed, _SHUFFLE_SEED_PURPOSE)
    mapping = (
      _TrainingOrder(selected, used_per_epoch, shuffle_seed)
      if training_order is None
      else training_order(used_per_epoch, shuffle_seed)
    )
    num_batches = None if num_epochs is None else num_epochs * steps_per_epoch
    return grain.MapDataset.range(length).map(mapping), steps_per_epoch, num_batches
  if len(selected) == 0:
    raise ValueError("the source has no records to evaluate")
  steps_per_epoch = math.ceil(len(selected) / global_batch_size)
  order = grain.MapDataset.range(steps_per_epoch * global_batch_size).map(
    _EvaluationOrder(selected)
  )
  return order, steps_per_epoch, steps_per_epoch


def make_pipeline(
  *,
  source: Any,
  global_batch_size: int,
  image_size: int,
  training: bool,
  seed: int = 0,
  num_epochs: int | None = None,
  frames_per_video: int | None = None,
  masks: Sequence[str] = (),
  mean: float | Sequence[float] = preprocess.MEAN,
  std: float | Sequence[float] = preprocess.STD,
  augment: preprocess.Augment | None = None,
  process_index: int | None = None,
  process_count: int | None = None,
  num_threads: int | None = None,
  prefetch_batches: int | None = None,
  table: FrameTable | None = None,
  video_fold: tuple[int, int] | None = None,
  sampler: Any | None = None,
) -> Pipeline:
  """The input pipeline of one split (see the module docstring for the order of examples).

  Args:
    source: a random-access source of one split: a TFDS data source
      (`builder.as_data_source(split)`, `tfds.data_source(...)`; its decoders do not matter,
      the records are read raw) or any sequence of dicts with the same features.
    global_batch_size: rows of a global batch, summed over processes.
    image_size: side S of the square images and masks.
    training: True: shuffled, reshuffled every epoch, remainder dropped, `num_epochs` epochs.
      False: every selected frame exactly once, in record order, the last batch padded.
    seed: seeds the shuffle and the augmentation; the same seed gives the same batches.
    num_epochs: training epochs (None = forever); evaluation allows only None or 1.
    frames_per_video: at most this many frames of each video, evenly spaced (None = all).
    masks: which of `preprocess.MASK_FEATURES` to decode and return (none by default).
    mean, std: per-channel normalisation of the [0, 1] image (one number or three).
    augment: `augment(images, rng) -> images`, on the decoded uint8 image and masks at the
      stored resolution (see `preprocess`); rng is deterministic per (seed, epoch, position).
    process_index, process_count: this process and the number of processes (default: JAX's).
    num_threads: decoding threads (default: the CPU count).
    prefetch_batches: local batches decoded ahead (default: 2 * num_threads).
    table: the split's `read_frame_table(source)`, if already read.
    video_fold: (i, n): keep only the videos of fold i of n (`video_folds`), e.g. (0, 2) and
      (1, 2) are the two halves of a training split.
    sampler: training only; replaces the per-epoch permutation and the loading of a position,
      e.g. `forgery_augmentation.ForgerySampler` (BiG-Arts composites):
      `sampler.order(table=, selected=, global_batch_size=, seed=)` maps a global position to
      an item and `sampler.loader(frame_loader)` maps (item, rng) to an example; `augment`
      still applies (the sampler's loader calls it).

  Returns:
    A `Pipeline`; `iter(pipeline)` gives local batches of `global_batch_size / process_count`.
  """
  process_index, process_count, num_threads, prefetch_batches = check_reading(
    global_batch_size,
    training,
    num_epochs,
    process_index,
    process_count,
    num_threads,
    prefetch_batches,
  )
  if image_size < 1:
    raise ValueError(f"image_size must be positive, got {image_size}")
  masks = tuple(masks)
  unknown = sorted(set(masks) - set(preprocess.MASK_FEATURES))
  if unknown or len(set(masks)) != len(masks):
    raise ValueError(f"masks must be distinct names from {preprocess.MASK_FEATURES}, got {masks}")

  reader = RecordReader(source)
  missing = sorted(set(("image",) + masks) - reader.available)
  if missing:
    raise ValueError(f"the source has no feature(s) {missing} (has {sorted(reader.available)})")
  table = read_frame_table(source) if table is None else table
  if len(table) != len(reader):
    raise ValueError(f"the frame table has {len(table)} records, the source {len(reader)}")
  selected = select_frames(table, frames_per_video)
  if video_fold is not None:
    fold, folds = video_fold
    if not 0 <= fold < folds:
      raise ValueError(f"video_fold must be (i, n) with 0 <= i < n, got {video_fold}")
    selected = selected[video_folds(table, folds)[table.video[selected]] == fold]
  local_batch_size = global_batch_size // process_count

  training_order = None
  if sampler is not None:
    training_order = lambda used, shuffle_seed: sampler.order(
      table=table, selected=selected, global_batch_size=global_batch_size, seed=shuffle_seed
    )
  order, steps_per_epoch, num_batches = global_order(
    selected,
    global_batch_size,
    training,
    seed,
    num_epochs,
    what="frames",
    training_order=training_order,
  )

  loader = _FrameLoader(
    reader=reader, table=table, image_size=image_size, masks=masks, augment=augment
  )
  collate = _Collate(
    mean=preprocess.channel_stats(mean, "mean"), std=preprocess.channel_stats(std, "std")
  )
  if sampler is not None and training:
    examples = order.random_map(
      sampler.loader(loader), seed=_derived_seed(seed, _AUGMENT_SEED_PURPOSE)
    )
  elif augment is None:
    examples = order.map(loader)
  else:
    examples = order.random_map(loader, seed=_derived_seed(seed, _AUGMENT_SEED_PURPOSE))
  local = examples.slice(slice(process_index, None, process_count))
  batches = local.batch(local_batch_size, drop_remainder=True, batch_fn=collate)
  dataset = batches.to_iter_dataset(
    grain.ReadOptions(num_threads=num_threads, prefetch_buffer_size=prefetch_batches)
  )
  return Pipeline(
    dataset=dataset,
    table=table,
    selected=selected,
    global_batch_size=global_batch_size,
    local_batch_size=local_batch_size,
    steps_per_epoch=steps_per_epoch,
    num_batches=num_batches,
  )
