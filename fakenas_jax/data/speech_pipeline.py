"""The speech input pipeline: one split of a speech corpus -> host-local numpy batches, with grain.

    builder = corpora.load_builder("synthetic_speech", data_dir)       # or asvspoof2019_la
    pipeline = make_speech_pipeline(source=builder.as_data_source("train"),
                                    global_batch_size=64, training=True, seed=0)
    iterator = iter(pipeline)          # a grain DatasetIterator
    batch = next(iterator)             # numpy arrays, global_batch_size / process_count rows
    images = audio.features(batch["audio"], key, mask=True)   # on the device, in the step

Every batch holds `audio` float32 (B, 64000): the utterance as PCM / 32768, cut to its first
4 s or repeated from its start (`audio.fit_length`, as the PC-DARTS spoofing code feeds it);
`label` int32 (0 bona fide, 1 spoof; a CM score is higher for bona fide, e.g. the bona fide
logit); `attack` int32 (index into `pipeline.attack_names`, where '-' is bona fide); `speaker`
int32 (index into `pipeline.speaker_names`); `utterance` int32 (index into
`pipeline.utterance_ids`, the split's utterances in record order); `valid` bool. Padding rows
(evaluation only) are zeros with `valid` False and -1 in `attack`, `speaker` and `utterance`.
The LFCC is not computed here: it runs on the device inside the jitted step
(`fakenas_jax.audio.features`), so the host only reads and cuts PCM.

The order of examples is the one of the face pipeline (`pipeline`), with its helpers: training
reads a per-epoch permutation of the selected utterances (`np.random.default_rng((s, e))`), cut
to whole global batches; evaluation reads them once in record order, padded; process p of P
keeps global positions p, p + P, …; the iterator state is grain's JSON `{'next_index': k}`, so
a restored iterator yields exactly the batches the uninterrupted one would have.
`utterance_fold=(i, n)` keeps fold i of n of the split, stratified by class and attack (e.g. the
two halves of the training protocol that update the weights and the architecture during a
search, as the reference does with its `trn_h` / `trn_t` lists).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import grain
import numpy as np

from fakenas_jax.audio import frontend, waveform
from fakenas_jax.data import pipeline as face_pipeline

# What the jitted step applies to `batch['audio']`: LFCC (+ frequency masking) as NHWC.
features = frontend.features

LABEL_NAMES = ("bonafide", "spoof")
BONAFIDE_ATTACK = "-"
METADATA_FEATURES = ("label", "attack_id", "speaker", "utterance_id")
# The reference weights its cross-entropy [1, 9] with bona fide = 1, spoof = 0 in its labels:
# bona fide examples weigh 9, spoofed ones 1 (about the inverse of the 2,580 : 22,800 classes of
# the ASVspoof 2019 LA training set). Indexed by our labels (0 bona fide, 1 spoof).
REFERENCE_CLASS_WEIGHTS = (9.0, 1.0)


def class_weights() -> tuple[float, float]:
  """Cross-entropy weights by label, (bona fide, spoof) = (9, 1), as the PC-DARTS spoofing code."""
  return REFERENCE_CLASS_WEIGHTS


def balanced_class_weights(labels: np.ndarray) -> tuple[float, float]:
  """(n_spoof / n_bona_fide, 1): the same idea for a corpus with another class ratio."""
  counts = np.bincount(np.asarray(labels, np.int64), minlength=2)
  if counts.size != 2 or counts.min() == 0:
    raise ValueError(
      f"need both classes (0 bona fide, 1 spoof) among the labels, got counts {counts.tolist()}"
    )
  return float(counts[1] / counts[0]), 1.0


@dataclasses.dataclass(frozen=True, eq=False)
class UtteranceTable:
  """Per-record metadata of one split; `attack` and `speaker` index the sorted name tables."""

  label: np.ndarray  # int32 (num_records,)
  attack: np.ndarray  # int32
  speaker: np.ndarray  # int32
  utterance_ids: tuple[str, ...]  # per record, in record order
  attack_names: tuple[str, ...]  # sorted; '-' (bona fide) first when present
  speaker_names: tuple[str, ...]  # sorted

  def __len__(self) -> int:
    return len(self.label)


@dataclasses.dataclass(frozen=True, eq=False)
class SpeechPipeline:
  """A configured speech pipeline; `iter(pipeline)` starts a fresh, checkpointable iterator."""

  dataset: grain.IterDataset
  table: UtteranceTable
  selected: np.ndarray  # record indices of the selected utterances, ascending
  global_batch_size: int
  local_batch_size: int
  num_samples: int
  steps_per_epoch: int  # global batches per epoch (each process yields one local batch a step)
  num_batches: int | None  # batches this iterator yields in all; None = forever

  @property
  def attack_names(self) -> tuple[str, ...]:
    return self.table.attack_names

  @property
  def speaker_names(self) -> tuple[str, ...]:
    return self.table.speaker_names

  @property
  def utterance_ids(self) -> tuple[str, ...]:
    return self.table.utterance_ids

  def __iter__(self) -> grain.DatasetIterator:
    return iter(self.dataset)


def _text(value: Any) -> str:
  return value.decode() if isinstance(value, bytes) else str(value)


def read_utterance_table(source: Any, *, chunk_size: int = 4096) -> UtteranceTable:
  """The label, attack, speaker and id of every record of `source`, no audio converted."""
  reader = face_pipeline.RecordReader(source)
  missing = sorted(set(METADATA_FEATURES + ("audio",)) - reader.available)
  if missing:
    raise ValueError(
      f"the source has no feature(s) {missing}; a speech corpus needs "
      f"{['audio', *METADATA_FEATURES]} (has {sorted(reader.available)})"
    )
  columns = {name: [] for name in METADATA_FEATURES}
  for start in range(0, len(reader), chunk_size):
    for record in reader.read_range(start, min(start + chunk_size, len(reader)), METADATA_FEATURES):
      for name in METADATA_FEATURES:
        columns[name].append(record[name])
  labels = np.asarray([int(v) for v in columns["label"]], np.int32)
  if len(labels) and (labels.min() < 0 or labels.max() > 1):
    raise ValueError(
      f"speech labels must be 0 (bona fide) or 1 (spoof), got values {sorted(set(labels.tolist()))}"
    )
  attack_names, attack = np.unique(
    np.asarray([_text(v) for v in columns["attack_id"]], dtype=str), return_inverse=True
  )
  speaker_names, speaker = np.unique(
    np.asarray([_text(v) for v in columns["speaker"]], dtype=str), return_inverse=True
  )
  return UtteranceTable(
    label=labels,
    attack=attack.astype(np.int32).reshape(-1),
    speaker=speaker.astype(np.int32).reshape(-1),
    utterance_ids=tuple(_text(v) for v in columns["utterance_id"]),
    attack_names=tuple(str(a) for a in attack_names),
    speaker_names=tuple(str(s) for s in speaker_names),
  )


def utterance_folds(table: UtteranceTable, count: int) -> np.ndarray:
  """Fold (0..count-1) of every record: round-robin by utterance id within each (label, attack).

  Every fold then holds every class and every attack in nearly equal shares.
  """
  if count < 1:
    raise ValueError(f"need at least one fold, got {count}")
  folds = np.zeros(len(table), np.int64)
  ids = np.asarray(table.utterance_ids, dtype=str)
  groups = table.label.astype(np.int64) * (len(table.attack_names) + 1) + table.attack
  for group in np.unique(groups):
    members = np.flatnonzero(groups == group)
    members = members[np.argsort(ids[members], kind="stable")]
    folds[members] = np.arange(len(members)) % count
  return folds


def decode_audio(value: Any) -> np.ndarray:
  """A stored `audio` value -> 1-D int16 PCM (raw bytes or an int16 array) or float32 samples."""
  if isinstance(value, bytes):
    return np.frombuffer(value, dtype="<i2")
  array = np.asarray(value)
  if array.ndim != 1:
    raise ValueError(f"expected mono audio of shape (num_samples,), got {array.shape}")
  if array.dtype == np.int16:
    return array
  if np.issubdtype(array.dtype, np.floating):
    return array.astype(np.float32)
  raise ValueError(f"audio must be int16 PCM or float samples, got dtype {array.dtype}")


@dataclasses.dataclass(frozen=True, eq=False)
class _UtteranceLoader:
  """Record index -> example dict (fixed-length audio, metadata), or a padding row for -1."""

  reader: Any
  table: UtteranceTable
  num_samples: int

  def __call__(self, record: int) -> dict[str, Any]:
    if record < 0:
      return {
        "audio": np.zeros(self.num_samples, np.int16),
        "label": np.int32(0),
        "attack": np.int32(-1),
        "speaker": np.int32(-1),
        "utterance": np.int32(-1),
        "valid": np.bool_(False),
      }
    samples = decode_audio(self.reader.read(record, ("audio",))["audio"])
    if samples.size == 0:
      raise ValueError(f"utterance {self.table.utterance_ids[record]!r} has no samples")
    return {
      "audio": waveform.fit_length(samples, self.num_samples),
      "label": np.int32(self.table.label[record]),
      "attack": np.int32(self.table.attack[record]),
      "speaker": np.int32(self.table.speaker[record]),
      "utterance": np.int32(record),
      "valid": np.bool_(True),
    }


def _collate(examples: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
  """Stacks a batch; int16 PCM becomes float32 / 32768 in one pass for the batch."""
  audio = [example["audio"] for example in examples]
  if all(a.dtype == np.int16 for a in audio):
    stacked = waveform.pcm16_to_float(np.stack(audio))
  else:
    stacked = np.stack([waveform.pcm16_to_float(a) if a.dtype == np.int16 else a for a in audio])
  batch = {
    name: np.stack([example[name] for example in examples])
    for name in examples[0]
    if name != "audio"
  }
  batch["audio"] = stacked.astype(np.float32, copy=False)
  return batch


def make_speech_pipeline(
  *,
  source: Any,
  global_batch_size: int,
  training: bool,
  seed: int = 0,
  num_epochs: int | None = None,
  num_samples: int = waveform.FIXED_LENGTH,
  utterance_fold: tuple[int, int] | None = None,
  process_index: int | None = None,
  process_count: int | None = None,
  num_threads: int | None = None,
  prefetch_batches: int | None = None,
  table: UtteranceTable | None = None,
) -> SpeechPipeline:
  """The input pipeline of one split of a speech corpus (see the module docstring).

  Args:
    source: a random-access source of one split: a TFDS data source of a speech corpus
      (`builder.as_data_source(split)`; records are read raw) or any sequence of dicts with
      `audio` (int16 PCM or float samples) and the metadata features.
    global_batch_size: rows of a global batch, summed over processes.
    training: True: shuffled, reshuffled every epoch, remainder dropped, `num_epochs` epochs.
      False: every selected utterance exactly once, in record order, the last batch padded.
    seed: seeds the shuffle; the same seed gives the same batches.
    num_epochs: training epochs (None = forever); evaluation allows only None or 1.
    num_samples: the fixed length every utterance is cut or repeated to (64,000 = 4 s).
    utterance_fold: (i, n): keep only fold i of n (`utterance_folds`).
    process_index, process_count: this process and the number of processes (default: JAX's).
    num_threads: reading threads (default: the CPU count).
    prefetch_batches: local batches read ahead (default: 2 * num_threads).
    table: the split's `read_utterance_table(source)`, if already read.

  Returns:
    A `SpeechPipeline`; `iter(pipeline)` gives local batches of
    `global_batch_size / process_count` rows.
  """
  process_index, process_count, num_threads, prefetch_batches = face_pipeline.check_reading(
    global_batch_size,
    training,
    num_epochs,
    process_index,
    process_count,
    num_threads,
    prefetch_batches,
  )
  if num_samples < 1:
    raise ValueError(f"num_samples must be positive, got {num_samples}")

  reader = face_pipeline.RecordReader(source)
  table = read_utterance_table(source) if table is None else table
  if len(table) != len(reader):
    raise ValueError(f"the utterance table has {len(table)} records, the source {len(reader)}")
  selected = np.arange(len(table), dtype=np.int64)
  if utterance_fold is not None:
    fold, folds = utterance_fold
    if not 0 <= fold < folds:
      raise ValueError(f"utterance_fold must be (i, n) with 0 <= i < n, got {utterance_fold}")
    selected = selected[utterance_folds(table, folds) == fold]
  local_batch_size = global_batch_size // process_count

  order, steps_per_epoch, num_batches = face_pipeline.global_order(
    selected, global_batch_size, training, seed, num_epochs, what="utterances"
  )

  examples = order.map(_UtteranceLoader(reader=reader, table=table, num_samples=num_samples))
  local = examples.slice(slice(process_index, None, process_count))
  batches = local.batch(local_batch_size, drop_remainder=True, batch_fn=_collate)
  dataset = batches.to_iter_dataset(
    grain.ReadOptions(num_threads=num_threads, prefetch_buffer_size=prefetch_batches)
  )
  return SpeechPipeline(
    dataset=dataset,
    table=table,
    selected=selected,
    global_batch_size=global_batch_size,
    local_batch_size=local_batch_size,
    num_samples=num_samples,
    steps_per_epoch=steps_per_epoch,
    num_batches=num_batches,
  )


def read_conditions(source: Any, *, chunk_size: int = 4096) -> dict[str, dict[str, str]]:
  """{column: {utterance id: value}} of the text metadata a corpus has beyond the speech fields
  (ASVspoof 2021: codec, transmission, source; ASVspoof 5: codec, codec_q, …), no audio read.
  Empty for corpora without such columns (ASVspoof 2019 LA, synthetic speech)."""
  reader = face_pipeline.RecordReader(source)
  columns = sorted(reader.available - set(METADATA_FEATURES) - {"audio"})
  result: dict[str, dict[str, str]] = {name: {} for name in columns}
  if not columns:
    return result
  names = tuple(columns) + ("utterance_id",)
  for start in range(0, len(reader), chunk_size):
    for record in reader.read_range(start, min(start + chunk_size, len(reader)), names):
      utterance = _text(record["utterance_id"])
      for name in columns:
        result[name][utterance] = _text(record[name])
  return result
