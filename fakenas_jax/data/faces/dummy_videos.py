"""Small real video files with real faces, for the corpus builders' dummy data and tests.

A real face photograph (`photos.PHOTOS`) is pasted, with a soft elliptic edge, onto a seeded
background of smooth colour and panels, and drifts and breathes in scale a little from frame to
frame; sensor noise differs per frame. The face is about 40 % of the frame height, so dlib's
HOG detector finds it in every frame at 160 x 120 and up. A "swapped" video puts the face of
another photograph onto a target video, aligned on the target's 68 landmarks, colour-matched and
feather-blended inside the target's face hull, as face-swap corpora do. Files are written with
OpenCV: mp4v in `.mp4`, MJPG in `.avi`.
"""

from __future__ import annotations

import os
import pathlib

import cv2
import numpy as np

from fakenas_jax.data.faces import detection, video_io
from fakenas_jax.data.faces.photos import PHOTOS, load_photo

CODECS = {".mp4": "mp4v", ".avi": "MJPG"}
FACE_SHARE = 0.4  # face box height / frame height
DRIFT = 0.04  # drift amplitude, share of the frame side
BREATHING = 0.04  # relative scale change amplitude
NOISE_SIGMA = 2.0  # grey levels of per-frame sensor noise
SWAP_EROSION = 0.04  # the swapped region is the face hull eroded by this share of the face size
SWAP_FEATHER = 0.03  # Gaussian feather sigma, share of the face size

__all__ = [
  "CODECS",
  "PHOTOS",
  "face_video_frames",
  "faceless_video_frames",
  "swap_face",
  "write_corrupt_video",
  "write_face_video",
  "write_faceless_video",
  "write_frames",
  "write_swapped_video",
]


def _codec(path: str | os.PathLike) -> str:
  suffix = pathlib.Path(path).suffix.lower()
  if suffix not in CODECS:
    raise ValueError(
      f"Unsupported video suffix {suffix!r} of {os.fspath(path)}; supported: {', '.join(CODECS)}"
    )
  return CODECS[suffix]


def _check_size(size: tuple[int, int], num_frames: int) -> tuple[int, int]:
  width, height = (int(value) for value in size)
  if width < 64 or height < 64 or width % 2 or height % 2:
    raise ValueError(f"size must be (width, height), both even and >= 64, got {size}")
  if num_frames < 1:
    raise ValueError(f"num_frames must be >= 1, got {num_frames}")
  return width, height


def write_frames(path: str | os.PathLike, frames: list[np.ndarray], fps: float = 10) -> None:
  """Writes uint8 RGB frames (all of one size) as a video, with the codec of the path's suffix."""
  height, width = frames[0].shape[:2]
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  writer = cv2.VideoWriter(
    os.fspath(path), cv2.VideoWriter_fourcc(*_codec(path)), float(fps), (width, height)
  )
  if not writer.isOpened():
    raise RuntimeError(f"OpenCV cannot write {os.fspath(path)} with codec {_codec(path)}")
  try:
    for frame in frames:
      writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  finally:
    writer.release()


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
  """float32 (H, W, 3): a smooth colour field with a few flat panels (walls, furniture)."""
  corners = rng.uniform(40, 200, (2, 2, 3)).astype(np.float32)
  image = cv2.resize(corners, (width, height), interpolation=cv2.INTER_LINEAR)
  for _ in range(rng.integers(2, 5)):
    x0, x1 = np.sort(rng.integers(0, width, 2))
    y0, y1 = np.sort(rng.integers(0, height, 2))
    image[y0 : y1 + 1, x0 : x1 + 1] = 0.5 * image[y0 : y1 + 1, x0 : x1 + 1] + 0.5 * rng.uniform(
      30, 220, 3
    )
  return cv2.GaussianBlur(image, (0, 0), 1.0)


