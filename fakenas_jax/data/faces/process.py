"""`process_video`: a video file -> face-crop examples with landmarks and masks, for a builder.

Per video: sample `num_frames` evenly spaced frames (`sample_frame_indices`), detect the largest
face in each (dlib HOG), look for the face in the frames around a sampled frame where none was
found and fill from them within `max_fill_gap` frames (`tracking`), steady the boxes, crop the
square box with `margin` around each face (zero padding at the frame border), find the 68
landmarks on the detected box, and draw the face hull (ADD) from them. A fake given its aligned
real `source_path` gets M_in / M_ex (BiG-Arts §3.1) from the difference of the two crops taken
with the fake's box; given `mask_path` (an official mask video), M_in from that mask (the mask
takes precedence when both are given).

Nothing about one bad video raises: an unreadable video or one with no face anywhere comes back
with `skip_reason`; every sampled frame that gives no example is listed in `skipped_frames` with
its reason, and every kept frame of a fake that got no artifact masks in `unmasked_frames`.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from fakenas_jax.data import masks
from fakenas_jax.data.faces import artifacts, crop, detection, tracking, video_io
from fakenas_jax.data.faces.config import FaceCropConfig

DEFAULT_CONFIG = FaceCropConfig()
NO_FACE = "no face"
NO_FACE_ANYWHERE = "no face in any frame"
CANNOT_DECODE = "cannot decode"


@dataclasses.dataclass
class FaceExample:
  """One sampled frame with a face, ready for a builder; masks are uint8 {0, 255}."""

  frame_index: int
  image: np.ndarray  # uint8 (S, S, 3) RGB face crop
  landmarks: np.ndarray  # float32 (68, 2) (x, y) crop pixels (may lie outside the crop)
  face_hull: np.ndarray  # uint8 (S, S, 1): convex hull of the landmarks (ADD)
  intrinsic: np.ndarray | None  # uint8 (S, S, 1): M_in (BiG-Arts); None without source/mask
  extrinsic: np.ndarray | None  # uint8 (S, S, 1): M_ex; None without source/mask
  crop_box: tuple[int, int, int] | None = None  # (left, top, side) of the crop in the frame


@dataclasses.dataclass
class ProcessedVideo:
  """What `process_video` made of one video."""

  examples: list[FaceExample]
  frame_count: int  # frames the container reports (decoded count when it reports none); 0 when
  #                   the video cannot be opened
  skipped_frames: list[tuple[int, str]]  # sampled frames with no example: (index, reason)
  skip_reason: str | None  # why the whole video gave nothing, else None
  unmasked_frames: list[tuple[int, str]] = dataclasses.field(default_factory=list)
  # frames kept without intrinsic/extrinsic although a source or mask video was given


def _detect_all(frames: dict[int, np.ndarray], config: FaceCropConfig) -> dict[int, np.ndarray]:
  """The largest face scoring above the minimum in each frame (frames without one are absent,
  so tracking never lends a box from a below-threshold detection)."""
  detections = {}
  for index, frame in frames.items():
    box = detection.largest_face(frame, min_score=config.min_face_score, detector=config.detector)
    if box is not None:
      detections[index] = box
  return detections


def _search_neighbours(
  path, decoded: video_io.DecodedFrames, detections: dict[int, np.ndarray], config: FaceCropConfig
) -> None:
  """Adds to `detections` the faces found in the frames around sampled frames with none."""
  max_gap = config.max_fill_gap
  missing = [index for index in decoded.frames if index not in detections]
  if not missing or max_gap == 0:
    return
  already = list(decoded.frames) + list(decoded.failures)
  extra = tracking.frames_to_search(missing, decoded.frame_count, already, max_gap)
  try:
    neighbours = video_io.read_frames(path, extra, decoded.frame_count)
  except video_io.VideoReadError:
    return
  detections.update(_detect_all(neighbours.frames, config))


def _reference_frames(
  path, indices: list[int], shape: tuple[int, ...], what: str
) -> tuple[dict[int, np.ndarray], dict[int, str]]:
  """Frames `indices` of a source or mask video; the reason for each one not usable."""
  try:
    decoded = video_io.read_frames(path, indices)
  except video_io.VideoReadError as error:
    return {}, {index: f"{what}: {error.reason}" for index in indices}
  frames, reasons = {}, {}
  for index in indices:
    frame = decoded.frames.get(index)
    if frame is None:
      reasons[index] = f"{what}: {decoded.failures.get(index, 'frame not decoded')}"
    elif frame.shape[:2] != shape[:2]:
      reasons[index] = (
        f"{what}: frame size {frame.shape[1]}x{frame.shape[0]} differs from the "
        f"video's {shape[1]}x{shape[0]}"
      )
    else:
      frames[index] = frame
  return frames, reasons


def process_video(
  path: str | os.PathLike,
  config: FaceCropConfig = DEFAULT_CONFIG,
  *,
  source_path: str | os.PathLike | None = None,
  mask_path: str | os.PathLike | None = None,
) -> ProcessedVideo:
  """Face crops, landmarks and masks of the sampled frames of one video (see the module doc).

  Raises only for a broken installation (`models.FaceModelsMissingError`) or a bad `config`;
  a bad video gives a `ProcessedVideo` with `skip_reason`.
  """
  if not isinstance(config, FaceCropConfig):
    raise TypeError(f"config must be a FaceCropConfig, got {type(config).__name__}")
  try:
    frame_count = video_io.reported_frame_count(path)
    indices = video_io.sample_frame_indices(frame_count, config.num_frames)
    decoded = video_io.read_frames(path, indices, frame_count)
  except video_io.VideoReadError as error:
    return ProcessedVideo([], 0, [], error.reason)
  skipped = dict(decoded.failures)
  if not decoded.frames:
    return ProcessedVideo([], frame_count, sorted(skipped.items()), CANNOT_DECODE)

  detections = _detect_all(decoded.frames, config)
  _search_neighbours(path, decoded, detections, config)
  boxes = tracking.fill_missing(detections, sorted(decoded.frames), config.max_fill_gap)
  steady = tracking.smooth(boxes, detections, config.max_fill_gap)
  skipped.update({index: NO_FACE for index in decoded.frames if index not in boxes})
  if not boxes:
    return ProcessedVideo([], frame_count, sorted(skipped.items()), NO_FACE_ANYWHERE)

  kept = sorted(boxes)
  reference_path, what = (mask_path, "mask") if mask_path is not None else (source_path, "source")
  references, unmasked = {}, {}
  if reference_path is not None:
    shape = decoded.frames[kept[0]].shape
    references, unmasked = _reference_frames(reference_path, kept, shape, what)

  size = config.crop_size
  examples = []
  for index in kept:
    frame = decoded.frames[index]
    crop_box = crop.square_crop_box(steady[index], config.margin)
    image = crop.crop_square(frame, crop_box, size)
    landmarks = crop.to_crop_coordinates(
      detection.find_landmarks(frame, boxes[index]), crop_box, size
    )
    intrinsic = extrinsic = None
    if index in references:
      reference = crop.crop_square(references[index], crop_box, size)
      if mask_path is not None:
        in_mask = artifacts.intrinsic_from_mask(reference)
      else:
        in_mask = artifacts.intrinsic_from_source(image, reference, config.change_threshold)
      intrinsic = in_mask[..., None]
      extrinsic = artifacts.extrinsic_from_intrinsic(in_mask)[..., None]
    examples.append(
      FaceExample(
        frame_index=int(index),
        image=image,
        landmarks=landmarks,
        face_hull=masks.face_hull_mask(landmarks, size)[..., None],
        intrinsic=intrinsic,
        extrinsic=extrinsic,
        crop_box=crop_box,
      )
    )
  return ProcessedVideo(
    examples, frame_count, sorted(skipped.items()), None, sorted(unmasked.items())
  )
