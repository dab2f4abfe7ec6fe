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
import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from scipy import spatial
from tensorflow_datasets.core.data_sources import array_record as tfds_array_record
from tensorflow_datasets.proto import tf_example_pb2

from fakenas_jax.data import masks as mask_lib
from fakenas_jax.data import preprocess

REAL, FAKE, REAL_REAL, FAKE_REAL = 0, 1, 2, 3
KIND_NAMES = ("real", "fake", "real_real", "fake_real")
NUM_LANDMARKS = 68
_FAR_FACTOR = 4.0  # far nodes at this many frame sides from the centroid


# ----------------------------------------------------------------------------------------------
# The random piecewise-affine deformation of a hull mask.


@dataclasses.dataclass(frozen=True)
class PiecewiseAffineWarp:
  """A piecewise-affine map of the plane: triangle t of `source` goes onto triangle t of
  `target`."""

  source: np.ndarray  # float64 (N, 2) nodes (x, y)
  target: np.ndarray  # float64 (N, 2)
  triangles: np.ndarray  # int (T, 3) node indices
  centre: np.ndarray  # float64 (2,)
  hull: np.ndarray  # float64 (V, 2): the hull polygon the warp shrinks


def _ray_hull_distances(centre: np.ndarray, angles: np.ndarray, hull: np.ndarray) -> np.ndarray:
  """Distance from `centre` (inside the convex polygon `hull`) to its boundary along each angle."""
  directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (A, 2)
  starts, ends = hull, np.roll(hull, -1, axis=0)  # edges (E, 2)
  edges = ends - starts
  offset = starts - centre  # (E, 2)
  # centre + t d = start + s e  ->  t d - s e = offset; solve per (angle, edge).
  cross = lambda a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
  denominator = cross(directions[:, None, :], -edges[None, :, :])  # (A, E)
  with np.errstate(divide="ignore", invalid="ignore"):
    t = cross(offset[None, :, :], -edges[None, :, :]) / denominator
    s = cross(directions[:, None, :], offset[None, :, :]) / denominator
  valid = (np.abs(denominator) > 1e-12) & (s >= -1e-9) & (s <= 1 + 1e-9) & (t > 0)
  return np.where(valid, t, np.inf).min(axis=1)


def random_hull_warp(landmarks: np.ndarray, frame_size: tuple[int, int], rng: np.random.Generator,
                     deformation: float, nodes: int = 16, controls: int = 6
                     ) -> PiecewiseAffineWarp:
  """T: the landmark hull's nodes pulled towards the centroid by random shares in [0, deformation].

  `frame_size` is (width, height). The shares are drawn at `controls` angles and interpolated
  linearly (periodically) to the nodes' angles. See the module docstring for the triangulation.
  """
  if controls < 1:
    raise ValueError(f"need at least one control angle, got {controls}")
  if not 0 <= deformation < 1:
    raise ValueError(f"deformation must be in [0, 1), got {deformation}")
  if nodes < 4:
    raise ValueError(f"need at least 4 angular nodes, got {nodes}")
  points = np.asarray(landmarks, np.float64).reshape(-1, 2)
  hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2).astype(np.float64)
  centre = points.mean(axis=0)
  if len(hull) < 3:
    raise ValueError("the landmarks span no area; cannot deform their hull")
  vertex_angles = np.arctan2(hull[:, 1] - centre[1], hull[:, 0] - centre[0])
  phase = rng.uniform(0.0, 2 * math.pi / nodes)
  sample_angles = phase + 2 * math.pi * np.arange(nodes) / nodes
  sample_angles = np.arctan2(np.sin(sample_angles), np.cos(sample_angles))
  angles = np.concatenate([vertex_angles, sample_angles])
  order = np.argsort(angles, kind="stable")
  angles = angles[order]
  keep = np.r_[True, np.diff(angles) > 1e-6]
  if angles[-1] - angles[0] > 2 * math.pi - 1e-6:  # the last wraps onto the first
    keep[-1] = False
  angles = angles[keep]
  radii = _ray_hull_distances(centre, angles, hull)
  if not np.all(np.isfinite(radii)):
    raise ValueError("the landmarks' centroid is not inside their hull")
  directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
  boundary = centre + radii[:, None] * directions
  # Random shares at `controls` evenly spaced angles, interpolated around the circle: smooth
  # outlines rather than a jagged star.
  control_angles = phase + 2 * math.pi * np.arange(controls) / controls
  shares = rng.random(controls)
  factors = 1.0 - deformation * np.interp(angles, control_angles, shares, period=2 * math.pi)
  moved = centre + (factors * radii)[:, None] * directions
  far = centre + _FAR_FACTOR * max(frame_size) * directions
  count = len(angles)
  source = np.concatenate([centre[None], boundary, far])
  target = np.concatenate([centre[None], moved, far])
  triangles = []
  for k in range(count):
    k1 = (k + 1) % count
    inner, inner1, outer, outer1 = 1 + k, 1 + k1, 1 + count + k, 1 + count + k1
    triangles += [(0, inner, inner1), (inner, inner1, outer), (inner1, outer1, outer)]
  return PiecewiseAffineWarp(source, target, np.asarray(triangles), centre, hull)


