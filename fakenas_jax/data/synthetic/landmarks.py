"""A parametric face in dlib's 68-point layout, posed in 3-D and projected to the image.

Face units: x to the image right, y down, origin at the midpoint between the eyes, the jaw's
half-width at ear level about 1. Each point has a depth z (towards the camera) taken from a head
ellipsoid, plus the nose's protrusion, so yaw moves the inner features sideways inside the face
outline and compresses the outline, as a turning head does. The projection is orthographic:
pitch, then yaw, then roll in the image plane, scale (pixels per face unit) and translation.

Point indices follow dlib / iBUG 300-W (image left = the subject's right side):
0-16 jaw (image left to right, 8 = chin), 17-21 and 22-26 brows (left to right),
27-30 nose bridge (top to tip), 31-35 nostrils (left to right), 36-41 and 42-47 eyes
(clockwise from the image-left corner), 48-59 outer lip and 60-67 inner lip (clockwise from
the image-left corner). Besides the landmarks, the model gives the outlines the renderer needs
(head, hair, ears, neck, shoulders); these are not landmarks.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

NUM_LANDMARKS = 68
JAW = slice(0, 17)
LEFT_BROW = slice(17, 22)
RIGHT_BROW = slice(22, 27)
NOSE_BRIDGE = slice(27, 31)
NOSTRILS = slice(31, 36)
LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)
OUTER_LIP = slice(48, 60)
INNER_LIP = slice(60, 68)
MOUTH = slice(48, 68)

JAW_TOP = 0.08  # y of jaw points 0 and 16, just below the eye line
MOUTH_GAP = 0.3  # lip separation (face units) at mouth_open = 1
CHIN_DROP = 0.22  # chin descent (face units) at jaw_drop = 1
HEAD_DEPTH = 0.9  # depth of the head ellipsoid relative to the face width
NOSE_DEPTH = np.array([0.06, 0.14, 0.24, 0.36, 0.12, 0.2, 0.25, 0.2, 0.12], np.float32)


@dataclasses.dataclass(frozen=True)
class FaceShape:
  """Identity geometry, in face units (see the module docstring)."""

  width: float = 1.0  # jaw half-width at ear level
  chin: float = 1.65  # eye line to chin
  jaw_squareness: float = 2.4  # superellipse exponent of the jaw: 2 = elliptic, larger = square
  forehead: float = 1.45  # eye line to the top of the head
  brow_height: float = 0.32
  brow_arch: float = 0.06
  brow_thickness: float = 0.09
  eye_spacing: float = 0.44  # x of each eye centre
  eye_width: float = 0.2  # half-width
  eye_height: float = 0.085  # half opening
  eye_tilt: float = 0.0  # outer corners lower (+) or higher (-)
  nose_length: float = 0.68  # eye line to the base of the nose (point 33)
  nose_width: float = 0.24  # half-width at the nostrils
  mouth_y: float = 1.02
  mouth_width: float = 0.36  # half-width
  upper_lip: float = 0.07
  lower_lip: float = 0.09
  hairline: float = 1.05  # eye line to the hairline at the middle; larger = higher forehead
  hair_volume: float = 0.12  # how far the hair stands off the head
  hair_length: float = 0.2  # y where the hair ends on the sides (> chin: long hair)
  hair_part: float = 0.0  # sideways offset of the hairline's peak
  bald: bool = False
  ear_size: float = 0.3

  def with_outline_of(self, other: FaceShape) -> FaceShape:
    """These inner features (brows, eyes, nose, mouth) inside `other`'s head outline and hair.

    A face swap replaces the inner face and keeps the target's jaw, forehead and hair.
    """
    return dataclasses.replace(
      self,
      width=other.width,
      chin=other.chin,
      jaw_squareness=other.jaw_squareness,
      forehead=other.forehead,
      hairline=other.hairline,
      hair_volume=other.hair_volume,
      hair_length=other.hair_length,
      hair_part=other.hair_part,
      bald=other.bald,
      ear_size=other.ear_size,
    )


@dataclasses.dataclass(frozen=True)
class Expression:
  """Facial expression; all in [0, 1] except smile and brow_raise ([-1, 1]) and gaze."""

  mouth_open: float = 0.0
  jaw_drop: float = 0.0  # chin descent; a talking face has jaw_drop == mouth_open
  smile: float = 0.0
  blink_left: float = 0.0  # 1 = closed (image-left eye)
  blink_right: float = 0.0
  brow_raise: float = 0.0
  gaze_x: float = 0.0  # iris offset, fraction of the eye's half-width
  gaze_y: float = 0.0


@dataclasses.dataclass(frozen=True)
class Pose:
  """Where the face is: origin in pixels, pixels per face unit, rotations in radians."""

  center_x: float
  center_y: float
  scale: float
  yaw: float = 0.0  # + turns the face towards the image right
  pitch: float = 0.0  # + tilts the face down
  roll: float = 0.0  # + rotates clockwise in the image

  def scaled(self, factor: float, offset: float = 0.0) -> Pose:
    """The same pose in an image `factor` times smaller whose pixel i sits at i*factor+offset."""
    return dataclasses.replace(
      self,
      center_x=(self.center_x - offset) / factor,
      center_y=(self.center_y - offset) / factor,
      scale=self.scale / factor,
    )


@dataclasses.dataclass(frozen=True, eq=False)
class FaceGeometry:
  """A posed face in pixel coordinates (x, y), pixel centres at integers."""

  landmarks: np.ndarray  # (68, 2) float32
  head: np.ndarray  # skin outline: jaw then forehead arc, (N, 2)
  hair_front: np.ndarray | None  # hair over the forehead, between the outer and hairline arcs
  hair_back: np.ndarray  # hair behind the head (and down the sides for long hair)
  ears: tuple[np.ndarray, np.ndarray]
  neck: np.ndarray
  shoulders: np.ndarray
  beard: np.ndarray  # lower-face region where stubble grows
  pose: Pose
  shape: FaceShape
  expression: Expression

  def pixel_to_face(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Face-plane coordinates (u, v) of pixels, undoing roll, scale and translation."""
    cos, sin = math.cos(self.pose.roll), math.sin(self.pose.roll)
    inverse_scale = 1.0 / float(self.pose.scale)
    dx = (x - float(self.pose.center_x)) * inverse_scale
    dy = (y - float(self.pose.center_y)) * inverse_scale
    return cos * dx + sin * dy, -sin * dx + cos * dy


