"""BiG-Arts forgery-face augmentation (§3.3, §4.1): (Real, Real) and (Fake, Real) composites.

A composite (A, B) pastes a source face A into a target frame B of another identity:

* B is the real frame whose 68 landmarks are nearest to A's (Euclidean distance of the landmark
  vectors, each coordinate divided by the frame's width or height so corpora of any resolution
  compare), among the real frames of identities other than A's (and, for a fake A, other than
  its source identity). The nearest targets are looked up in a `LandmarkIndex` (a KD-tree over
  the normalised 136-d vectors of the real frames), computed once for every possible source of
  the split when the training pipeline is made — never a scan per sample.
* (Real, Real): A is a real frame; the blending mask is M~ = T(M), M the convex hull of A's
  landmarks and T a random piecewise-affine warp. It has no intrinsic artifacts: M_In = 0.
* (Fake, Real): A is a fake frame; M' is the region it changed (its stored intrinsic mask, the
  convex hull of |A - original| > gamma; A's face hull where a corpus has no artifact masks),
  M'' the convex hull of its landmarks and M~ = M' ⊙ T(M''); M_In = M~.
* The composite is M~ ⊙ A + (1 - M~) ⊙ B, with A first aligned on B by the least-squares
  similarity transform between their landmarks (`align=True`; the paper pastes A as it is,
  which `align=False` does); M_Ex = D(M~) - E(M~) (`data.masks.extrinsic_mask`) in both cases,
  and the face hull is B's.

T moves each node of A's landmark hull (its vertices and `nodes` points evenly spaced in angle
around the landmarks' centroid) towards the centroid by a random share in [0, deformation];
the shares are drawn at a few control angles and interpolated between them, so outlines are
smooth; the centroid and a ring of far nodes outside the frame stay put, and the plane is warped
affinely on each triangle of the fan centroid–hull nodes–far nodes. So T(M) is a random
star-shaped polygon inside the hull: the blending mask never leaves the face.

Batches (§4.1): half real, half fake, and the fakes a third original fakes, a third (R, R), a
third (F, R). `ForgerySampler` plugs into `data.pipeline.make_pipeline(sampler=...)`: in every
global batch the slots take those kinds in those numbers (the remainder of the fakes' thirds
rotates over the kinds from batch to batch), at positions shuffled per batch; each kind reads
its own shuffled stream of the real (real, (R, R)) or fake (fake, (F, R)) frames, reshuffled
every pass, so the order depends only on the seed and a resumed iterator repeats the batches.
Examples carry `forgery_kind` (0 real, 1 original fake, 2 (R, R), 3 (F, R)); composites have
`method` -1 and the video and frame of their target. The pipeline's augmentation (JPEG at a
quality in [75, 100], `degradations.random_jpeg`, BiG-Arts' only augmentation) runs after
compositing, on every example.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from fakenas_jax.data import preprocess
from fakenas_jax.data.forgery_geometry import (  # noqa: F401 (the method's parts, one import)
  FAKE,
  FAKE_REAL,
  KIND_NAMES,
  NUM_LANDMARKS,
  REAL,
  REAL_REAL,
  Composite,
  PiecewiseAffineWarp,
  compose,
  random_hull_warp,
  similarity_transform,
  warp_mask,
)
from fakenas_jax.data.forgery_targets import (  # noqa: F401
  IndexFeatures,
  LandmarkIndex,
  TargetTable,
  build_target_table,
  normalised_landmarks,
  read_index_features,
)

# ----------------------------------------------------------------------------------------------
# The training pipeline's sampler.


def batch_kind_counts(batch_size: int, batch: int, real_share: float = 0.5) -> np.ndarray:
  """Slots of each kind (real, fake, (R, R), (F, R)) in global batch `batch`."""
  real = int(round(batch_size * real_share))
  base, remainder = divmod(batch_size - real, 3)
  counts = np.array([real, base, base, base], np.int64)
  for j in range(remainder):
    counts[1 + (batch + j) % 3] += 1
  return counts


def kinds_before(batch_size: int, batch: int, kind: int, real_share: float = 0.5) -> int:
  """Slots of `kind` in global batches 0 .. batch - 1 (closed form of `batch_kind_counts`)."""
  real = int(round(batch_size * real_share))
  if kind == REAL:
    return real * batch
  base, remainder = divmod(batch_size - real, 3)
  fake_kind = kind - 1
  full, part = divmod(batch, 3)
  extra = full * remainder + sum(
    1 for b in range(3 * full, 3 * full + part) if (fake_kind - b) % 3 < remainder
  )
  return base * batch + extra


@functools.lru_cache(maxsize=64)
def _stream_permutation(size: int, seed: int, kind: int, epoch: int) -> np.ndarray:
  permutation = np.random.default_rng([seed, 101, kind, epoch]).permutation(size)
  permutation.flags.writeable = False
  return permutation


@functools.lru_cache(maxsize=64)
def _batch_slots(
  batch_size: int, batch: int, real_share: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
  """(kind of every slot, rank of the slot among its kind's slots) of one global batch."""
  counts = batch_kind_counts(batch_size, batch, real_share)
  kinds = np.random.default_rng([seed, 103, batch]).permutation(np.repeat(np.arange(4), counts))
  ranks = np.zeros(batch_size, np.int64)
  for kind in range(4):
    where = np.flatnonzero(kinds == kind)
    ranks[where] = np.arange(len(where))
  kinds.flags.writeable = ranks.flags.writeable = False
  return kinds, ranks


@dataclasses.dataclass(frozen=True, eq=False)
class ForgeryOrder:
  """Global position → (kind, record): the slot's kind in its batch and the next frame of that
  kind's stream."""

  pools: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # per kind: records to draw from
  batch_size: int
  real_share: float
  seed: int

  def __call__(self, position: int) -> tuple[int, int]:
    batch, slot = divmod(int(position), self.batch_size)
    kinds, ranks = _batch_slots(self.batch_size, batch, self.real_share, self.seed)
    kind = int(kinds[slot])
    stream = kinds_before(self.batch_size, batch, kind, self.real_share) + int(ranks[slot])
    pool = self.pools[kind]
    epoch, offset = divmod(stream, len(pool))
    return kind, int(pool[_stream_permutation(len(pool), self.seed, kind, epoch)[offset]])


@dataclasses.dataclass(frozen=True, eq=False)
class ForgeryLoader:
  """(kind, record) → example: a plain frame, or a composite with its masks (module docstring)."""

  frame_loader: Any  # data.pipeline._FrameLoader
  table: TargetTable
  deformation: float
  nodes: int
  align: bool
  has_intrinsic: bool
  has_artifact_flag: bool

  def __call__(self, item: tuple[int, int], rng: np.random.Generator) -> dict[str, Any]:
    kind, record = item
    loader = self.frame_loader
    if kind in (REAL, FAKE):
      example = loader(record, rng)
      example["forgery_kind"] = np.int32(kind)
      return example
    choices = self.table.targets_of(record)
    choices = choices[choices >= 0]
    target = int(choices[rng.integers(len(choices))]) if len(choices) > 1 else int(choices[0])
    wanted = ("image",)
    if kind == FAKE_REAL and self.has_intrinsic:
      wanted += ("intrinsic",)
    if kind == FAKE_REAL and self.has_artifact_flag:
      wanted += ("has_artifact_masks",)
    source = loader.reader.read(record, wanted)
    target_image = preprocess.decode_image(
      loader.reader.read(target, ("image",))["image"], channels=3
    )
    intrinsic = None
    if "intrinsic" in source and bool(source.get("has_artifact_masks", True)):
      intrinsic = preprocess.decode_image(source["intrinsic"], channels=1)[..., 0]
    features = self.table.features
    rows = np.searchsorted(features.records, [record, target])
    composite = compose(
      kind,
      preprocess.decode_image(source["image"], channels=3),
      features.landmarks[rows[0]],
      target_image,
      features.landmarks[rows[1]],
      rng,
      source_intrinsic=intrinsic,
      deformation=self.deformation,
      nodes=self.nodes,
      align=self.align,
    )
    images = {"image": composite.image}
    for name in loader.masks:
      images[name] = getattr(composite, name)[..., None]
    if loader.augment is not None:
      augmented = loader.augment(images, rng)
      images = preprocess._checked_augmentation(augmented, images)
    example = {name: preprocess.resize(array, loader.image_size) for name, array in images.items()}
    example.update(
      label=np.int32(1),
      video=np.int32(loader.table.video[target]),
      frame_index=np.int32(loader.table.frame_index[target]),
      method=np.int32(-1),
      valid=np.bool_(True),
      forgery_kind=np.int32(kind),
    )
    return example


@dataclasses.dataclass
class ForgerySampler:
  """The forgery-face augmentation as a training sampler of `data.pipeline.make_pipeline`.

  The pipeline calls `order(...)` once (the target table is computed there, over the selected
  frames) and `loader(frame_loader)` once.
  """

  source: Any
  real_share: float = 0.5
  deformation: float = 0.3
  nodes: int = 16
  candidates: int = 1
  align: bool = True
  target_table: TargetTable | None = None

  def __post_init__(self):
    if not 0 < self.real_share < 1:
      raise ValueError(f"real_share must be in (0, 1), got {self.real_share}")
    if self.candidates < 1:
      raise ValueError(f"candidates must be >= 1, got {self.candidates}")
    if not 0 <= self.deformation < 1:
      raise ValueError(f"deformation must be in [0, 1), got {self.deformation}")

  @classmethod
  def from_config(cls, source: Any, config: Any | None) -> ForgerySampler:
    """From a ConfigDict / mapping with any of the fields (the defaults for the others)."""
    values = dict(config.to_dict() if hasattr(config, "to_dict") else (config or {}))
    names = {field.name for field in dataclasses.fields(cls)} - {"source", "target_table"}
    unknown = sorted(set(values) - names)
    if unknown:
      raise ValueError(f"unknown forgery augmentation field(s) {unknown}; known: {sorted(names)}")
    return cls(source=source, **values)

  def order(
    self, *, table: Any, selected: np.ndarray, global_batch_size: int, seed: int
  ) -> ForgeryOrder:
    selected = np.asarray(selected, np.int64)
    labels = table.label[selected]
    real, fake = selected[labels == 0], selected[labels == 1]
    if not len(real) or not len(fake):
      raise ValueError(
        f"forgery augmentation needs real and fake training frames; the "
        f"selection has {len(real)} real and {len(fake)} fake"
      )
    self.target_table = build_target_table(self.source, real, fake, self.candidates)
    has_target = self.target_table.targets[:, 0] >= 0
    sources = self.target_table.source_records[has_target]
    real_sources = np.intersect1d(real, sources)
    fake_sources = np.intersect1d(fake, sources)
    if not len(real_sources) or not len(fake_sources):
      raise ValueError("forgery augmentation needs real frames of at least two identities")
    pools = (real, fake, real_sources, fake_sources)
    return ForgeryOrder(
      pools=pools,
      batch_size=int(global_batch_size),
      real_share=float(self.real_share),
      seed=int(seed),
    )

  def loader(self, frame_loader: Any) -> ForgeryLoader:
    if self.target_table is None:
      raise RuntimeError("ForgerySampler.order must run before ForgerySampler.loader")
    available = frame_loader.reader.available
    return ForgeryLoader(
      frame_loader=frame_loader,
      table=self.target_table,
      deformation=self.deformation,
      nodes=self.nodes,
      align=self.align,
      has_intrinsic="intrinsic" in available,
      has_artifact_flag="has_artifact_masks" in available,
    )
