"""Per-identity appearance: face geometry, colours and skin/hair detail.

An identity depends only on (style name, identity index), so the same person looks the same in
every video of a corpus; identities of different styles are different people.
"""

from __future__ import annotations

import dataclasses
import functools
import zlib

import cv2
import numpy as np

from fakenas_jax.data.synthetic.landmarks import FaceShape
from fakenas_jax.data.synthetic.styles import STYLES, Colour

TEXTURE_SIZE = 48
# Face-plane region (u_min, u_max, v_min, v_max) the detail texture covers, in face units.
TEXTURE_EXTENT = (-1.8, 1.8, -2.0, 2.6)


@dataclasses.dataclass(frozen=True, eq=False)
class Identity:
  """One synthetic person."""

  style: str
  index: int
  shape: FaceShape
  skin: Colour
  hair: Colour
  brows: Colour
  iris: Colour
  lips: Colour
  blush: float  # cheek redness
  beard: float  # stubble opacity, 0 = clean-shaven
  detail: np.ndarray  # (TEXTURE_SIZE, TEXTURE_SIZE, 2) float32, read-only: skin and hair detail


def identity_rng(style: str, index: int) -> np.random.Generator:
  """The generator of identity `index` of `style`; independent of everything else."""
  if index < 0:
    raise ValueError(f"identity index must be >= 0, got {index}")
  return np.random.default_rng([zlib.crc32(style.encode()), index])


def _palette_colour(
  rng: np.random.Generator, palette: tuple[Colour, ...], jitter: float
) -> np.ndarray:
  """A colour between two neighbouring palette anchors, with a little per-channel jitter."""
  anchors = np.asarray(palette, np.float64)
  position = rng.uniform(0, len(anchors) - 1)
  low = int(np.floor(position))
  high = min(low + 1, len(anchors) - 1)
  colour = anchors[low] + (position - low) * (anchors[high] - anchors[low])
  return np.clip(colour * rng.uniform(1 - jitter, 1 + jitter, 3), 0.0, 1.0)


def _smooth_noise(rng: np.random.Generator, cells: int, size: int) -> np.ndarray:
  grid = rng.standard_normal((cells, cells)).astype(np.float32)
  return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)


def _detail_texture(rng: np.random.Generator, freckles: float) -> np.ndarray:
  """Skin blotches, pores, freckles and moles (channel 0); hair strands (channel 1)."""
  size = TEXTURE_SIZE
  skin = (
    0.5 * _smooth_noise(rng, 5, size)
    + 0.35 * _smooth_noise(rng, 14, size)
    + 0.3 * rng.standard_normal((size, size)).astype(np.float32)
  )
  spots = np.zeros((size, size), np.float32)
  count = int(rng.poisson(freckles * 60))
  if count:
    ys, xs = rng.integers(size // 4, 3 * size // 4, (2, count))
    spots[ys, xs] = rng.uniform(1.0, 2.5, count)
  for _ in range(int(rng.integers(0, 3))):  # moles
    y, x = rng.integers(size // 4, 3 * size // 4, 2)
    spots[y, x] = 6.0
  skin -= cv2.GaussianBlur(spots, (0, 0), 0.7) * 2.5

  strands = rng.standard_normal(2 * size).astype(np.float32)
  strands = np.convolve(strands, np.ones(2) / 2, mode="same")
  shear = rng.uniform(-0.4, 0.4)  # strands run down the head, slightly slanted
  along, across = np.arange(size)[:, None], np.arange(size)[None, :]
  hair = strands[np.clip(np.round(across + shear * along + size // 2), 0, 2 * size - 1).astype(int)]
  hair += 0.4 * _smooth_noise(rng, 6, size)
  detail = np.stack([skin, hair], axis=-1).astype(np.float32)
  detail /= detail.std(axis=(0, 1), keepdims=True) + 1e-6
  detail.flags.writeable = False
  return detail


def build_identity(style: str, index: int) -> Identity:
  """Identity `index` of renderer style `style` (deterministic); see `make_identity`."""
  if style not in STYLES:
    raise ValueError(f"Unknown style {style!r}; known: {', '.join(sorted(STYLES))}")
  palette = STYLES[style]
  rng = identity_rng(style, index)
  u = rng.uniform

  long_hair = u() < palette.long_hair_probability
  bald = (not long_hair) and u() < palette.bald_probability
  width = u(0.92, 1.06)
  shape = FaceShape(
    width=width,
    chin=u(1.5, 1.78),
    jaw_squareness=u(2.0, 3.2),
    forehead=u(1.38, 1.55),
    brow_height=u(0.26, 0.36),
    brow_arch=u(0.02, 0.1),
    brow_thickness=u(0.06, 0.12),
    eye_spacing=u(0.4, 0.48),
    eye_width=u(0.17, 0.23),
    eye_height=u(0.07, 0.1),
    eye_tilt=u(-0.03, 0.04),
    nose_length=u(0.6, 0.76),
    nose_width=u(0.19, 0.29),
    mouth_y=u(0.98, 1.12),
    mouth_width=u(0.3, 0.42),
    upper_lip=u(0.045, 0.09),
    lower_lip=u(0.06, 0.12),
    hairline=u(0.75, 1.2) if not bald else 1.3,
    hair_volume=u(0.05, 0.25) if not bald else 0.02,
    hair_length=u(1.9, 3.2) if long_hair else u(-0.2, 0.45),
    hair_part=u(-1.0, 1.0),
    bald=bald,
    ear_size=u(0.26, 0.34),
  )

  skin = _palette_colour(rng, palette.skin_tones, 0.03)
  hair = _palette_colour(rng, palette.hair_colours, 0.08)
  brows = np.clip(np.minimum(hair, skin * 0.55) * u(0.7, 1.0), 0, 1)
  iris = _palette_colour(rng, palette.eye_colours, 0.1)
  lips = np.clip(skin * np.array([0.92, 0.62, 0.62]) * u(0.8, 0.95), 0, 1)
  beard = u(0.25, 0.6) if u() < palette.beard_probability else 0.0
  freckles = u(0.3, 1.0) if u() < 0.2 else 0.0
  return Identity(
    style=style,
    index=index,
    shape=shape,
    skin=tuple(skin),
    hair=tuple(hair),
    brows=tuple(brows),
    iris=tuple(iris),
    lips=tuple(lips),
    blush=u(0.0, 0.08),
    beard=beard,
    detail=_detail_texture(rng, freckles),
  )


# Identities recur across the videos of a corpus: keep the recent ones.
make_identity = functools.lru_cache(maxsize=1024)(build_identity)
