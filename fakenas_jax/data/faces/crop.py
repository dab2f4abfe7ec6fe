"""Square face crops: the crop box around a face box, the crop, landmarks in crop coordinates.

The crop square keeps its size and centre at the frame border: pixels outside the frame are
padded with zeros (black), never clipped away, so a face near the border keeps its scale and
position in the crop and landmarks map into the crop by one scale and shift.
"""

from __future__ import annotations

import cv2
import numpy as np


def square_crop_box(face_box: np.ndarray, margin: float) -> tuple[int, int, int]:
  """(left, top, side) of the crop square in frame pixels.

  The face box (left, top, right, bottom) is enlarged by `margin` times its width/height on
  each side, then made square on its longer side around the same centre.
  """
  left, top, right, bottom = (float(value) for value in face_box)
  width, height = right - left, bottom - top
  if width <= 0 or height <= 0:
    raise ValueError(f"face box must have a positive size, got {tuple(face_box)}")
  side = max(width, height) * (1.0 + 2.0 * margin)
  centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
  side_pixels = max(1, int(round(side)))
  return (
    int(round(centre_x - side_pixels / 2)),
    int(round(centre_y - side_pixels / 2)),
    side_pixels,
  )


def crop_square(image: np.ndarray, crop_box: tuple[int, int, int], crop_size: int) -> np.ndarray:
  """The square `crop_box` of `image` (H, W) or (H, W, C), zero-padded outside the frame,
  resized to crop_size x crop_size (area averaging when shrinking, bilinear when enlarging)."""
  left, top, side = crop_box
  height, width = image.shape[:2]
  x0, y0 = max(left, 0), max(top, 0)
  x1, y1 = min(left + side, width), min(top + side, height)
  square = np.zeros((side, side) + image.shape[2:], image.dtype)
  if x1 > x0 and y1 > y0:
    square[y0 - top : y1 - top, x0 - left : x1 - left] = image[y0:y1, x0:x1]
  interpolation = cv2.INTER_AREA if side > crop_size else cv2.INTER_LINEAR
  resized = cv2.resize(square, (crop_size, crop_size), interpolation=interpolation)
  return resized.reshape((crop_size, crop_size) + image.shape[2:])


def to_crop_coordinates(
  points: np.ndarray, crop_box: tuple[int, int, int], crop_size: int
) -> np.ndarray:
  """Frame pixel coordinates (N, 2) (x, y) -> crop pixel coordinates, float32.

  Pixel centres are at integers in both (OpenCV's resize convention):
  u = (x - left + 0.5) * crop_size / side - 0.5.
  """
  left, top, side = crop_box
  scale = crop_size / side
  origin = np.array([left, top], np.float64)
  return ((np.asarray(points, np.float64) - origin + 0.5) * scale - 0.5).astype(np.float32)
