"""BiG-Arts forgery-face augmentation (§3.3), the geometry: the random piecewise-affine warp T of
a hull mask and the composite M~ ⊙ A + (1 - M~) ⊙ B with its masks (`forgery_augmentation` has the
whole method and the batches).
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from fakenas_jax.data import masks as mask_lib

REAL, FAKE, REAL_REAL, FAKE_REAL = 0, 1, 2, 3  # the kinds of example (`forgery_kind`)
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


def random_hull_warp(
  landmarks: np.ndarray,
  frame_size: tuple[int, int],
  rng: np.random.Generator,
  deformation: float,
  nodes: int = 16,
  controls: int = 6,
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
  relevant = np.flatnonzero(
    np.all(sources.max(axis=1) >= content_lo, axis=1)
    & np.all(sources.min(axis=1) <= content_hi, axis=1)
  )
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
  source_x = np.rint(
    matrices[:, 0, 0] * covered_x + matrices[:, 1, 0] * covered_y + matrices[:, 2, 0]
  ).astype(np.int64)
  source_y = np.rint(
    matrices[:, 0, 1] * covered_x + matrices[:, 1, 1] * covered_y + matrices[:, 2, 1]
  ).astype(np.int64)
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
  variance = (centred_s**2).sum() / len(source)
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


def compose(
  kind: int,
  source_image: np.ndarray,
  source_landmarks: np.ndarray,
  target_image: np.ndarray,
  target_landmarks: np.ndarray,
  rng: np.random.Generator,
  *,
  source_intrinsic: np.ndarray | None = None,
  deformation: float = 0.3,
  nodes: int = 16,
  align: bool = True,
) -> Composite:
  """Blends source A into target B (module docstring). Masks are (H, W) uint8 {0, 255}.

  `source_intrinsic` is A's changed region M' (for kind FAKE_REAL); when it is None or empty,
  A's face hull stands in for it.
  """
  if kind not in (REAL_REAL, FAKE_REAL):
    raise ValueError(f"kind must be REAL_REAL ({REAL_REAL}) or FAKE_REAL ({FAKE_REAL}), got {kind}")
  height, width = target_image.shape[:2]
  source_landmarks = np.asarray(source_landmarks, np.float64).reshape(-1, 2)
  if source_image.shape[:2] != (height, width):
    factor = np.array([width / source_image.shape[1], height / source_image.shape[0]])
    source_image = cv2.resize(source_image, (width, height), interpolation=cv2.INTER_LINEAR)
    source_landmarks = source_landmarks * factor
    if source_intrinsic is not None:
      source_intrinsic = cv2.resize(
        source_intrinsic, (width, height), interpolation=cv2.INTER_NEAREST
      )
  hull = (
    mask_lib.face_hull_mask(source_landmarks, height)
    if height == width
    else (_hull_mask(source_landmarks, (height, width)))
  )
  deformed = warp_mask(
    hull, random_hull_warp(source_landmarks, (width, height), rng, deformation, nodes)
  )
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
  transform = (
    similarity_transform(source_landmarks, target_landmarks)
    if align
    else np.array([[1.0, 0, 0], [0, 1.0, 0]])
  )
  if align:
    source_image = cv2.warpAffine(
      source_image,
      transform,
      (width, height),
      flags=cv2.INTER_LINEAR,
      borderMode=cv2.BORDER_REFLECT_101,
    )
    blend = cv2.warpAffine(
      blend,
      transform,
      (width, height),
      flags=cv2.INTER_NEAREST,
      borderMode=cv2.BORDER_CONSTANT,
      borderValue=0,
    )
  inside = blend > 0
  image = np.where(inside[..., None], source_image, target_image).astype(np.uint8)
  blend = np.where(inside, 255, 0).astype(np.uint8)
  intrinsic = blend.copy() if kind == FAKE_REAL else np.zeros_like(blend)
  target_hull = (
    mask_lib.face_hull_mask(target_landmarks, height)
    if height == width
    else _hull_mask(np.asarray(target_landmarks), (height, width))
  )
  return Composite(
    image=image,
    blend=blend,
    intrinsic=intrinsic,
    extrinsic=mask_lib.extrinsic_mask(blend),
    face_hull=target_hull,
    transform=transform,
    kind=kind,
  )


def _hull_mask(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
  mask = np.zeros(shape, np.uint8)
  hull = cv2.convexHull(np.round(landmarks).astype(np.int32).reshape(-1, 1, 2))
  cv2.fillConvexPoly(mask, hull, 255)
  return mask
