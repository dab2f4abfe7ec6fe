"""BiG-Arts artifact masks of a real fake video's face crop (BiG-Arts §3.1), uint8 {0, 255}.

M_in = Convex(|x' - x| > gamma) compares the fake crop x' with the crop of its real source x
taken with the same box. Between two separately compressed videos every pixel differs a little,
so, unlike the synthetic corpus (exact pixels, gamma = 4), the difference is taken between
Gaussian-smoothed crops, thresholded at a larger gamma (`FaceCropConfig.change_threshold`),
opened to remove isolated specks, and only its substantial connected regions (at least
`MIN_REGION_SHARE` of the largest one and `MIN_AREA_SHARE` of the crop) enter the hull.
With an official mask video (FaceForensics++ `masks/videos`), M_in is the hull of the mask's
bright pixels instead. M_ex = D(M_in) - E(M_in) in both cases.
"""

from __future__ import annotations

import cv2
import numpy as np

from fakenas_jax.data import masks

MASK_LEVEL = 127  # a mask video's pixel is inside above this grey level
MIN_REGION_SHARE = 0.1  # a changed region counts when at least this share of the largest one
MIN_AREA_SHARE = 0.002  # ... and at least this share of the crop


def _smoothing_sigma(crop_size: int) -> float:
  return max(0.5, crop_size / 64)


def substantial_regions(changed: np.ndarray) -> np.ndarray:
  """bool: `changed` opened with a disk of radius boundary_radius(side), keeping only connected
  regions of at least MIN_REGION_SHARE of the largest and MIN_AREA_SHARE of the image."""
  radius = masks.boundary_radius(changed.shape[0])
  opened = cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_OPEN, masks.disk(radius))
  count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
  if count <= 1:
    return np.zeros(changed.shape, bool)
  areas = stats[1:, cv2.CC_STAT_AREA]
  minimum = max(MIN_REGION_SHARE * areas.max(), MIN_AREA_SHARE * changed.size)
  keep = np.concatenate([[False], areas >= minimum])
  return keep[labels]


def _hull(region: np.ndarray) -> np.ndarray:
  points = cv2.findNonZero(region.astype(np.uint8))
  return masks.convex_hull_mask(
    np.zeros((0, 2)) if points is None else points.reshape(-1, 2), region.shape[0]
  )


def intrinsic_from_source(
  fake_crop: np.ndarray, source_crop: np.ndarray, threshold: int
) -> np.ndarray:
  """M_in (BiG-Arts §3.1) of a fake crop and its source crop (same box), uint8 (S, S) {0, 255}."""
  if fake_crop.shape != source_crop.shape or fake_crop.ndim != 3:
    raise ValueError(
      f"fake and source crops must be equal (S, S, 3) arrays, got "
      f"{fake_crop.shape} and {source_crop.shape}"
    )
  sigma = _smoothing_sigma(fake_crop.shape[0])
  fake = cv2.GaussianBlur(fake_crop.astype(np.float32), (0, 0), sigma)
  source = cv2.GaussianBlur(source_crop.astype(np.float32), (0, 0), sigma)
  changed = np.abs(fake - source).max(axis=2) > threshold
  return _hull(substantial_regions(changed))


def intrinsic_from_mask(mask_crop: np.ndarray) -> np.ndarray:
  """M_in from a crop of an official manipulation-mask frame (grey or RGB), uint8 {0, 255}."""
  grey = mask_crop.max(axis=2) if mask_crop.ndim == 3 else mask_crop
  return _hull(substantial_regions(grey > MASK_LEVEL))


def extrinsic_from_intrinsic(intrinsic: np.ndarray) -> np.ndarray:
  """M_ex = D(M_in) - E(M_in) (BiG-Arts §3.1), band half-width boundary_radius(S)."""
  return masks.extrinsic_mask(intrinsic)
