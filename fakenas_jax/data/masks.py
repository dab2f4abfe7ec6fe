"""Face masks shared by the synthetic corpus and the real-video face pipeline, uint8 {0, 255}.

* The face hull (ADD §III-C): the filled convex hull of the 68 landmarks, the potential
  manipulation region.
* The intrinsic mask M_in = Convex(|x' - x| > gamma) (BiG-Arts §3.1): the convex hull of the
  pixels a forgery changed.
* The extrinsic mask M_ex = D(M_in) - E(M_in) (BiG-Arts §3.1): the blending-boundary band.
"""

from __future__ import annotations

import cv2
import numpy as np

# Which mask of a corpus supervises which dense output of a detector: ADD's region map the face
# hull (ADD Eq. 7), the BiG-Arts maps the intrinsic and extrinsic masks (BiG-Arts §3.2). The
# one statement of that fact; losses, steps, pipelines and reports read it here.
MASK_OF_OUTPUT = {"region": "face_hull", "intrinsic": "intrinsic", "extrinsic": "extrinsic"}
DENSE_OUTPUTS = tuple(MASK_OF_OUTPUT)
MASK_FEATURES = tuple(MASK_OF_OUTPUT.values())

CHANGE_THRESHOLD = 4  # gamma: a pixel is manipulated if a channel changed by more (grey levels)


def boundary_radius(resolution: int) -> int:
  """Radius of the dilation/erosion that makes the extrinsic band: max(1, resolution // 32).

  The band D(M_in) - E(M_in) is then 2 * radius pixels wide (4 at 64x64, 8 at 128x128).
  """
  return max(1, resolution // 32)


def disk(radius: int) -> np.ndarray:
  """Elliptic structuring element of size 2 * radius + 1."""
  return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
  """Dilation; outside the image counts as background."""
  return cv2.dilate(mask, disk(radius), borderType=cv2.BORDER_CONSTANT, borderValue=0)


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
  """Erosion; outside the image counts as foreground, so the image border is not a boundary."""
  return cv2.erode(mask, disk(radius), borderType=cv2.BORDER_CONSTANT, borderValue=255)


def convex_hull_mask(points: np.ndarray, resolution: int) -> np.ndarray:
  """uint8 {0, 255} (res, res): the filled convex hull of integer pixel points (N, 2) (x, y)."""
  mask = np.zeros((resolution, resolution), np.uint8)
  if len(points):
    hull = cv2.convexHull(np.asarray(points, np.int32).reshape(-1, 1, 2))
    cv2.fillConvexPoly(mask, hull, 255)
  return mask


def face_hull_mask(landmarks: np.ndarray, resolution: int) -> np.ndarray:
  """ADD's potential manipulation region: the filled convex hull of the 68 landmarks.

  The hull's vertices are the landmarks rounded to pixels, so every landmark's pixel is inside.
  """
  return convex_hull_mask(np.round(landmarks).astype(np.int32), resolution)


def changed_pixels(
  pristine: np.ndarray, forged: np.ndarray, threshold: int = CHANGE_THRESHOLD
) -> np.ndarray:
  """bool (res, res): some channel differs by more than `threshold` grey levels."""
  difference = cv2.absdiff(pristine, forged)
  return difference.max(axis=2) > threshold


def intrinsic_mask(
  pristine: np.ndarray, forged: np.ndarray, threshold: int = CHANGE_THRESHOLD
) -> np.ndarray:
  """BiG-Arts M_in = Convex(|x' - x| > gamma), uint8 {0, 255}."""
  changed = changed_pixels(pristine, forged, threshold)
  points = cv2.findNonZero(changed.astype(np.uint8))
  return convex_hull_mask(
    np.zeros((0, 2)) if points is None else points.reshape(-1, 2), pristine.shape[0]
  )


def extrinsic_mask(intrinsic: np.ndarray) -> np.ndarray:
  """BiG-Arts M_ex = D(M_in) - E(M_in): the blending-boundary band, uint8 {0, 255}.

  Empty for an empty mask and for a whole-image mask (the image border is not a boundary).
  """
  radius = boundary_radius(intrinsic.shape[0])
  return cv2.subtract(dilate(intrinsic, radius), erode(intrinsic, radius))
