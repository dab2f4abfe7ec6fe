"""How a face moves during a video: head motion, talking, blinking, smiling, gaze.

Every quantity is a smooth function of the frame index (a sum of two sinusoids with random
frequency and phase), except blinks, which are drawn per frame. Head pose drifts slowly; the
mouth moves faster (talking). The framing keeps all 68 landmarks inside the image with a margin.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from fakenas_jax.data.synthetic import landmarks as lm
from fakenas_jax.data.synthetic.styles import RenderStyle

SLOW = (0.02, 0.08)  # head motion frequencies, cycles per frame
FAST = (0.12, 0.4)  # talking
LANDMARK_MARGIN = 0.06  # fraction of the image side kept free around the landmarks
FACE_ORIGIN_HEIGHT = 0.42  # the face origin (eye line) sits this many face units above centre


@dataclasses.dataclass(frozen=True)
class FaceTrack:
  """Per-frame expression and pose of one face."""

  expressions: tuple[lm.Expression, ...]
  poses: tuple[lm.Pose, ...]

  def __len__(self) -> int:
    return len(self.poses)


def oscillation(
  rng: np.random.Generator,
  num_frames: int,
  amplitude: float,
  frequencies: tuple[float, float] = SLOW,
) -> np.ndarray:
  """A smooth signal in about [-amplitude, amplitude], (num_frames,)."""
  t = np.arange(num_frames)
  weights = rng.uniform(0.5, 1.0, 2)
  phases = rng.uniform(0, 2 * np.pi, 2)
  rates = rng.uniform(*frequencies, 2)
  waves = weights[:, None] * np.sin(2 * np.pi * rates[:, None] * t + phases[:, None])
  return amplitude * waves.sum(axis=0) / weights.sum()


def talking(rng: np.random.Generator, num_frames: int, openness: float) -> np.ndarray:
  """Mouth opening per frame in [0, 1]: syllables, with the mouth closed between some."""
  return np.clip(openness * (0.3 + oscillation(rng, num_frames, 1.0, FAST)), 0.0, 1.0)


def blinks(rng: np.random.Generator, num_frames: int, rate: float = 0.1) -> np.ndarray:
  """Eyelid closure per frame: mostly open, some frames half or fully closed."""
  closed = rng.random(num_frames) < rate
  return np.where(closed, rng.uniform(0.6, 1.0, num_frames), 0.0)


def _fit_in_frame(
  shape: lm.FaceShape, expression: lm.Expression, pose: lm.Pose, resolution: int
) -> lm.Pose:
  """The pose moved (and shrunk if needed) so the landmarks keep the margin from the border."""
  margin = LANDMARK_MARGIN * resolution + 1.0
  for _ in range(3):
    points = lm.landmark_positions(shape, expression, pose)
    low, high = points.min(axis=0), points.max(axis=0)
    room = resolution - 1 - 2 * margin
    extent = float((high - low).max())
    if extent > room:
      pose = dataclasses.replace(pose, scale=pose.scale * room / extent * 0.98)
      continue
    shift = np.clip(low, margin, None) - low + np.clip(high, None, resolution - 1 - margin) - high
    if not shift.any():
      break
    pose = dataclasses.replace(
      pose, center_x=pose.center_x + float(shift[0]), center_y=pose.center_y + float(shift[1])
    )
  return pose


def make_track(
  style: RenderStyle,
  rng: np.random.Generator,
  num_frames: int,
  resolution: int,
  shape: lm.FaceShape,
) -> FaceTrack:
  """A face's motion through a video, framed for `shape` at `resolution`."""
  res = resolution
  scale = res * rng.uniform(*style.face_scale)
  centre_x = res * (0.5 + style.center_jitter * rng.uniform(-1, 1))
  centre_y = res * (0.5 + style.center_jitter * rng.uniform(-1, 1)) - FACE_ORIGIN_HEIGHT * scale
  yaw = rng.uniform(-style.yaw, style.yaw) + oscillation(rng, num_frames, style.motion)
  pitch = rng.uniform(-style.pitch, style.pitch) + oscillation(rng, num_frames, 0.5 * style.motion)
  roll = rng.uniform(-style.roll, style.roll) + oscillation(rng, num_frames, 0.5 * style.motion)
  drift_x = oscillation(rng, num_frames, 0.15 * style.motion * res)
  drift_y = oscillation(rng, num_frames, 0.1 * style.motion * res)
  zoom = 1.0 + oscillation(rng, num_frames, 0.2 * style.motion)

  openness = rng.uniform(*style.talk) if rng.random() < 0.85 else 0.0
  mouth = talking(rng, num_frames, openness)
  smile = np.clip(rng.uniform(-0.3, 0.8) + oscillation(rng, num_frames, 0.2), -1, 1)
  brow = np.clip(rng.uniform(-0.2, 0.3) + oscillation(rng, num_frames, 0.4), -1, 1)
  gaze_x = oscillation(rng, num_frames, 0.25)
  gaze_y = oscillation(rng, num_frames, 0.1)
  blink = blinks(rng, num_frames)

  expressions, poses = [], []
  for t in range(num_frames):
    expression = lm.Expression(
      mouth_open=float(mouth[t]),
      jaw_drop=float(mouth[t]),
      smile=float(smile[t]),
      blink_left=float(blink[t]),
      blink_right=float(blink[t]),
      brow_raise=float(brow[t]),
      gaze_x=float(gaze_x[t]),
      gaze_y=float(gaze_y[t]),
    )
    pose = lm.Pose(
      center_x=centre_x + float(drift_x[t]),
      center_y=centre_y + float(drift_y[t]),
      scale=scale * float(zoom[t]),
      yaw=float(yaw[t]),
      pitch=float(pitch[t]),
      roll=float(roll[t]),
    )
    expressions.append(expression)
    poses.append(_fit_in_frame(shape, expression, pose, res))
  return FaceTrack(tuple(expressions), tuple(poses))
