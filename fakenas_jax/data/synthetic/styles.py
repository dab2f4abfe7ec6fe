"""Renderer styles: what makes one synthetic corpus look unlike another.

A style fixes the population (skin, hair and eye palettes), the scenes (background type and
colours, lighting, colour cast), the camera (sensor noise, blur, vignetting) and the framing
(face size, position jitter, head-pose and motion ranges). Colours are sRGB in [0, 1]; noise is
in grey levels of 255; sizes and blur are fractions of the image side, so a style looks the same
at every resolution.
"""

from __future__ import annotations

import dataclasses

Colour = tuple[float, float, float]
Range = tuple[float, float]

BACKGROUNDS = ("backdrop", "bokeh", "clutter", "room")


@dataclasses.dataclass(frozen=True)
class RenderStyle:
  """Palettes and ranges a scene and an identity are drawn from."""

  name: str
  skin_tones: tuple[Colour, ...]  # light to dark; a tone is drawn between two neighbours
  hair_colours: tuple[Colour, ...]
  eye_colours: tuple[Colour, ...]
  background: str  # one of BACKGROUNDS
  background_colours: tuple[Colour, ...]
  light_tints: tuple[Colour, ...]  # colour cast of the light
  face_scale: Range  # pixels per face unit, as a fraction of the image side
  center_jitter: float  # face position jitter, fraction of the image side
  yaw: float  # largest |yaw| of the base pose, radians
  pitch: float
  roll: float
  motion: float  # amplitude of head motion within a video, radians
  talk: Range  # how wide the mouth opens when talking
  ambient: Range
  diffuse: Range
  light_spread: float  # how far the light may be from frontal (0 frontal .. 1 from the side)
  light_elevation: Range  # radians above the camera's axis
  specular: Range
  noise: Range  # sensor noise sigma, grey levels
  blur: Range  # camera blur sigma, fraction of the image side
  vignette: Range
  saturation: Range
  skin_texture: float  # strength of blotches, freckles and pores
  beard_probability: float
  bald_probability: float
  long_hair_probability: float


