"""Corpus recipes: what makes one synthetic corpus differ from another.

A recipe names a renderer style (who is filmed, where, with what camera), the forgery methods,
how forged faces are blended and compressed, and the generator's quality (re-synthesis factors,
colour correction, sharpening). The four recipes play the roles of FaceForensics++, Celeb-DF,
WildDeepfake and DFDC in cross-dataset experiments.
"""

from __future__ import annotations

import dataclasses

from fakenas_jax.data.synthetic.forgeries import BLENDINGS
from fakenas_jax.data.synthetic.styles import STYLES

METHODS = (
  "swap_nearest",
  "swap_bilinear",
  "swap_checkerboard",
  "reenact_mouth",
  "graphics_swap",
  "synthetic_face",
)
SWAP_UPSAMPLERS = {
  "swap_nearest": "nearest",
  "swap_bilinear": "bilinear",
  "swap_checkerboard": "checkerboard",
}


@dataclasses.dataclass(frozen=True)
class CorpusRecipe:
  """One synthetic corpus. Frozen and made of plain data, so it can key caches and configs."""

  style: str  # renderer style, a key of STYLES
  methods: tuple[str, ...]  # forgery methods, a subset of METHODS
  blendings: tuple[str, ...]  # drawn per fake video; graphics_swap always blends by Poisson
  jpeg_qualities: tuple[int, ...]  # one drawn per video; 0 = lossless (PNG)
  description: str
  synthesis_factors: tuple[float, ...] = (2, 3, 4)  # re-synthesis down-sampling, one per video
  colour_correction: float = 0.0  # probability that a swapped face is colour-matched
  mask_erosion: float = 0.015  # swap mask = face hull eroded by this fraction of the side
  feather: float = 0.03  # Gaussian sigma of feathered blending, fraction of the side
  sharpen: float = 0.0  # unsharp-mask amount after re-synthesis (a generator tuned for sharpness)
  regrain: float = 0.0  # sensor noise put back after re-synthesis, fraction of the scene's
  fingerprint: float = 2.0  # amplitude (grey levels) of synthetic_face's periodic pattern
  texture_factor: float = (
    0.0  # graphics_swap's face texture at 1/texture_factor resolution; 0: full
  )

  def __post_init__(self):
    if self.style not in STYLES:
      raise ValueError(f"Unknown style {self.style!r}; known: {', '.join(sorted(STYLES))}")
    for name, values, known in (
      ("methods", self.methods, METHODS),
      ("blendings", self.blendings, BLENDINGS),
    ):
      if not values or not set(values) <= set(known):
        raise ValueError(f"{name} must be a non-empty subset of {known}, got {values}")
    if not self.jpeg_qualities or not all(0 <= q <= 100 for q in self.jpeg_qualities):
      raise ValueError(f"jpeg_qualities must be in [0, 100], got {self.jpeg_qualities}")
    if self.texture_factor and self.texture_factor <= 1:
      raise ValueError(
        f"texture_factor must be 0 (full resolution) or > 1, got {self.texture_factor}"
      )
    if not self.synthesis_factors or min(self.synthesis_factors) <= 1:
      raise ValueError(f"synthesis_factors must be > 1, got {self.synthesis_factors}")
    fractional = [f for f in self.synthesis_factors if not float(f).is_integer()]
    blocky = [m for m in self.methods if SWAP_UPSAMPLERS.get(m, "bilinear") != "bilinear"]
    if fractional and blocky:
      raise ValueError(
        f"fractional synthesis_factors {fractional} need bilinear up-sampling; "
        f"{blocky} up-sample by whole blocks"
      )


RECIPES: dict[str, CorpusRecipe] = {
  "studio": CorpusRecipe(
    style="studio",
    methods=(
      "swap_nearest",
      "swap_bilinear",
      "swap_checkerboard",
      "reenact_mouth",
      "graphics_swap",
    ),
    blendings=("hard", "feather"),
    jpeg_qualities=(95, 90),
    synthesis_factors=(2, 3, 4),
    colour_correction=0.0,
    description="FaceForensics++-like: news-studio footage; face swaps re-synthesised at "
    "1/2-1/4 resolution (nearest, bilinear, checkerboard up-sampling), mouth "
    "re-enactment and a graphics swap; hard or feathered blending without "
    "colour correction; light JPEG compression (quality 95/90).",
  ),
  "celeb": CorpusRecipe(
    style="celeb",
    methods=("swap_bilinear",),
    blendings=("feather", "poisson"),
    jpeg_qualities=(90, 85),
    synthesis_factors=(1.5,),
    colour_correction=1.0,
    mask_erosion=0.03,
    feather=0.04,
    sharpen=1.0,
    regrain=1.0,
    description="Celeb-DF-like: celebrity interviews; one improved face swap synthesised "
    "at 1/1.5 resolution (the others at 1/2-1/4), bilinear up-sampling, "
    "sharpened and re-grained, "
    "colour-corrected, feathered or Poisson-blended: subtler artifacts; JPEG "
    "quality 90/85.",
  ),
  "wild": CorpusRecipe(
    style="wild",
    methods=("swap_nearest", "swap_bilinear", "swap_checkerboard"),
    blendings=("hard", "feather", "poisson"),
    jpeg_qualities=(75, 65),
    synthesis_factors=(2, 3, 4),
    colour_correction=0.3,
    description="WildDeepfake-like: internet footage of every pose, light and camera; "
    "the face swaps found online (re-synthesised at 1/2-1/4 resolution, every "
    "up-sampling and blending, sometimes colour-corrected); the strongest JPEG "
    "compression of the four (quality 75/65).",
  ),
  "graphics": CorpusRecipe(
    style="actors",
    methods=("graphics_swap", "synthetic_face"),
    blendings=("poisson",),
    jpeg_qualities=(85, 75),
    synthesis_factors=(2,),
    colour_correction=1.0,
    fingerprint=2.5,
    texture_factor=2,
    description="DFDC-like: actors filmed in ordinary rooms; graphics-based face swaps "
    "(flat shading, texture at 1/2 resolution, colour correction, Poisson "
    "blending) and entirely generated "
    "faces (transposed-convolution up-sampling, periodic spectral fingerprint); "
    "JPEG quality 85/75.",
  ),
}