_SUBPIXEL_SHIFT = 4


def warp_mask(mask: np.ndarray, warp: PiecewiseAffineWarp) -> np.ndarray:
  """The mask (H, W) uint8 moved by the warp (nearest neighbour): out(T(p)) = mask(p).

  The target triangles are rasterised into a map of triangle ids; every covered output pixel
  is then mapped back through its triangle's inverse affine map, all pixels at once. Triangles
  whose source holds no mask pixel are left out (they map background to background).
  """
  height, width = mask.shape[:2]
  out = np.zeros((height, width), np.uint8)
  ys, xs = np.nonzero(mask)
  if not len(xs):
    return out
  content_lo = np.array([xs.min() - 1, ys.min() - 1])
  content_hi = np.array([xs.max() + 1, ys.max() + 1])
  sources = warp.source[warp.triangles]  # (T, 3, 2)
  targets = warp.target[warp.triangles]
  relevant = np.flatnonzero(np.all(sources.max(axis=1) >= content_lo, axis=1)
                            & np.all(sources.min(axis=1) <= content_hi, axis=1))
  if len(relevant) >= np.iinfo(np.uint16).max:
    raise ValueError("too many triangles for one warp")
  # Inverse affine maps of all relevant triangles at once: [x y 1] of the target corners times
  # the (3, 2) solution gives the source corners.
  corners = np.concatenate([targets[relevant], np.ones((len(relevant), 3, 1))], axis=2)
  inverse = np.zeros((len(relevant) + 1, 3, 2))  # id 0: no triangle
  inverse[1:] = np.linalg.solve(corners, sources[relevant])
  ids = np.zeros((height, width), np.uint16)
  scaled = np.round(targets[relevant] * (1 << _SUBPIXEL_SHIFT)).astype(np.int32)
  for number, triangle in enumerate(scaled, start=1):
    cv2.fillConvexPoly(ids, triangle, number, lineType=cv2.LINE_8, shift=_SUBPIXEL_SHIFT)
  covered_y, covered_x = np.nonzero(ids)
  if not len(covered_x):
    return out
  matrices = inverse[ids[covered_y, covered_x]]  # (P, 3, 2)
  source_x = np.rint(matrices[:, 0, 0] * covered_x + matrices[:, 1, 0] * covered_y
                     + matrices[:, 2, 0]).astype(np.int64)
  source_y = np.rint(matrices[:, 0, 1] * covered_x + matrices[:, 1, 1] * covered_y
                     + matrices[:, 2, 1]).astype(np.int64)
  valid = (source_x >= 0) & (source_x < width) & (source_y >= 0) & (source_y < height)
  out[covered_y[valid], covered_x[valid]] = mask[source_y[valid], source_x[valid]]
  return out


