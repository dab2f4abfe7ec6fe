"""PNG bytes of a face crop or mask, for the TFDS builders (images are stored encoded)."""

from __future__ import annotations

import cv2
import numpy as np

PNG_COMPRESSION = 6  # zlib level: same bytes for the same array, a fair size/speed balance


def encode_png(array: np.ndarray) -> bytes:
  """Lossless PNG of a uint8 (H, W, C) array, C = 1 (grey) or 3 (RGB), or (H, W); deterministic."""
  array = np.asarray(array)
  if array.dtype != np.uint8:
    raise ValueError(f"encode_png needs a uint8 array, got {array.dtype}")
  if array.ndim == 3 and array.shape[2] == 1:
    array = array[..., 0]
  if array.ndim == 3 and array.shape[2] == 3:
    array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
  elif array.ndim != 2:
    raise ValueError(f"encode_png needs (H, W), (H, W, 1) or (H, W, 3), got {array.shape}")
  if array.shape[0] == 0 or array.shape[1] == 0:
    raise ValueError(f"encode_png needs a non-empty image, got {array.shape}")
  ok, data = cv2.imencode(
    ".png", np.ascontiguousarray(array), [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION]
  )
  if not ok:
    raise RuntimeError("OpenCV could not encode the array as PNG")
  return data.tobytes()