def _superellipse(theta: np.ndarray, exponent: float) -> tuple[np.ndarray, np.ndarray]:
  cos, sin = np.cos(theta), np.sin(theta)
  power = 2.0 / exponent
  return np.sign(cos) * np.abs(cos) ** power, np.sign(sin) * np.abs(sin) ** power


def _head_depth(shape: FaceShape, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Depth of the head ellipsoid's front surface at face-plane points."""
  half_height = 0.5 * (shape.chin + shape.forehead)
  centre_y = 0.5 * (shape.chin - shape.forehead)
  r2 = (x / (1.02 * shape.width)) ** 2 + ((y - centre_y) / half_height) ** 2
  return HEAD_DEPTH * shape.width * np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))


def canonical_landmarks(shape: FaceShape, expression: Expression) -> np.ndarray:
  """The 68 landmarks in face units with depth, (68, 3), before pose."""
  s, e = shape, expression
  points = np.zeros((NUM_LANDMARKS, 3), np.float64)

  # Jaw: a superellipse arc from ear level down to the chin; the chin follows the jaw drop.
  theta = np.pi * np.arange(17) / 16
  cx, sy = _superellipse(theta, s.jaw_squareness)
  points[JAW, 0] = -s.width * cx
  points[JAW, 1] = JAW_TOP + (s.chin - JAW_TOP) * sy + CHIN_DROP * e.jaw_drop * np.sin(theta) ** 2

  # Brows: outer to inner on the left, mirrored on the right; the raise lifts the inner end more.
  t = np.linspace(0.0, 1.0, 5)
  outer_x = s.eye_spacing + 1.15 * s.eye_width
  inner_x = max(0.1, s.eye_spacing - 1.05 * s.eye_width)
  brow_x = -(outer_x + (inner_x - outer_x) * t)
  brow_y = (
    -s.brow_height
    - s.brow_arch * np.sin(np.pi * (0.15 + 0.6 * (1 - t)))
    - 0.08 * e.brow_raise * (0.6 + 0.4 * t)
  )
  points[LEFT_BROW, 0], points[LEFT_BROW, 1] = brow_x, brow_y
  points[RIGHT_BROW, 0], points[RIGHT_BROW, 1] = -brow_x[::-1], brow_y[::-1]

  # Nose: bridge from between the eyes to the tip, nostrils across the base.
  nl, nw = s.nose_length, s.nose_width
  points[NOSE_BRIDGE, 0] = 0.0
  points[NOSE_BRIDGE, 1] = [-0.04, 0.27 * nl, 0.52 * nl, 0.8 * nl]
  points[NOSTRILS, 0] = [-nw, -0.5 * nw, 0.0, 0.5 * nw, nw]
  points[NOSTRILS, 1] = [nl - 0.06, nl - 0.015, nl, nl - 0.015, nl - 0.06]

  # Eyes: corners and two points on each lid; a blink closes both lids onto the corner line.
  for eye, centre, blink, outer_is_left in (
    (LEFT_EYE, -s.eye_spacing, e.blink_left, True),
    (RIGHT_EYE, s.eye_spacing, e.blink_right, False),
  ):
    h = s.eye_height * (1.0 - np.clip(blink, 0.0, 1.0))
    outer_y, inner_y = s.eye_tilt, -0.4 * s.eye_tilt
    left_y, right_y = (outer_y, inner_y) if outer_is_left else (inner_y, outer_y)
    mid = 0.5 * (outer_y + inner_y)
    points[eye, 0] = centre + s.eye_width * np.array([-1, -0.35, 0.35, 1, 0.35, -0.35])
    points[eye, 1] = [left_y, mid - h, mid - h, right_y, mid + 0.8 * h, mid + 0.8 * h]

  # Mouth: the gap opens mostly downwards (the jaw carries the lower lip); a smile widens the
  # mouth and lifts its corners along a parabola.
  gap = MOUTH_GAP * np.clip(e.mouth_open, 0.0, 1.0)
  mw = s.mouth_width * (1.0 + 0.12 * e.smile) - 0.05 * e.mouth_open
  upper = s.mouth_y - 0.15 * gap
  lower = s.mouth_y + 0.85 * gap
  ul, ll = s.upper_lip, s.lower_lip
  outer_x = mw * np.array([-1, -0.62, -0.25, 0, 0.25, 0.62, 1, 0.6, 0.28, 0, -0.28, -0.6])
  outer_y = np.array(
    [
      s.mouth_y,
      upper - 0.85 * ul,
      upper - 1.05 * ul,
      upper - 0.85 * ul,
      upper - 1.05 * ul,
      upper - 0.85 * ul,
      s.mouth_y,
      lower + 0.85 * ll,
      lower + 1.0 * ll,
      lower + 1.02 * ll,
      lower + 1.0 * ll,
      lower + 0.85 * ll,
    ]
  )
  inner_x = mw * np.array([-0.88, -0.3, 0, 0.3, 0.88, 0.3, 0, -0.3])
  inner_y = np.array([s.mouth_y, upper, upper, upper, s.mouth_y, lower, lower, lower])
  points[OUTER_LIP, 0], points[OUTER_LIP, 1] = outer_x, outer_y
  points[INNER_LIP, 0], points[INNER_LIP, 1] = inner_x, inner_y
  points[MOUTH, 1] -= 0.07 * e.smile * (points[MOUTH, 0] / mw) ** 2

  # Depth: on the head ellipsoid; the jaw is the silhouette; the nose protrudes.
  points[:, 2] = _head_depth(s, points[:, 0], points[:, 1])
  points[JAW, 2] = 0.0
  points[27:36, 2] += NOSE_DEPTH * (nl / 0.68)
  points[MOUTH, 2] += 0.04
  return points


