"""Forgery mechanisms and the masks that describe them, as pure functions on uint8 RGB images.

* Re-synthesis at low resolution (BiG-Arts §3.1, intrinsic artifacts): a face region is
  down-sampled by a factor and up-sampled back, by nearest neighbour, bilinear interpolation or
  a transposed convolution whose kernel overlaps unevenly (kernel wider than the stride), which
  leaves the periodic checkerboard of learned up-convolutions.
* Blending into the target frame (BiG-Arts §3.1, extrinsic artifacts): hard paste, feathered
  (Gaussian-blurred mask) or Poisson (`cv2.seamlessClone`), optionally after colour correction
  (per-channel mean and standard deviation matched inside the mask).
* Masks: the face hull (ADD: convex hull of the 68 landmarks), the intrinsic mask
  M_in = Convex(|x' - x| > gamma) and the extrinsic mask M_ex = D(M_in) - E(M_in) (BiG-Arts §3.1)
  live in `fakenas_jax.data.masks` (shared with the real-video face pipeline) and are re-exported
  here under their old names; the swap and mouth regions are specific to this generator.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from fakenas_jax.data.masks import (  # noqa: F401 (re-exported names of the synthetic corpus)
  CHANGE_THRESHOLD,
  boundary_radius,
  changed_pixels,
  convex_hull_mask,
  dilate,
  disk,
  erode,
  extrinsic_mask,
  face_hull_mask,
  intrinsic_mask,
)
from fakenas_jax.data.synthetic import landmarks as lm

BLENDINGS = ("hard", "feather", "poisson")
UPSAMPLERS = ("nearest", "bilinear", "checkerboard")
POISSON_BORDER = 2  # pixels of the image border the Poisson mask keeps clear of
CHECKERBOARD_STRENGTH = 0.4  # share of the unevenly overlapping kernel (period-factor gain +-4.4%)
SYNTHETIC_CHECKERBOARD_STRENGTH = 0.6  # a fully generated frame's up-sampler (gain +-6.7%)


# ---------------------------------------------------------------------------------------------
# Masks of the synthetic forgeries (the generic masks are in fakenas_jax.data.masks)


def swap_mask(landmarks: np.ndarray, resolution: int, erosion: int) -> np.ndarray:
  """The region a face swap replaces: the face hull eroded by `erosion` pixels."""
  hull = face_hull_mask(landmarks, resolution)
  return cv2.erode(hull, disk(erosion)) if erosion > 0 else hull


def mouth_mask(landmark_sets: list[np.ndarray], resolution: int, margin: int) -> np.ndarray:
  """The region a mouth re-enactment replaces: hull of the mouths (48-67) of all `landmark_sets`
  (before and after), dilated by `margin` pixels."""
  mouths = np.concatenate([np.round(points[lm.MOUTH]) for points in landmark_sets])
  return cv2.dilate(convex_hull_mask(mouths.astype(np.int32), resolution), disk(margin))


# ---------------------------------------------------------------------------------------------
# Re-synthesis at low resolution


def checkerboard_kernel(factor: int, strength: float = CHECKERBOARD_STRENGTH) -> np.ndarray:
  """1-D transposed-convolution taps for stride `factor`, length 2 * factor + 1.

  A mix of the tent of half-width `factor` (exact linear interpolation: every output phase gets
  total weight 1) and a tent of half-width factor + 1, which overlaps unevenly: output pixels on
  the input grid get more weight than those between, a pattern of period `factor` (Odena et
  al.'s checkerboard). `strength` in [0, 1] is the wide tent's share; the mean phase gain is 1.
  """
  offsets = np.arange(-factor, factor + 1)
  exact = np.clip(1.0 - np.abs(offsets) / factor, 0.0, None)
  wide = 1.0 - np.abs(offsets) / (factor + 1)
  taps = (1.0 - strength) * exact / exact.sum() + strength * wide / wide.sum()
  return (taps * factor).astype(np.float32)


def _transposed_conv_axis(low: np.ndarray, taps: np.ndarray, factor: int, axis: int) -> np.ndarray:
  """Zero-insertion up-sampling by `factor` along `axis` followed by the kernel `taps`."""
  low = np.moveaxis(low, axis, 0)
  n = low.shape[0]
  out = np.zeros(((n - 1) * factor + len(taps),) + low.shape[1:], np.float32)
  for index, weight in enumerate(taps):
    out[index : index + (n - 1) * factor + 1 : factor] += weight * low
  return np.moveaxis(out, 0, axis)


def upsample_checkerboard(
  low: np.ndarray, factor: int, strength: float = CHECKERBOARD_STRENGTH
) -> np.ndarray:
  """Transposed-convolution up-sampling, float32 (n*factor, n*factor, C) from (n, n, C).

  Low-resolution pixel i lands on high-resolution pixel i * factor + (factor - 1) // 2.
  """
  taps = checkerboard_kernel(factor, strength)
  padded = np.pad(low.astype(np.float32), ((1, 1), (1, 1), (0, 0)), mode="edge")
  high = _transposed_conv_axis(_transposed_conv_axis(padded, taps, factor, 0), taps, factor, 1)
  start = factor + (len(taps) - 1) // 2 - (factor - 1) // 2
  size = low.shape[0] * factor
  return high[start : start + size, start : start + size]


def checkerboard_offset(factor: int) -> int:
  """Where `upsample_checkerboard` puts low-resolution pixel 0 in the high-resolution image."""
  return (factor - 1) // 2


def resynthesize(
  image: np.ndarray, factor: float, upsampler: str, sharpen: float = 0.0
) -> np.ndarray:
  """The image as a generator working at 1/factor resolution would produce it, uint8.

  The image (edge-padded to a multiple of `factor`) is area-down-sampled and up-sampled back
  with `upsampler`; `sharpen` > 0 adds an unsharp mask (a generator trained to look sharp).
  A fractional factor (a generator nearly at the frame's resolution) needs bilinear up-sampling.
  """
  if factor <= 1:
    raise ValueError(f"factor must be > 1, got {factor}")
  if upsampler not in UPSAMPLERS:
    raise ValueError(f"Unknown upsampler {upsampler!r}; known: {', '.join(UPSAMPLERS)}")
  res = image.shape[0]
  if float(factor).is_integer():  # a grid of factor × factor blocks, the image edge-padded
    factor = int(factor)
    cells = math.ceil(res / factor)
    size = cells * factor
    image = np.pad(image, ((0, size - res), (0, size - res), (0, 0)), mode="edge")
  elif upsampler == "bilinear":  # no whole blocks: the low grid is stretched over the image
    cells, size = round(res / factor), res
  else:
    raise ValueError(f"a fractional factor ({factor}) needs bilinear up-sampling")
  low = cv2.resize(image, (cells, cells), interpolation=cv2.INTER_AREA)
  if upsampler == "nearest":
    high = cv2.resize(low, (size, size), interpolation=cv2.INTER_NEAREST).astype(np.float32)
  elif upsampler == "bilinear":
    high = cv2.resize(low.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
  else:
    high = upsample_checkerboard(low, factor)
  high = high[:res, :res]
  if sharpen:
    high = high + sharpen * (high - cv2.GaussianBlur(high, (0, 0), 0.5 * factor))
  return np.clip(high + 0.5, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Colour correction and blending


def colour_transfer(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """`source` with the per-channel mean and standard deviation of `target` inside `mask`."""
  inside = mask > 127
  if inside.sum() < 2:
    return source.copy()
  src = source[inside].astype(np.float32)
  tgt = target[inside].astype(np.float32)
  gain = (tgt.std(axis=0) + 1.0) / (src.std(axis=0) + 1.0)
  corrected = (source.astype(np.float32) - src.mean(axis=0)) * gain + tgt.mean(axis=0)
  return np.clip(corrected + 0.5, 0, 255).astype(np.uint8)


def feather_sigma(resolution: int, fraction: float) -> float:
  """Gaussian sigma (pixels) of feathered blending: `fraction` of the side, at least 0.5."""
  return max(0.5, fraction * resolution)


def blend(
  target: np.ndarray, source: np.ndarray, mask: np.ndarray, blending: str, sigma: float = 1.0
) -> np.ndarray:
  """`source` pasted into `target` within `mask` (uint8 {0, 255}), uint8.

  'hard' copies the masked pixels; 'feather' weights by the Gaussian-blurred (sigma) mask;
  'poisson' solves for the source's gradients with the target's values on the mask boundary
  (`cv2.seamlessClone`). A Poisson mask is kept `POISSON_BORDER` pixels off the image border;
  if nothing is left, the target is returned unchanged.
  """
  if blending == "hard":
    return np.where((mask > 127)[..., None], source, target)
  if blending == "feather":
    alpha = cv2.GaussianBlur(mask.astype(np.float32) * (1 / 255), (0, 0), sigma)[..., None]
    mixed = target.astype(np.float32) + alpha * (source.astype(np.float32) - target)
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
  if blending == "poisson":
    inner = np.zeros_like(mask)
    b = POISSON_BORDER
    inner[b:-b, b:-b] = mask[b:-b, b:-b]
    x, y, w, h = cv2.boundingRect(inner)
    if w < 3 or h < 3:
      return target.copy()
    # seamlessClone centres the mask's bounding box on `centre`: this centre keeps it in place.
    centre = (x + w // 2, y + h // 2)
    return cv2.seamlessClone(source, target, inner, centre, cv2.NORMAL_CLONE)
  raise ValueError(f"Unknown blending {blending!r}; known: {', '.join(BLENDINGS)}")


def finalize(
  pristine: np.ndarray, blended: np.ndarray, threshold: int = CHANGE_THRESHOLD
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(forged, intrinsic, extrinsic) from the pristine frame and the blended one.

  Pixels outside M_in changed by at most `threshold` (a feather's faint tail); they are restored,
  so the forged frame equals the pristine one outside M_in exactly and M_in of the result is
  the same hull.
  """
  intrinsic = intrinsic_mask(pristine, blended, threshold)
  forged = np.where((intrinsic > 0)[..., None], blended, pristine)
  return forged, intrinsic, extrinsic_mask(intrinsic)


# ---------------------------------------------------------------------------------------------
# Manipulation methods


def face_swap(
  pristine: np.ndarray,
  source: np.ndarray,
  mask: np.ndarray,
  *,
  factor: int,
  upsampler: str,
  blending: str,
  colour_correct: bool,
  sigma: float,
  sharpen: float = 0.0,
  grain: np.ndarray | None = None,
) -> np.ndarray:
  """Whole-face swap (DeepFakes-like): the source face, re-synthesised at 1/factor resolution,
  optionally sharpened and re-grained (`grain`, additive float noise), optionally
  colour-corrected, blended into the target within `mask`."""
  synthesized = resynthesize(source, factor, upsampler, sharpen)
  if grain is not None:
    synthesized = np.clip(synthesized + grain + 0.5, 0, 255).astype(np.uint8)
  if colour_correct:
    synthesized = colour_transfer(synthesized, pristine, mask)
  return blend(pristine, synthesized, mask, blending, sigma)


def mouth_reenactment(
  pristine: np.ndarray,
  reenacted: np.ndarray,
  mask: np.ndarray,
  *,
  factor: int,
  blending: str,
  sigma: float,
) -> np.ndarray:
  """Expression re-enactment of the mouth (Face2Face/NeuralTextures-like): the target's own face
  with the driver's mouth, re-synthesised at 1/factor resolution, blended within `mask`."""
  synthesized = resynthesize(reenacted, factor, "bilinear")
  return blend(pristine, synthesized, mask, blending, sigma)


def graphics_face_swap(
  pristine: np.ndarray, graphics: np.ndarray, mask: np.ndarray, blending: str = "poisson"
) -> np.ndarray:
  """Graphics-based swap (FaceSwap-like): a flat-shaded source face, colour-corrected to the
  target inside `mask`, Poisson-blended."""
  return blend(pristine, colour_transfer(graphics, pristine, mask), mask, blending)


def spectral_fingerprint(resolution: int, amplitude: float, period: int = 4) -> np.ndarray:
  """A generator's faint periodic pattern, float32 (res, res, 1): peaks at 1/period cycles/px."""
  phase = 2 * np.pi * np.arange(resolution, dtype=np.float32) / period
  return (amplitude * np.cos(phase)[:, None] * np.cos(phase)[None, :])[..., None]


def synthetic_frame(
  low_resolution: np.ndarray, factor: int, resolution: int, fingerprint: float
) -> np.ndarray:
  """A fully generated frame (StyleGAN-like): rendered at 1/factor resolution, up-sampled by
  transposed convolution, plus a periodic spectral fingerprint; uint8 (res, res, 3)."""
  high = upsample_checkerboard(low_resolution, factor, SYNTHETIC_CHECKERBOARD_STRENGTH)
  high = high[:resolution, :resolution]
  high = high + spectral_fingerprint(resolution, fingerprint)
  return np.clip(high + 0.5, 0, 255).astype(np.uint8)