def _head_sprite(name: str) -> tuple[np.ndarray, np.ndarray, float]:
  """(RGB float32 head square, alpha float32 of its soft ellipse, face side / head side)."""
  photo = load_photo(name)
  left, top, side = photo.head
  head = photo.image[top : top + side, left : left + side].astype(np.float32)
  alpha = np.zeros((side, side), np.float32)
  centre = ((side - 1) / 2, (side - 1) / 2)
  cv2.ellipse(
    alpha,
    (int(round(centre[0])), int(round(centre[1]))),
    (int(0.46 * side), int(0.49 * side)),
    0,
    0,
    360,
    1.0,
    -1,
  )
  alpha = cv2.GaussianBlur(alpha, (0, 0), 0.03 * side)
  face_left, face_top, face_right, face_bottom = photo.face_box
  return head, alpha, max(face_right - face_left, face_bottom - face_top) / side


def face_video_frames(
  *,
  num_frames: int = 8,
  size: tuple[int, int] = (160, 120),
  seed: int = 0,
  photo: str = "astronaut",
) -> list[np.ndarray]:
  """The RGB frames `write_face_video` writes (before compression)."""
  width, height = _check_size(size, num_frames)
  rng = np.random.default_rng(seed)
  background = _background(rng, width, height)
  head, alpha, face_share = _head_sprite(photo)
  head_side = FACE_SHARE * height / face_share  # pixels of the head square in the frame
  centre = np.array([width / 2, height / 2]) + rng.uniform(-0.08, 0.08, 2) * (width, height)
  phases = rng.uniform(0, 2 * np.pi, 3)
  frames = []
  for t in range(num_frames):
    angle = 2 * np.pi * t / max(num_frames, 2)
    shift = DRIFT * np.array([width, height]) * np.sin(angle + phases[:2])
    scale = head_side / head.shape[0] * (1 + BREATHING * np.sin(angle + phases[2]))
    position = centre + shift - scale * (head.shape[0] - 1) / 2
    warp = np.array([[scale, 0, position[0]], [0, scale, position[1]]], np.float32)
    sprite = cv2.warpAffine(head, warp, (width, height), flags=cv2.INTER_AREA)
    weight = cv2.warpAffine(alpha, warp, (width, height), flags=cv2.INTER_LINEAR)[..., None]
    noise = rng.normal(0, NOISE_SIGMA, (height, width, 3)).astype(np.float32)
    frame = weight * sprite + (1 - weight) * background + noise
    frames.append(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
  return frames


def write_face_video(
  path: str | os.PathLike,
  *,
  num_frames: int = 8,
  size: tuple[int, int] = (160, 120),
  seed: int = 0,
  photo: str = "astronaut",
  fps: float = 10,
) -> None:
  """A short real video (size = (width, height)) of the face of `photo` moving a little."""
  frames = face_video_frames(num_frames=num_frames, size=size, seed=seed, photo=photo)
  write_frames(path, frames, fps)


def faceless_video_frames(
  *, num_frames: int = 8, size: tuple[int, int] = (160, 120), seed: int = 0
) -> list[np.ndarray]:
  """The RGB frames `write_faceless_video` writes (before compression)."""
  width, height = _check_size(size, num_frames)
  rng = np.random.default_rng(seed)
  background = _background(rng, width, height)
  blobs = [
    (
      rng.uniform(0.2, 0.8, 2) * (width, height),
      rng.uniform(0.08, 0.2) * height,
      rng.uniform(60, 230, 3),
      rng.uniform(0, 2 * np.pi),
    )
    for _ in range(3)
  ]
  frames = []
  for t in range(num_frames):
    frame = background.copy()
    for centre, radius, colour, phase in blobs:
      x, y = centre + DRIFT * width * np.array([np.sin(phase + t), np.cos(phase + t)])
      cv2.circle(frame, (int(x), int(y)), int(radius), colour.tolist(), -1)
    frame += rng.normal(0, NOISE_SIGMA, frame.shape).astype(np.float32)
    frames.append(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
  return frames


def write_faceless_video(
  path: str | os.PathLike,
  *,
  num_frames: int = 8,
  size: tuple[int, int] = (160, 120),
  seed: int = 0,
  fps: float = 10,
) -> None:
  """A short video of a background with moving blobs and no face."""
  write_frames(path, faceless_video_frames(num_frames=num_frames, size=size, seed=seed), fps)


def write_corrupt_video(path: str | os.PathLike, *, kind: str = "garbage") -> None:
  """A broken video file: "garbage" (random bytes under a video suffix, nothing opens it) or
  "truncated" (an 8-frame video of the path's codec cut to its first third: an .mp4, whose index
  is at the end, does not open; an .avi gives its first frames, then stops)."""
  path = os.fspath(path)
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  if kind == "garbage":
    data = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
  elif kind == "truncated":
    write_face_video(path, num_frames=8)
    with open(path, "rb") as handle:
      data = handle.read()
    data = data[: len(data) // 3]
  else:
    raise ValueError(f"Unknown corrupt video kind {kind!r}; known: garbage, truncated")
  with open(path, "wb") as handle:
    handle.write(data)


def _photo_landmarks(name: str) -> np.ndarray:
  """The 68 landmarks of a photo's face (photo pixels), found by dlib on the photo enlarged so
  that the face is at least 160 pixels wide."""
  photo = load_photo(name)
  left, _, right, _ = photo.face_box
  factor = max(1.0, 160 / (right - left))
  image = photo.image
  if factor > 1:
    image = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
  box = detection.largest_face(image)
  if box is None:
    box = np.array(photo.face_box, np.float64) * factor
  return detection.find_landmarks(image, box) / factor


def _hull_region(points: np.ndarray, height: int, width: int) -> np.ndarray:
  region = np.zeros((height, width), np.uint8)
  hull = cv2.convexHull(np.round(points).astype(np.int32).reshape(-1, 1, 2))
  cv2.fillConvexPoly(region, hull, 255)
  return region


def swap_face(frame: np.ndarray, donor: str, rng: np.random.Generator) -> np.ndarray:
  """The frame with the donor photo's face blended over its largest face (unchanged if none)."""
  box = detection.largest_face(frame)
  if box is None:
    return frame.copy()
  height, width = frame.shape[:2]
  target = detection.find_landmarks(frame, box)
  photo = load_photo(donor)
  # Align on the stable inner points (brows, eyes, nose, mouth: 17-67).
  warp, _ = cv2.estimateAffinePartial2D(_photo_landmarks(donor)[17:], target[17:])
  if warp is None:
    return frame.copy()
  donor_image = cv2.warpAffine(
    photo.image, warp, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
  ).astype(np.float32)
  face_size = float(box[2] - box[0])
  erosion = max(1, int(round(SWAP_EROSION * face_size * rng.uniform(0.7, 1.3))))
  region = _hull_region(target, height, width)
  region = cv2.erode(
    region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erosion + 1, 2 * erosion + 1))
  )
  inside = region > 0
  if inside.sum() < 2:
    return frame.copy()
  original = frame.astype(np.float32)
  donor_pixels, frame_pixels = donor_image[inside], original[inside]
  gain = (frame_pixels.std(axis=0) + 1) / (donor_pixels.std(axis=0) + 1)
  donor_image = (donor_image - donor_pixels.mean(axis=0)) * gain + frame_pixels.mean(axis=0)
  sigma = max(0.5, SWAP_FEATHER * face_size)
  alpha = cv2.GaussianBlur(region.astype(np.float32) / 255, (0, 0), sigma)[..., None]
  return np.clip(alpha * donor_image + (1 - alpha) * original + 0.5, 0, 255).astype(np.uint8)


def write_swapped_video(
  path: str | os.PathLike,
  target_path: str | os.PathLike,
  *,
  seed: int = 0,
  photo: str = "grace_hopper",
) -> None:
  """A face-swap "fake" of the video at `target_path`: every frame with the face of `photo`
  blended over the target's face; same frame count, size and frame rate."""
  frame_count = video_io.reported_frame_count(target_path)
  decoded = video_io.read_frames(target_path, range(frame_count), frame_count)
  if decoded.failures:
    raise video_io.VideoReadError(target_path, next(iter(decoded.failures.values())))
  capture = cv2.VideoCapture(os.fspath(target_path))
  fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
  capture.release()
  rng = np.random.default_rng(seed)
  frames = [swap_face(decoded.frames[index], photo, rng) for index in range(frame_count)]
  write_frames(path, frames, fps)