# ----------------------------------------------------------------------------------------------
# Compositing.


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
  """The 2×3 least-squares similarity (rotation, uniform scale, shift): source onto target."""
  source = np.asarray(source, np.float64).reshape(-1, 2)
  target = np.asarray(target, np.float64).reshape(-1, 2)
  mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
  centred_s, centred_t = source - mean_s, target - mean_t
  variance = (centred_s ** 2).sum() / len(source)
  if variance <= 0:
    raise ValueError("the source landmarks are all at one point")
  covariance = centred_t.T @ centred_s / len(source)
  u, singular, vt = np.linalg.svd(covariance)
  sign = np.eye(2)
  if np.linalg.det(u @ vt) < 0:
    sign[1, 1] = -1.0
  rotation = u @ sign @ vt
  scale = np.trace(np.diag(singular) @ sign) / variance
  shift = mean_t - scale * rotation @ mean_s
  return np.hstack([scale * rotation, shift[:, None]])


@dataclasses.dataclass(frozen=True, eq=False)
class Composite:
  """A (Real, Real) or (Fake, Real) forgery face and its masks, all uint8 at B's size."""

  image: np.ndarray  # (H, W, 3)
  blend: np.ndarray  # (H, W) {0, 255}: M~, where the pixels come from A (in B's frame)
  intrinsic: np.ndarray  # (H, W) {0, 255}: M~ for (F, R), zero for (R, R)
  extrinsic: np.ndarray  # (H, W) {0, 255}: D(M~) - E(M~)
  face_hull: np.ndarray  # (H, W) {0, 255}: the hull of B's landmarks
  transform: np.ndarray  # (2, 3): A's pixels → B's pixels
  kind: int


