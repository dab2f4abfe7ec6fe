"""BiG-Arts forgery-face augmentation (§3.3), the targets: every source frame's nearest real
frames of other identities by their normalised landmarks (a KD-tree built once per split), read
from the records without decoding an image (`pipeline.RecordReader`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import spatial

from fakenas_jax.data import pipeline, preprocess
from fakenas_jax.data.forgery_geometry import NUM_LANDMARKS

# ----------------------------------------------------------------------------------------------
# The landmark index.


def normalised_landmarks(landmarks: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
  """(N, 68, 2) pixels → (N, 136) float64: x / width, y / height."""
  landmarks = np.asarray(landmarks, np.float64).reshape(len(landmarks), -1, 2)
  return (landmarks / np.asarray(frame_size, np.float64)).reshape(len(landmarks), -1)


@dataclasses.dataclass(frozen=True, eq=False)
class LandmarkIndex:
  """Nearest real frames of another identity, by normalised landmarks, through a KD-tree.

  `vectors`/`identity` describe the targets (real frames); `nearest(queries, excluded, k)` gives
  for each query the k nearest targets whose identity is not among its excluded ones.
  """

  vectors: np.ndarray  # float64 (M, 136)
  identity: np.ndarray  # str (M,)
  tree: spatial.cKDTree

  @classmethod
  def build(cls, vectors: np.ndarray, identity: Sequence[str]) -> LandmarkIndex:
    vectors = np.asarray(vectors, np.float64)
    if vectors.ndim != 2 or not len(vectors):
      raise ValueError(f"need a non-empty (M, D) array of target vectors, got {vectors.shape}")
    return cls(
      vectors=vectors, identity=np.asarray(identity, dtype=str), tree=spatial.cKDTree(vectors)
    )

  def nearest(
    self, queries: np.ndarray, excluded: Sequence[Sequence[str]], k: int = 1
  ) -> tuple[np.ndarray, np.ndarray]:
    """(rows (Q, k) into the targets, distances (Q, k)); -1 / inf where fewer than k qualify."""
    queries = np.asarray(queries, np.float64)
    count = len(self.vectors)
    rows = np.full((len(queries), k), -1, np.int64)
    distances = np.full((len(queries), k), np.inf)
    pending = np.arange(len(queries))
    ask = min(count, max(4 * k, 8))
    while len(pending):
      found_d, found_i = self.tree.query(queries[pending], k=ask)
      found_d, found_i = found_d.reshape(len(pending), -1), found_i.reshape(len(pending), -1)
      retry = []
      for row, query in enumerate(pending):
        banned = set(excluded[query])
        good = [
          (d, i)
          for d, i in zip(found_d[row], found_i[row])
          if i < count and self.identity[i] not in banned
        ][:k]
        if len(good) < k and ask < count:
          retry.append(query)
          continue
        for column, (d, i) in enumerate(good):
          rows[query, column], distances[query, column] = i, d
      pending = np.asarray(retry, np.int64)
      ask = min(count, ask * 4)
    return rows, distances


# ----------------------------------------------------------------------------------------------
# Reading what the index needs from a split.


@dataclasses.dataclass(frozen=True, eq=False)
class IndexFeatures:
  """Landmarks and identities of some records of a split."""

  records: np.ndarray  # int64 (N,)
  landmarks: np.ndarray  # float32 (N, 68, 2)
  identity: np.ndarray  # str (N,): the person shown (target of a fake); the video id if unknown
  source_identity: np.ndarray  # str (N,): a fake's donor, '' if none or unknown
  frame_size: tuple[int, int]  # (width, height) of the split's frames


INDEX_FEATURES = ("landmarks", "identity", "source_identity", "video_id")


def _identity_text(value: Any) -> str:
  if isinstance(value, bytes):
    value = value.decode()
  if isinstance(value, (int, np.integer)):
    return "" if int(value) < 0 else str(int(value))
  return str(value)


def _frame_size(source: Any, first: int) -> tuple[int, int]:
  info = getattr(source, "dataset_info", None)
  if info is not None:
    shape = info.features["image"].shape
    if shape[0] and shape[1]:
      return int(shape[1]), int(shape[0])
  record = source[int(first)]
  image = preprocess.decode_image(record["image"], channels=3)
  return int(image.shape[1]), int(image.shape[0])


def read_index_features(
  source: Any, records: Sequence[int], *, chunk_size: int = 4096
) -> IndexFeatures:
  """The landmarks and identities of `records` of `source` (a TFDS data source read raw, or a
  sequence of dicts), no image decoded (but one, for the frame size, when the source has no
  static image shape)."""
  records = np.asarray(records, np.int64)
  if not len(records):
    raise ValueError("no records to index")
  rows = pipeline.RecordReader(source).read_many(records, (), INDEX_FEATURES, chunk_size=chunk_size)
  if any("landmarks" not in row for row in rows):
    raise ValueError(
      "forgery augmentation needs the 68 `landmarks` of every frame; this source has none"
    )
  landmarks = np.stack(
    [np.asarray(row["landmarks"], np.float32).reshape(NUM_LANDMARKS, 2) for row in rows]
  )
  identity = [
    _identity_text(row.get("identity", "")) or _identity_text(row.get("video_id", ""))
    for row in rows
  ]
  source_identity = [_identity_text(row.get("source_identity", "")) for row in rows]
  return IndexFeatures(
    records=records,
    landmarks=landmarks,
    identity=np.asarray(identity, str),
    source_identity=np.asarray(source_identity, str),
    frame_size=_frame_size(source, records[0]),
  )


@dataclasses.dataclass(frozen=True, eq=False)
class TargetTable:
  """For every candidate source record: its `candidates` nearest real targets (record ids)."""

  features: IndexFeatures
  index: LandmarkIndex
  target_records: np.ndarray  # int64 (M,) records of the index's rows
  source_records: np.ndarray  # int64 (S,)
  targets: np.ndarray  # int64 (S, candidates) records; -1 where none
  distances: np.ndarray  # float64 (S, candidates)

  def targets_of(self, record: int) -> np.ndarray:
    row = np.searchsorted(self.source_records, record)
    if row >= len(self.source_records) or self.source_records[row] != record:
      raise KeyError(f"record {record} is not a source of this table")
    return self.targets[row]


def build_target_table(
  source: Any, real_records: Sequence[int], fake_records: Sequence[int], candidates: int = 1
) -> TargetTable:
  """Reads the landmarks once and finds every source's nearest real targets of other identities.

  Sources are `real_records` (for (Real, Real)) and `fake_records` (for (Fake, Real)); targets are
  the `real_records`. A fake excludes its identity and its source identity.
  """
  real_records = np.unique(np.asarray(real_records, np.int64))
  fake_records = np.unique(np.asarray(fake_records, np.int64))
  if not len(real_records):
    raise ValueError("forgery augmentation needs real frames to blend into; the split has none")
  everything = np.union1d(real_records, fake_records)
  features = read_index_features(source, everything)
  rows_of = {int(r): i for i, r in enumerate(features.records)}
  real_rows = np.asarray([rows_of[int(r)] for r in real_records])
  vectors = normalised_landmarks(features.landmarks, features.frame_size)
  index = LandmarkIndex.build(vectors[real_rows], features.identity[real_rows])
  excluded = [
    tuple(x for x in (features.identity[i], features.source_identity[i]) if x)
    for i in range(len(everything))
  ]
  found, distances = index.nearest(vectors, excluded, candidates)
  targets = np.where(found >= 0, real_records[np.maximum(found, 0)], -1)
  return TargetTable(
    features=features,
    index=index,
    target_records=real_records,
    source_records=everything,
    targets=targets,
    distances=distances,
  )