def _arc(half_width: float, top: float, bottom: float, exponent: float, count: int) -> np.ndarray:
  """Upper superellipse arc from the right (angle 0) over the top to the left (angle pi)."""
  theta = np.linspace(0.0, np.pi, count)
  cx, sy = _superellipse(theta, exponent)
  return np.stack([half_width * cx, bottom - (bottom - top) * sy], axis=1)


def _ellipse(cx: float, cy: float, rx: float, ry: float, count: int = 14) -> np.ndarray:
  theta = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
  return np.stack([cx + rx * np.cos(theta), cy + ry * np.sin(theta)], axis=1)


def _with_depth(points: np.ndarray, depth: float | np.ndarray) -> np.ndarray:
  return np.concatenate(
    [points, np.broadcast_to(np.float64(depth), (len(points),))[:, None]], axis=1
  )


@functools.lru_cache(maxsize=1024)
def _fixed_outlines(shape: FaceShape) -> dict[str, np.ndarray]:
  """The outlines that do not move with the expression, in face units with depth, (N, 3)."""
  s = shape
  outlines = {"forehead": _with_depth(_arc(s.width, -s.forehead, JAW_TOP, 2.3, 15)[1:-1], 0.0)}

  volume = s.width + s.hair_volume
  outer = _arc(volume, -s.forehead - s.hair_volume, JAW_TOP, 2.4, 17)
  side_bottom = max(s.hair_length, JAW_TOP)
  back = np.concatenate(
    [
      outer,
      [
        [-volume * 1.02, side_bottom],
        [-0.5 * s.width, side_bottom],
        [0.5 * s.width, side_bottom],
        [volume * 1.02, side_bottom],
      ],
    ],
    axis=0,
  )
  outlines["hair_back"] = _with_depth(back, -0.4)
  if not s.bald:
    # The hairline runs from the temples (just above the eye line) up to its peak.
    temple_y = -0.18
    hairline = _arc(0.97 * s.width, -s.hairline, temple_y, 1.6, 15)
    hairline[:, 1] -= 0.18 * s.hair_part * np.sin(2 * np.linspace(0, np.pi, 15))
    hair_outer = outer[outer[:, 1] <= temple_y + 0.05]
    front = np.concatenate([hair_outer, hairline[::-1]], axis=0)
    depth = np.concatenate(
      [np.zeros(len(hair_outer)), _head_depth(s, hairline[::-1, 0], hairline[::-1, 1])]
    )
    outlines["hair_front"] = np.concatenate([front, depth[:, None]], axis=1)

  ear_rx, ear_ry = 0.13 * s.ear_size / 0.3, 0.5 * s.ear_size
  outlines["ear_left"] = _with_depth(_ellipse(-s.width - 0.02, 0.18, ear_rx, ear_ry), -0.3)
  outlines["ear_right"] = _with_depth(_ellipse(s.width + 0.02, 0.18, ear_rx, ear_ry), -0.3)

  neck_w = 0.56 * s.width
  neck_top = JAW_TOP + (s.chin - JAW_TOP) * 0.75
  outlines["neck"] = _with_depth(
    np.array(
      [
        [-neck_w, neck_top],
        [neck_w, neck_top],
        [neck_w * 1.05, s.chin + 1.6],
        [-neck_w * 1.05, s.chin + 1.6],
      ]
    ),
    -0.25,
  )
  shoulder_top = s.chin + 0.45
  outlines["shoulders"] = _with_depth(
    np.array(
      [
        [-0.7 * s.width, shoulder_top],
        [0.7 * s.width, shoulder_top],
        [2.0 * s.width, shoulder_top + 0.35],
        [2.8 * s.width, shoulder_top + 0.8],
        [2.8 * s.width, s.chin + 3.0],
        [-2.8 * s.width, s.chin + 3.0],
        [-2.8 * s.width, shoulder_top + 0.8],
        [-2.0 * s.width, shoulder_top + 0.35],
      ]
    ),
    -0.35,
  )

  # Stubble grows up to just under the nose; the rest of its outline is the jaw.
  beard_top = s.nose_length + 0.08
  moustache = np.array([[0.75 * s.width, beard_top], [-0.75 * s.width, beard_top]])
  outlines["beard_top"] = np.concatenate(
    [moustache, _head_depth(s, moustache[:, 0], moustache[:, 1])[:, None]], axis=1
  )
  for points in outlines.values():
    points.flags.writeable = False
  return outlines