def compose(kind: int, source_image: np.ndarray, source_landmarks: np.ndarray,
            target_image: np.ndarray, target_landmarks: np.ndarray, rng: np.random.Generator,
            *, source_intrinsic: np.ndarray | None = None, deformation: float = 0.3,
            nodes: int = 16, align: bool = True) -> Composite:
  """Blends source A into target B (module docstring). Masks are (H, W) uint8 {0, 255}.

  `source_intrinsic` is A's changed region M' (for kind FAKE_REAL); when it is None or empty,
  A's face hull stands in for it.
  """
  if kind not in (REAL_REAL, FAKE_REAL):
    raise ValueError(f"kind must be REAL_REAL ({REAL_REAL}) or FAKE_REAL ({FAKE_REAL}), got "
                     f"{kind}")
  height, width = target_image.shape[:2]
  source_landmarks = np.asarray(source_landmarks, np.float64).reshape(-1, 2)
  if source_image.shape[:2] != (height, width):
    factor = np.array([width / source_image.shape[1], height / source_image.shape[0]])
    source_image = cv2.resize(source_image, (width, height), interpolation=cv2.INTER_LINEAR)
    source_landmarks = source_landmarks * factor
    if source_intrinsic is not None:
      source_intrinsic = cv2.resize(source_intrinsic, (width, height),
                                    interpolation=cv2.INTER_NEAREST)
  hull = mask_lib.face_hull_mask(source_landmarks, height) if height == width else (
      _hull_mask(source_landmarks, (height, width)))
  deformed = warp_mask(hull, random_hull_warp(source_landmarks, (width, height), rng,
                                              deformation, nodes))
  if kind == FAKE_REAL:
    changed = source_intrinsic.reshape(height, width) if source_intrinsic is not None else None
    if changed is None or not changed.any():
      changed = hull
    blend = np.minimum(changed, deformed)
    if not blend.any():  # the deformation missed a small changed region: keep it whole
      blend = changed
  else:
    blend = deformed
  if not blend.any():
    blend = hull
  transform = (similarity_transform(source_landmarks, target_landmarks) if align
               else np.array([[1.0, 0, 0], [0, 1.0, 0]]))
  if align:
    source_image = cv2.warpAffine(source_image, transform, (width, height),
                                  flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    blend = cv2.warpAffine(blend, transform, (width, height), flags=cv2.INTER_NEAREST,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
  inside = blend > 0
  image = np.where(inside[..., None], source_image, target_image).astype(np.uint8)
  blend = np.where(inside, 255, 0).astype(np.uint8)
  intrinsic = blend.copy() if kind == FAKE_REAL else np.zeros_like(blend)
  target_hull = (mask_lib.face_hull_mask(target_landmarks, height) if height == width
                 else _hull_mask(np.asarray(target_landmarks), (height, width)))
  return Composite(image=image, blend=blend, intrinsic=intrinsic,
                   extrinsic=mask_lib.extrinsic_mask(blend), face_hull=target_hull,
                   transform=transform, kind=kind)


def _hull_mask(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
  mask = np.zeros(shape, np.uint8)
  hull = cv2.convexHull(np.round(landmarks).astype(np.int32).reshape(-1, 1, 2))
  cv2.fillConvexPoly(mask, hull, 255)
  return mask


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
    return cls(vectors=vectors, identity=np.asarray(identity, dtype=str),
               tree=spatial.cKDTree(vectors))

  def nearest(self, queries: np.ndarray, excluded: Sequence[Sequence[str]],
              k: int = 1) -> tuple[np.ndarray, np.ndarray]:
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
        good = [(d, i) for d, i in zip(found_d[row], found_i[row])
                if i < count and self.identity[i] not in banned][:k]
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


def _identity_text(value: Any) -> str:
  if isinstance(value, bytes):
    value = value.decode()
  if isinstance(value, (int, np.integer)):
    return "" if int(value) < 0 else str(int(value))
  return str(value)


def _parse_index_features(serialized: bytes) -> dict[str, Any]:
  features = tf_example_pb2.Example.FromString(serialized).features.feature
  values: dict[str, Any] = {}
  for name in ("landmarks", "identity", "source_identity", "video_id"):
    if name not in features:
      continue
    feature = features[name]
    kind = feature.WhichOneof("kind")
    if kind == "float_list":
      values[name] = np.asarray(feature.float_list.value, np.float32)
    elif kind == "int64_list":
      values[name] = feature.int64_list.value[0]
    elif kind == "bytes_list":
      values[name] = feature.bytes_list.value[0]
  return values


def _frame_size(source: Any, first: int) -> tuple[int, int]:
  info = getattr(source, "dataset_info", None)
  if info is not None:
    shape = info.features["image"].shape
    if shape[0] and shape[1]:
      return int(shape[1]), int(shape[0])
  record = source[int(first)]
  image = preprocess.decode_image(record["image"], channels=3)
  return int(image.shape[1]), int(image.shape[0])


def read_index_features(source: Any, records: Sequence[int], *,
                        chunk_size: int = 4096) -> IndexFeatures:
  """The landmarks and identities of `records` of `source` (a TFDS data source read raw, or a
  sequence of dicts), no image decoded (but one, for the frame size, when the source has no
  static image shape)."""
  records = np.asarray(records, np.int64)
  if not len(records):
    raise ValueError("no records to index")
  rows: list[dict[str, Any]] = []
  if isinstance(source, tfds_array_record.ArrayRecordDataSource):
    raw = source.data_source
    for start in range(0, len(records), chunk_size):
      chunk = records[start:start + chunk_size].tolist()
      rows += [_parse_index_features(item) for item in raw.__getitems__(chunk)]
  else:
    for record in records:
      item = source[int(record)]
      rows.append({name: item[name] for name in ("landmarks", "identity", "source_identity",
                                                 "video_id") if name in item})
  if any("landmarks" not in row for row in rows):
    raise ValueError("forgery augmentation needs the 68 `landmarks` of every frame; this source "
                     "has none")
  landmarks = np.stack([np.asarray(row["landmarks"], np.float32).reshape(NUM_LANDMARKS, 2)
                        for row in rows])
  identity = [_identity_text(row.get("identity", "")) or _identity_text(row.get("video_id", ""))
              for row in rows]
  source_identity = [_identity_text(row.get("source_identity", "")) for row in rows]
  return IndexFeatures(records=records, landmarks=landmarks, identity=np.asarray(identity, str),
                       source_identity=np.asarray(source_identity, str),
                       frame_size=_frame_size(source, records[0]))


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


def build_target_table(source: Any, real_records: Sequence[int], fake_records: Sequence[int],
                       candidates: int = 1) -> TargetTable:
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
  excluded = [tuple(x for x in (features.identity[i], features.source_identity[i]) if x)
              for i in range(len(everything))]
  found, distances = index.nearest(vectors, excluded, candidates)
  targets = np.where(found >= 0, real_records[np.maximum(found, 0)], -1)
  return TargetTable(features=features, index=index, target_records=real_records,
                     source_records=everything, targets=targets, distances=distances)


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
      1 for b in range(3 * full, 3 * full + part) if (fake_kind - b) % 3 < remainder)
  return base * batch + extra


@functools.lru_cache(maxsize=64)
def _stream_permutation(size: int, seed: int, kind: int, epoch: int) -> np.ndarray:
  permutation = np.random.default_rng([seed, 101, kind, epoch]).permutation(size)
  permutation.flags.writeable = False
  return permutation


@functools.lru_cache(maxsize=64)
def _batch_slots(batch_size: int, batch: int, real_share: float, seed: int
                 ) -> tuple[np.ndarray, np.ndarray]:
  """(kind of every slot, rank of the slot among its kind's slots) of one global batch."""
  counts = batch_kind_counts(batch_size, batch, real_share)
  kinds = np.random.default_rng([seed, 103, batch]).permutation(
      np.repeat(np.arange(4), counts))
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
    target_image = preprocess.decode_image(loader.reader.read(target, ("image",))["image"],
                                           channels=3)
    intrinsic = None
    if "intrinsic" in source and bool(source.get("has_artifact_masks", True)):
      intrinsic = preprocess.decode_image(source["intrinsic"], channels=1)[..., 0]
    features = self.table.features
    rows = np.searchsorted(features.records, [record, target])
    composite = compose(
        kind, preprocess.decode_image(source["image"], channels=3), features.landmarks[rows[0]],
        target_image, features.landmarks[rows[1]], rng, source_intrinsic=intrinsic,
        deformation=self.deformation, nodes=self.nodes, align=self.align)
    images = {"image": composite.image}
    for name in loader.masks:
      images[name] = getattr(composite, name)[..., None]
    if loader.augment is not None:
      augmented = loader.augment(images, rng)
      images = preprocess._checked_augmentation(augmented, images)
    example = {name: preprocess.resize(array, loader.image_size)
               for name, array in images.items()}
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
      raise ValueError(f"unknown forgery augmentation field(s) {unknown}; known: "
                       f"{sorted(names)}")
    return cls(source=source, **values)

  def order(self, *, table: Any, selected: np.ndarray, global_batch_size: int,
            seed: int) -> ForgeryOrder:
    selected = np.asarray(selected, np.int64)
    labels = table.label[selected]
    real, fake = selected[labels == 0], selected[labels == 1]
    if not len(real) or not len(fake):
      raise ValueError(f"forgery augmentation needs real and fake training frames; the "
                       f"selection has {len(real)} real and {len(fake)} fake")
    self.target_table = build_target_table(self.source, real, fake, self.candidates)
    has_target = self.target_table.targets[:, 0] >= 0
    sources = self.target_table.source_records[has_target]
    real_sources = np.intersect1d(real, sources)
    fake_sources = np.intersect1d(fake, sources)
    if not len(real_sources) or not len(fake_sources):
      raise ValueError("forgery augmentation needs real frames of at least two identities")
    pools = (real, fake, real_sources, fake_sources)
    return ForgeryOrder(pools=pools, batch_size=int(global_batch_size),
                        real_share=float(self.real_share), seed=int(seed))

  def loader(self, frame_loader: Any) -> ForgeryLoader:
    if self.target_table is None:
      raise RuntimeError("ForgerySampler.order must run before ForgerySampler.loader")
    available = frame_loader.reader.available
    return ForgeryLoader(frame_loader=frame_loader, table=self.target_table,
                         deformation=self.deformation, nodes=self.nodes, align=self.align,
                         has_intrinsic="intrinsic" in available,
                         has_artifact_flag="has_artifact_masks" in available)