STYLES: dict[str, RenderStyle] = {
  # FaceForensics++-like: news studios; bright, even, frontal light; blue-grey backdrops.
  "studio": RenderStyle(
    name="studio",
    skin_tones=(
      (0.96, 0.80, 0.69),
      (0.91, 0.72, 0.60),
      (0.80, 0.60, 0.47),
      (0.63, 0.45, 0.33),
      (0.45, 0.30, 0.21),
    ),
    hair_colours=(
      (0.08, 0.06, 0.05),
      (0.22, 0.14, 0.09),
      (0.40, 0.26, 0.15),
      (0.70, 0.56, 0.34),
      (0.58, 0.57, 0.55),
    ),
    eye_colours=((0.35, 0.20, 0.10), (0.15, 0.10, 0.07), (0.30, 0.45, 0.62), (0.32, 0.44, 0.30)),
    background="backdrop",
    background_colours=(
      (0.14, 0.24, 0.45),
      (0.55, 0.60, 0.70),
      (0.30, 0.32, 0.36),
      (0.10, 0.15, 0.30),
      (0.70, 0.72, 0.76),
      (0.40, 0.18, 0.20),
    ),
    light_tints=((1.0, 1.0, 1.0), (1.0, 0.98, 0.95), (0.97, 0.99, 1.0)),
    face_scale=(0.26, 0.31),
    center_jitter=0.03,
    yaw=0.18,
    pitch=0.08,
    roll=0.06,
    motion=0.05,
    talk=(0.25, 0.6),
    ambient=(0.57, 0.63),
    diffuse=(0.37, 0.43),
    light_spread=0.3,
    light_elevation=(0.1, 0.25),
    specular=(0.03, 0.07),
    noise=(1.0, 2.5),
    blur=(0.002, 0.006),
    vignette=(0.0, 0.1),
    saturation=(0.95, 1.05),
    skin_texture=1.0,
    beard_probability=0.2,
    bald_probability=0.08,
    long_hair_probability=0.35,
  ),
  # Celeb-DF-like: interviews and red carpets; warm light, saturated colour, bokeh.
  "celeb": RenderStyle(
    name="celeb",
    skin_tones=((0.98, 0.83, 0.72), (0.94, 0.75, 0.62), (0.85, 0.64, 0.50), (0.70, 0.50, 0.37)),
    hair_colours=(
      (0.10, 0.07, 0.05),
      (0.30, 0.19, 0.11),
      (0.55, 0.38, 0.22),
      (0.85, 0.72, 0.48),
      (0.55, 0.20, 0.10),
    ),
    eye_colours=((0.38, 0.22, 0.10), (0.20, 0.13, 0.08), (0.35, 0.52, 0.72), (0.40, 0.52, 0.32)),
    background="bokeh",
    background_colours=(
      (0.55, 0.35, 0.20),
      (0.92, 0.76, 0.50),
      (0.30, 0.18, 0.24),
      (0.72, 0.48, 0.60),
      (0.18, 0.22, 0.34),
      (0.95, 0.90, 0.80),
    ),
    light_tints=((1.0, 0.93, 0.84), (1.0, 0.96, 0.90), (1.0, 0.90, 0.86)),
    face_scale=(0.29, 0.34),
    center_jitter=0.03,
    yaw=0.28,
    pitch=0.1,
    roll=0.1,
    motion=0.08,
    talk=(0.3, 0.7),
    ambient=(0.5, 0.6),
    diffuse=(0.4, 0.5),
    light_spread=0.5,
    light_elevation=(0.1, 0.4),
    specular=(0.06, 0.12),
    noise=(0.8, 2.0),
    blur=(0.0, 0.004),
    vignette=(0.1, 0.25),
    saturation=(1.1, 1.25),
    skin_texture=0.6,
    beard_probability=0.15,
    bald_probability=0.04,
    long_hair_probability=0.5,
  ),
  # WildDeepfake-like: footage from anywhere; hard side light, colour casts, clutter,
  # noisy blurred cameras, wide range of pose and face size.
  "wild": RenderStyle(
    name="wild",
    skin_tones=((0.95, 0.78, 0.66), (0.78, 0.58, 0.45), (0.55, 0.38, 0.27), (0.36, 0.24, 0.17)),
    hair_colours=(
      (0.06, 0.05, 0.05),
      (0.25, 0.16, 0.10),
      (0.45, 0.30, 0.18),
      (0.75, 0.60, 0.40),
      (0.50, 0.50, 0.50),
    ),
    eye_colours=((0.30, 0.18, 0.09), (0.12, 0.08, 0.06), (0.30, 0.42, 0.58)),
    background="clutter",
    background_colours=(
      (0.80, 0.20, 0.15),
      (0.15, 0.55, 0.25),
      (0.20, 0.30, 0.75),
      (0.90, 0.85, 0.30),
      (0.10, 0.10, 0.12),
      (0.85, 0.85, 0.85),
      (0.50, 0.35, 0.25),
    ),
    light_tints=(
      (1.0, 0.85, 0.65),
      (0.75, 0.88, 1.0),
      (0.85, 1.0, 0.85),
      (1.0, 1.0, 1.0),
      (1.0, 0.75, 0.8),
    ),
    face_scale=(0.22, 0.36),
    center_jitter=0.08,
    yaw=0.4,
    pitch=0.15,
    roll=0.2,
    motion=0.12,
    talk=(0.2, 0.9),
    ambient=(0.3, 0.55),
    diffuse=(0.45, 0.75),
    light_spread=1.0,
    light_elevation=(-0.2, 0.8),
    specular=(0.0, 0.1),
    noise=(2.0, 4.5),
    blur=(0.003, 0.009),
    vignette=(0.0, 0.35),
    saturation=(0.8, 1.3),
    skin_texture=1.3,
    beard_probability=0.3,
    bald_probability=0.1,
    long_hair_probability=0.35,
  ),
  # DFDC-like: paid actors filmed in ordinary rooms; dim indoor light, plain walls.
  "actors": RenderStyle(
    name="actors",
    skin_tones=((0.93, 0.77, 0.66), (0.76, 0.56, 0.42), (0.55, 0.37, 0.26), (0.33, 0.22, 0.15)),
    hair_colours=((0.07, 0.06, 0.05), (0.20, 0.13, 0.08), (0.42, 0.28, 0.16), (0.72, 0.58, 0.38)),
    eye_colours=((0.32, 0.19, 0.09), (0.14, 0.09, 0.06), (0.32, 0.46, 0.60)),
    background="room",
    background_colours=(
      (0.82, 0.78, 0.70),
      (0.70, 0.70, 0.68),
      (0.60, 0.55, 0.48),
      (0.45, 0.50, 0.55),
      (0.75, 0.68, 0.55),
    ),
    light_tints=((1.0, 0.92, 0.75), (0.95, 1.0, 0.9), (1.0, 0.97, 0.9)),
    face_scale=(0.2, 0.27),
    center_jitter=0.05,
    yaw=0.3,
    pitch=0.12,
    roll=0.12,
    motion=0.1,
    talk=(0.2, 0.6),
    ambient=(0.35, 0.5),
    diffuse=(0.3, 0.5),
    light_spread=0.7,
    light_elevation=(0.3, 0.8),
    specular=(0.0, 0.05),
    noise=(2.5, 5.0),
    blur=(0.003, 0.008),
    vignette=(0.1, 0.3),
    saturation=(0.8, 0.95),
    skin_texture=0.9,
    beard_probability=0.25,
    bald_probability=0.1,
    long_hair_probability=0.35,
  ),
}