def outline_points(shape: FaceShape, jaw: np.ndarray) -> dict[str, np.ndarray]:
  """The non-landmark outlines in face units with depth, each (N, 3); `jaw` is points 0-16."""
  fixed = _fixed_outlines(shape)
  outlines = {
    name: points for name, points in fixed.items() if name not in ("forehead", "beard_top")
  }
  silhouette = jaw.copy()
  silhouette[:, 2] = 0.0
  outlines["head"] = np.concatenate([silhouette, fixed["forehead"]])
  lower_jaw = jaw[2:15].copy()
  lower_jaw[:, 2] = _head_depth(shape, lower_jaw[:, 0], lower_jaw[:, 1])
  outlines["beard"] = np.concatenate([lower_jaw, fixed["beard_top"]])
  return outlines


def project(points: np.ndarray, pose: Pose) -> np.ndarray:
  """Pixel coordinates (N, 2) of face-unit points with depth (N, 3)."""
  cos_p, sin_p = math.cos(pose.pitch), math.sin(pose.pitch)
  cos_y, sin_y = math.cos(pose.yaw), math.sin(pose.yaw)
  cos_r, sin_r = math.cos(pose.roll), math.sin(pose.roll)
  # Pitch about x, then yaw about y, then roll and scale in the image plane: one 2x3 matrix.
  pitched_y = np.array([0.0, cos_p, -sin_p])
  pitched_z = np.array([0.0, sin_p, cos_p])
  yawed_x = cos_y * np.array([1.0, 0.0, 0.0]) + sin_y * pitched_z
  rows = pose.scale * np.stack(
    [cos_r * yawed_x - sin_r * pitched_y, sin_r * yawed_x + cos_r * pitched_y]
  )
  return points @ rows.T + np.array([pose.center_x, pose.center_y])


def landmark_positions(shape: FaceShape, expression: Expression, pose: Pose) -> np.ndarray:
  """The 68 posed landmarks in pixels, (68, 2) float32, without the outlines."""
  return project(canonical_landmarks(shape, expression), pose).astype(np.float32)


def face_geometry(shape: FaceShape, expression: Expression, pose: Pose) -> FaceGeometry:
  """The posed face: exact landmarks and the outlines the renderer fills."""
  canonical = canonical_landmarks(shape, expression)
  outlines = outline_points(shape, canonical[JAW])
  names = list(outlines)
  sizes = [len(canonical)] + [len(outlines[name]) for name in names]
  pixels = project(np.concatenate([canonical] + [outlines[name] for name in names]), pose)
  parts = dict(zip(["landmarks"] + names, np.split(pixels, np.cumsum(sizes)[:-1])))
  return FaceGeometry(
    landmarks=parts["landmarks"].astype(np.float32),
    head=parts["head"],
    hair_front=parts.get("hair_front"),
    hair_back=parts["hair_back"],
    ears=(parts["ear_left"], parts["ear_right"]),
    neck=parts["neck"],
    shoulders=parts["shoulders"],
    beard=parts["beard"],
    pose=pose,
    shape=shape,
    expression=expression,
  )
