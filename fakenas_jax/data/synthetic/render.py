"""Drawing a frame from a posed face, an identity and a scene.

Every facial part is filled from the landmarks themselves (anti-aliased, sub-pixel polygons), so
the landmarks are exact: the skin from the jaw and a forehead arc, brows along points 17-26, eyes
inside 36-47 with iris and pupil clipped to the lids, nostrils and the nose base from 31-35, lips
between 48-59 and 60-67, the mouth's inside and teeth within 60-67. Skin is lit as an ellipsoid
by one directional light (ambient + Lambert + a Blinn highlight), with relief (eye sockets, nose
and lip shadows) and per-identity detail mapped in face coordinates so it moves with the face.
The camera then applies a colour cast, saturation, vignetting, blur and sensor noise.

`flat=True` is the look of a graphics-based face swap (FaceSwap, DFDC's graphics methods): no
skin detail or relief, cel-shaded light in three hard steps, no camera blur or noise.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import cv2
import numpy as np

from fakenas_jax.data.synthetic import landmarks as lm
from fakenas_jax.data.synthetic.identity import TEXTURE_EXTENT, TEXTURE_SIZE, Identity
from fakenas_jax.data.synthetic.styles import RenderStyle

SUBPIXEL_BITS = 4  # cv2 drawing precision: coordinates in 1/16 pixel
SCLERA = np.array([0.93, 0.91, 0.88], np.float32)
TEETH = np.array([0.93, 0.91, 0.84], np.float32)
MOUTH_INSIDE = np.array([0.3, 0.08, 0.09], np.float32)
PUPIL = np.array([0.04, 0.03, 0.03], np.float32)
SKIN_DETAIL = 0.035  # relative skin-brightness change per unit of detail texture and style strength
HAIR_DETAIL = 0.2


@dataclasses.dataclass(frozen=True, eq=False)
class Scene:
  """What stays fixed during one video: background, light and camera."""

  background: np.ndarray  # (res, res, 3) float32 in [0, 1], read-only
  light: np.ndarray  # (3,) unit vector towards the light; x right, y down, z to the camera
  ambient: float
  diffuse: float
  specular: float
  tint: np.ndarray  # (3,) colour cast of the light
  clothing: np.ndarray  # (3,)
  noise: float  # sensor noise sigma, grey levels
  blur: float  # camera blur sigma, pixels
  vignette: float
  saturation: float
  skin_texture: float  # strength of the identity's skin detail

  @property
  def resolution(self) -> int:
    return self.background.shape[0]


@functools.lru_cache(maxsize=16)
def pixel_grid(resolution: int) -> tuple[np.ndarray, np.ndarray]:
  """Pixel-centre coordinates (x, y), each (res, res) float32, read-only."""
  ys, xs = np.mgrid[0:resolution, 0:resolution].astype(np.float32)
  xs.flags.writeable = False
  ys.flags.writeable = False
  return xs, ys


@functools.lru_cache(maxsize=16)
def _radius_squared(resolution: int) -> np.ndarray:
  xs, ys = pixel_grid(resolution)
  centre = (resolution - 1) / 2
  r2 = ((xs - centre) ** 2 + (ys - centre) ** 2) / (2 * centre**2 + 1e-6)
  r2.flags.writeable = False
  return r2


# ---------------------------------------------------------------------------------------------
# Scenes


def _pick(rng: np.random.Generator, colours, count: int = 1) -> np.ndarray:
  palette = np.asarray(colours, np.float32)
  return palette[rng.choice(len(palette), size=count, replace=count > len(palette))]


def _low_frequency(rng: np.random.Generator, resolution: int, cells: int) -> np.ndarray:
  grid = rng.standard_normal((cells, cells, 3)).astype(np.float32)
  return cv2.resize(grid, (resolution, resolution), interpolation=cv2.INTER_CUBIC)


def _background(style: RenderStyle, rng: np.random.Generator, resolution: int) -> np.ndarray:
  res = resolution
  xs, ys = pixel_grid(res)
  top, bottom = _pick(rng, style.background_colours, 2) * rng.uniform(0.8, 1.1, (2, 1))
  ramp = (ys / max(res - 1, 1))[..., None]
  image = top + (bottom - top) * ramp
  if style.background == "backdrop":
    # Studio backdrop: a soft light pool behind the head, sometimes a screen or desk band.
    cx, cy = res * rng.uniform(0.3, 0.7), res * rng.uniform(0.2, 0.5)
    pool = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (0.35 * res) ** 2))
    image = image * (0.8 + rng.uniform(0.2, 0.45) * pool[..., None])
    if rng.random() < 0.6:
      band = np.zeros((res, res), np.uint8)
      y0 = int(res * rng.uniform(0.55, 0.8))
      x0 = int(res * rng.uniform(-0.2, 0.5))
      cv2.rectangle(band, (x0, y0), (x0 + int(res * rng.uniform(0.3, 0.9)), res), 255, -1)
      alpha = cv2.GaussianBlur(band, (0, 0), 0.01 * res + 0.5).astype(np.float32)[..., None] / 255
      image += alpha * (_pick(rng, style.background_colours)[0] - image) * 0.8
    image += 0.03 * _low_frequency(rng, res, 4)
  elif style.background == "bokeh":
    # Out-of-focus lights: bright discs, heavily blurred.
    lights = np.zeros((res, res, 3), np.float32)
    for _ in range(int(rng.integers(6, 14))):
      colour = _pick(rng, style.background_colours)[0] * rng.uniform(0.9, 1.4)
      centre = tuple(int(c) for c in rng.uniform(-0.05, 1.05, 2) * res)
      radius = max(1, int(res * rng.uniform(0.04, 0.13)))
      cv2.circle(lights, centre, radius, colour.tolist(), -1, cv2.LINE_AA)
    lights = cv2.GaussianBlur(lights, (0, 0), 0.025 * res + 0.3)
    image = image * 0.65 + 0.55 * lights
  elif style.background == "clutter":
    # Everyday surroundings: many overlapping objects at many contrasts, lightly blurred.
    for _ in range(int(rng.integers(10, 24))):
      colour = (_pick(rng, style.background_colours)[0] * rng.uniform(0.5, 1.1)).tolist()
      x0, y0 = (rng.uniform(-0.1, 1.0, 2) * res).astype(int)
      w, h = (rng.uniform(0.05, 0.5, 2) * res).astype(int) + 1
      if rng.random() < 0.7:
        cv2.rectangle(image, (x0, y0), (x0 + w, y0 + h), colour, -1, cv2.LINE_AA)
      else:
        thickness = max(1, int(rng.uniform(0.005, 0.03) * res))
        cv2.line(image, (x0, y0), (x0 + w, y0 + h), colour, thickness, cv2.LINE_AA)
    image = cv2.GaussianBlur(image, (0, 0), 0.006 * res + 0.3)
    image += 0.04 * _low_frequency(rng, res, 12)
  elif style.background == "room":
    # A plain room: a wall corner, a door or window, a picture; lit by a lamp to one side.
    wall = _pick(rng, style.background_colours)[0]
    image = np.broadcast_to(wall, (res, res, 3)).copy()
    corner = int(res * rng.uniform(-0.2, 1.2))
    image[:, max(corner, 0) :] *= rng.uniform(0.75, 0.95)
    for _ in range(int(rng.integers(1, 3))):
      x0, y0 = int(res * rng.uniform(-0.1, 0.8)), int(res * rng.uniform(-0.1, 0.4))
      w, h = int(res * rng.uniform(0.15, 0.35)), int(res * rng.uniform(0.2, 0.8))
      colour = (wall * rng.uniform(0.45, 1.25, 3)).clip(0, 1).tolist()
      cv2.rectangle(image, (x0, y0), (x0 + w, y0 + h), colour, -1, cv2.LINE_AA)
      edge = (np.asarray(colour) * 0.6).tolist()
      cv2.rectangle(image, (x0, y0), (x0 + w, y0 + h), edge, max(1, res // 64), cv2.LINE_AA)
    lamp_x = res * rng.choice([-0.3, 1.3])
    falloff = np.exp(-((xs - lamp_x) ** 2) / (2 * (0.9 * res) ** 2))
    image *= (0.7 + 0.4 * falloff)[..., None]
    image = cv2.GaussianBlur(image, (0, 0), 0.004 * res + 0.3)
  else:
    raise ValueError(f"Unknown background type {style.background!r}")
  image = np.clip(image, 0.0, 1.0).astype(np.float32)
  image.flags.writeable = False
  return image


def make_scene(style: RenderStyle, rng: np.random.Generator, resolution: int) -> Scene:
  """A background, a light and a camera drawn from `style`."""
  azimuth = rng.uniform(-1.0, 1.0) * style.light_spread * np.pi / 2
  elevation = rng.uniform(*style.light_elevation)
  light = np.array(
    [np.sin(azimuth) * np.cos(elevation), -np.sin(elevation), np.cos(azimuth) * np.cos(elevation)],
    np.float32,
  )
  return Scene(
    background=_background(style, rng, resolution),
    light=light / np.linalg.norm(light),
    ambient=float(rng.uniform(*style.ambient)),
    diffuse=float(rng.uniform(*style.diffuse)),
    specular=float(rng.uniform(*style.specular)),
    tint=_pick(rng, style.light_tints)[0],
    clothing=rng.uniform(0.08, 0.75, 3).astype(np.float32),
    noise=float(rng.uniform(*style.noise)),
    blur=float(rng.uniform(*style.blur)) * resolution,
    vignette=float(rng.uniform(*style.vignette)),
    saturation=float(rng.uniform(*style.saturation)),
    skin_texture=style.skin_texture,
  )


# ---------------------------------------------------------------------------------------------
# Drawing helpers: work inside a polygon's bounding box, so small parts cost little.

Box = tuple[slice, slice]


def _fixed_point(points: np.ndarray) -> np.ndarray:
  return np.round(np.asarray(points) * (1 << SUBPIXEL_BITS)).astype(np.int32)


def bounding_box(polygons: list[np.ndarray], resolution: int) -> Box | None:
  """(rows, columns) slices covering the polygons plus an anti-aliasing pixel; None if outside."""
  points = polygons[0] if len(polygons) == 1 else np.concatenate(polygons)
  (x_low, y_low), (x_high, y_high) = points.min(axis=0).tolist(), points.max(axis=0).tolist()
  x0, y0 = max(math.floor(x_low) - 1, 0), max(math.floor(y_low) - 1, 0)
  x1, y1 = min(math.ceil(x_high) + 2, resolution), min(math.ceil(y_high) + 2, resolution)
  if x1 <= x0 or y1 <= y0:
    return None
  return slice(y0, y1), slice(x0, x1)


def coverage(polygons: list[np.ndarray], box: Box) -> np.ndarray:
  """Anti-aliased coverage in [0, 1] of filled polygons (pixel coordinates) within `box`."""
  rows, columns = box
  origin = np.array([columns.start, rows.start])
  canvas = np.zeros((rows.stop - rows.start, columns.stop - columns.start), np.uint8)
  cv2.fillPoly(
    canvas, [_fixed_point(p - origin) for p in polygons], 255, cv2.LINE_AA, SUBPIXEL_BITS
  )
  return canvas.astype(np.float32) * np.float32(1.0 / 255.0)


def _paint(image: np.ndarray, box: Box, alpha: np.ndarray, colour: np.ndarray) -> None:
  """image[box] <- image + alpha * (colour - image), in place; `colour` is (3,) or full-frame."""
  region = image[box]
  if colour.ndim == 3:
    colour = colour[box]
  region += alpha[..., None] * (colour - region)


def _fill(
  image: np.ndarray, polygons: list[np.ndarray], colour: np.ndarray, opacity: float = 1.0
) -> None:
  box = bounding_box(polygons, image.shape[0])
  if box is not None:
    alpha = coverage(polygons, box)
    _paint(image, box, alpha * np.float32(opacity) if opacity != 1.0 else alpha, colour)


_UNIT_CIRCLES = {
  count: np.stack([np.cos(theta), np.sin(theta)], axis=1)
  for count in (8, 10, 16)
  for theta in [np.linspace(0, 2 * np.pi, count, endpoint=False)]
}


def _circle(centre: np.ndarray, radius: float, count: int = 16) -> np.ndarray:
  """A regular `count`-gon approximating the circle."""
  return centre + radius * _UNIT_CIRCLES[count]


class _FaceField:
  """Per-pixel face-plane coordinates (u, v) of one frame, for smooth face-attached terms."""

  def __init__(self, geometry: lm.FaceGeometry, u: np.ndarray, v: np.ndarray):
    self.pose = geometry.pose
    self.u, self.v = u, v
    self.resolution = u.shape[0]

  def add_gaussian(
    self, field: np.ndarray, amplitude: float, cu: float, cv: float, su: float, sv: float
  ) -> None:
    """field += amplitude * exp(-((u - cu) / su)^2 - ((v - cv) / sv)^2), within 3 sigma."""
    pose = self.pose
    cos, sin = math.cos(pose.roll), math.sin(pose.roll)
    x = pose.center_x + pose.scale * (cos * cu - sin * cv)
    y = pose.center_y + pose.scale * (sin * cu + cos * cv)
    reach = 3.0 * max(su, sv) * pose.scale
    box = bounding_box(
      [np.array([[x - reach, y - reach], [x + reach, y + reach]])], self.resolution
    )
    if box is None:
      return
    du = (self.u[box] - np.float32(cu)) * np.float32(1.0 / su)
    dv = (self.v[box] - np.float32(cv)) * np.float32(1.0 / sv)
    field[box] += np.float32(amplitude) * np.exp(-(du * du + dv * dv))


# ---------------------------------------------------------------------------------------------
# Frame


def render_face(
  identity: Identity,
  geometry: lm.FaceGeometry,
  scene: Scene,
  rng: np.random.Generator | None,
  *,
  flat: bool = False,
  iris_colours: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
  """One frame, uint8 (res, res, 3) RGB. `rng` draws the sensor noise (None: no noise).

  `iris_colours` overrides the identity's (left, right) iris colour.
  """
  res = scene.resolution
  shape = geometry.shape
  points = geometry.landmarks.astype(np.float64)
  xs, ys = pixel_grid(res)
  u, v = geometry.pixel_to_face(xs, ys)
  face = _FaceField(geometry, u, v)
  scale = geometry.pose.scale
  f32 = np.float32

  # Ellipsoid normals in camera coordinates (roll undone), then Lambert + Blinn.
  half_height = 0.5 * (shape.chin + shape.forehead)
  a, b, c = 1.02 * shape.width, half_height, lm.HEAD_DEPTH * shape.width
  nu = u * f32(1.0 / a)
  nv = (v - f32(0.5 * (shape.chin - shape.forehead))) * f32(1.0 / b)
  nz = np.sqrt(np.clip(1.0 - nu * nu - nv * nv, 0.0, 1.0)) * f32(1.0 / c)
  nu *= f32(1.0 / a)
  nv *= f32(1.0 / b)
  cos_r, sin_r = math.cos(geometry.pose.roll), math.sin(geometry.pose.roll)
  nx, ny = cos_r * nu - sin_r * nv, sin_r * nu + cos_r * nv
  inverse_norm = 1.0 / (np.sqrt(nx * nx + ny * ny + nz * nz) + f32(1e-6))
  light = scene.light
  lambert = np.clip((nx * light[0] + ny * light[1] + nz * light[2]) * inverse_norm, 0.0, 1.0)
  if flat:
    lambert = np.where(lambert > 0.6, f32(1.0), np.where(lambert > 0.3, f32(0.65), f32(0.35)))
  shade = f32(scene.ambient) + f32(scene.diffuse) * lambert

  if flat:
    skin_detail = hair_detail = f32(0.0)
  else:
    u0, u1, v0, v1 = TEXTURE_EXTENT
    map_u = (u - f32(u0)) * f32((TEXTURE_SIZE - 1) / (u1 - u0))
    map_v = (v - f32(v0)) * f32((TEXTURE_SIZE - 1) / (v1 - v0))
    detail = cv2.remap(
      identity.detail, map_u, map_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    skin_detail, hair_detail = detail[..., 0], detail[..., 1]

  skin = np.asarray(identity.skin, f32)
  hair = np.asarray(identity.hair, f32)
  image = scene.background.copy()

  # Behind the face: hair, clothing, neck, ears.
  hair_light = (f32(0.85) * shade * (1.0 + f32(HAIR_DETAIL) * hair_detail))[..., None]
  hair_colour = hair * hair_light
  _fill(image, [geometry.hair_back], hair_colour)
  body_light = f32(scene.ambient + 0.6 * scene.diffuse)
  _fill(image, [geometry.shoulders], scene.clothing * body_light)
  neck_shadow = f32(0.62) + f32(0.25) * np.clip((v - f32(shape.chin)) * f32(1 / 0.6), 0.0, 1.0)
  _fill(image, [geometry.neck], skin * (body_light * neck_shadow)[..., None])
  _fill(image, list(geometry.ears), skin * (f32(0.9) * body_light))

  # Skin: lit ellipsoid, relief, detail, blush, highlight.
  relief = np.ones((res, res), f32)
  if not flat:
    dark_side = -1.0 if light[0] > 0 else 1.0
    face.add_gaussian(relief, -0.09, -shape.eye_spacing, 0.0, 0.24, 0.13)
    face.add_gaussian(relief, -0.09, shape.eye_spacing, 0.0, 0.24, 0.13)
    face.add_gaussian(
      relief,
      -(0.04 + 0.12 * abs(float(light[0]))),
      dark_side * 0.12,
      0.4 * shape.nose_length,
      0.05,
      0.32,
    )
    face.add_gaussian(relief, -0.12, 0.0, shape.nose_length + 0.05, 0.14, 0.035)
    face.add_gaussian(relief, -0.09, 0.0, shape.mouth_y + 0.24, 0.17, 0.05)
    face.add_gaussian(relief, 0.05, 0.0, 0.8 * shape.nose_length, 0.06, 0.06)
  lit = shade * relief
  brightness = lit
  if not flat:
    brightness = lit * (1.0 + f32(SKIN_DETAIL * scene.skin_texture) * skin_detail)
  skin_colour = skin * brightness[..., None]
  if identity.blush and not flat:
    cheeks = np.zeros((res, res), f32)
    face.add_gaussian(cheeks, identity.blush, -0.5, 0.55, 0.22, 0.18)
    face.add_gaussian(cheeks, identity.blush, 0.5, 0.55, 0.22, 0.18)
    skin_colour += cheeks[..., None] * np.array([0.8, -0.1, -0.05], f32)
  if scene.specular and not flat:
    half = light + np.array([0.0, 0.0, 1.0], f32)
    half /= np.linalg.norm(half)
    glint = np.clip((nx * half[0] + ny * half[1] + nz * half[2]) * inverse_norm, 0.0, 1.0)
    glint *= glint
    glint *= glint
    glint *= glint  # ^8
    skin_colour += (f32(scene.specular) * glint * glint * glint)[..., None]  # ^24
  _fill(image, [geometry.head], skin_colour)

  if identity.beard:
    box = bounding_box([geometry.beard], res)
    if box is not None:
      alpha = cv2.GaussianBlur(coverage([geometry.beard], box), (0, 0), 0.06 * scale + 0.3)
      stubble = np.clip(0.75 + 0.25 * hair_detail[box], 0.0, 1.0) if not flat else 0.75
      _paint(image, box, alpha * f32(identity.beard) * stubble, hair_colour * f32(0.8))
  if geometry.hair_front is not None:
    _fill(image, [geometry.hair_front], hair_colour)

  # Brows: a band along points 17-21 / 22-26, thicker at the inner end.
  up = np.array([sin_r, -cos_r]) * scale
  taper = shape.brow_thickness * np.array([0.55, 0.8, 0.95, 1.0, 1.0])[:, None]
  brows = []
  for brow, inner_last in ((points[lm.LEFT_BROW], True), (points[lm.RIGHT_BROW], False)):
    thick = taper if inner_last else taper[::-1]
    brows.append(np.concatenate([brow + 0.5 * thick * up, (brow - 0.5 * thick * up)[::-1]]))
  _fill(image, brows, np.asarray(identity.brows, f32) * shade[..., None], opacity=0.9)

  # Eyes: sclera within the lids, iris and pupil clipped to it; lid lines.
  irises = iris_colours or (identity.iris, identity.iris)
  eye_light = f32(scene.ambient + 0.7 * scene.diffuse)
  strokes = np.zeros((res, res), np.uint8)
  for eye, iris_colour in ((lm.LEFT_EYE, irises[0]), (lm.RIGHT_EYE, irises[1])):
    outline = points[eye]
    opening = np.linalg.norm(outline[1] - outline[5]) + np.linalg.norm(outline[2] - outline[4])
    box = bounding_box([outline], res)
    if opening > 0.15 and box is not None:
      inside = coverage([outline], box)
      _paint(image, box, inside, SCLERA * eye_light)
      width = np.linalg.norm(outline[3] - outline[0])
      axis = (outline[3] - outline[0]) / max(width, 1e-6)
      look = geometry.expression
      centre = (
        0.5 * (outline[0] + outline[3])
        + 0.3 * width * look.gaze_x * axis
        + 0.1 * width * look.gaze_y * np.array([-axis[1], axis[0]])
      )
      iris_r = 0.26 * width
      _paint(
        image,
        box,
        coverage([_circle(centre, iris_r)], box) * inside,
        np.asarray(iris_colour, f32) * eye_light,
      )
      _paint(image, box, coverage([_circle(centre, 0.42 * iris_r, 10)], box) * inside, PUPIL)
    cv2.polylines(
      strokes,
      [_fixed_point(outline[:4])],
      False,
      200,
      max(1, int(round(0.018 * scale))),
      cv2.LINE_AA,
      SUBPIXEL_BITS,
    )

  # Nose base and nostrils.
  nostrils = points[lm.NOSTRILS]
  cv2.polylines(strokes, [_fixed_point(nostrils)], False, 70, 1, cv2.LINE_AA, SUBPIXEL_BITS)
  nostril_r = max(0.4, 0.035 * scale)
  for centre in (0.5 * (nostrils[0] + nostrils[1]), 0.5 * (nostrils[3] + nostrils[4])):
    cv2.fillPoly(
      strokes, [_fixed_point(_circle(centre, nostril_r, 8))], 150, cv2.LINE_AA, SUBPIXEL_BITS
    )

  # Mouth: lips, the dark inside and upper teeth, or the line between closed lips.
  outer, inner = points[lm.OUTER_LIP], points[lm.INNER_LIP]
  _fill(image, [outer], np.asarray(identity.lips, f32) * lit[..., None])
  gap = np.linalg.norm(inner[6] - inner[2])
  if gap > 0.3:
    box = bounding_box([inner], res)
    if box is not None:
      mouth = coverage([inner], box)
      _paint(image, box, mouth, MOUTH_INSIDE * f32(scene.ambient))
      teeth_depth = min(0.45 * gap, 0.07 * scale)
      upper = inner[[0, 1, 2, 3, 4]]
      teeth = np.concatenate([upper, (upper - teeth_depth * up / scale)[::-1]])
      _paint(
        image, box, coverage([teeth], box) * mouth, TEETH * f32(scene.ambient + 0.6 * scene.diffuse)
      )
  else:
    cv2.polylines(
      strokes, [_fixed_point(inner[[0, 1, 2, 3, 4]])], False, 120, 1, cv2.LINE_AA, SUBPIXEL_BITS
    )

  image *= (1.0 - strokes.astype(f32) * f32(0.75 / 255.0))[..., None]
  return _camera(image, scene, rng, flat)


def _camera(
  image: np.ndarray, scene: Scene, rng: np.random.Generator | None, flat: bool
) -> np.ndarray:
  """Colour cast, saturation, vignetting, blur and sensor noise; quantises to uint8."""
  # Colour cast then saturation, as one colour matrix, and the scaling to grey levels.
  saturation = scene.saturation
  mixing = saturation * np.eye(3) + (1.0 - saturation) / 3.0
  image = cv2.transform(image, (255.0 * mixing * scene.tint[None, :]).astype(np.float32))
  if scene.vignette:
    image *= (1.0 - np.float32(scene.vignette) * _radius_squared(scene.resolution))[..., None]
  if not flat and scene.blur > 0.25:
    image = cv2.GaussianBlur(image, (0, 0), scene.blur)
  if rng is not None and not flat and scene.noise > 0:
    image += np.float32(scene.noise) * rng.standard_normal(image.shape, dtype=np.float32)
  image += np.float32(0.5)
  return np.clip(image, 0.0, 255.0, out=image).astype(np.uint8)
