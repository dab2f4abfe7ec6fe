"""Reading the frames of a video file with OpenCV, reproducibly and without crashing.

Frames are decoded in order from the first (`grab` every frame, `retrieve` only the wanted
ones), never by seeking: seeking lands on key frames with some codecs, so the same index could
give different pixels in different builds. A file that cannot be opened or yields no frame raises
`VideoReadError`; frames past the point where decoding stops are reported, not raised.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterable

import cv2
import numpy as np


class VideoReadError(Exception):
  """A video that cannot be read at all; `reason` is a short text such as "cannot open"."""

  def __init__(self, path: str | os.PathLike, reason: str):
    super().__init__(f"{os.fspath(path)}: {reason}")
    self.path = os.fspath(path)
    self.reason = reason


@dataclasses.dataclass
class DecodedFrames:
  """Some frames of a video, decoded."""

  frames: dict[int, np.ndarray]  # frame index -> uint8 (H, W, 3) RGB
  frame_count: int  # frames the container reports (counted by decoding when it reports none)
  failures: dict[int, str]  # wanted frame index -> why it was not decoded


def sample_frame_indices(frame_count: int, num_frames: int) -> np.ndarray:
  """`num_frames` evenly spaced frame indices of a video of `frame_count` frames, int64.

  Index i is the middle frame of the i-th of `num_frames` equal segments,
  floor((2i + 1) * frame_count / (2 * num_frames)); every frame when num_frames >= frame_count.
  A function of the two counts only, so the same video always gives the same frames.
  """
  if int(frame_count) != frame_count or frame_count < 0:
    raise ValueError(f"frame_count must be an integer >= 0, got {frame_count!r}")
  if int(num_frames) != num_frames or num_frames < 1:
    raise ValueError(f"num_frames must be an integer >= 1, got {num_frames!r}")
  frame_count, num_frames = int(frame_count), int(num_frames)
  if num_frames >= frame_count:
    return np.arange(frame_count, dtype=np.int64)
  segments = 2 * np.arange(num_frames, dtype=np.int64) + 1
  return segments * frame_count // (2 * num_frames)


def _open(path: str | os.PathLike) -> cv2.VideoCapture:
  if not os.path.isfile(path):
    raise VideoReadError(path, "no such file")
  capture = cv2.VideoCapture(os.fspath(path))
  if not capture.isOpened():
    capture.release()
    raise VideoReadError(path, "cannot open")
  return capture


def _count_by_decoding(path: str | os.PathLike) -> int:
  capture = _open(path)
  count = 0
  try:
    while capture.grab():
      count += 1
  finally:
    capture.release()
  return count


def reported_frame_count(path: str | os.PathLike) -> int:
  """Frames the container reports; counted by decoding when it reports none.

  Raises `VideoReadError` when the file cannot be opened or holds no frame.
  """
  capture = _open(path)
  try:
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
  finally:
    capture.release()
  if count <= 0:
    count = _count_by_decoding(path)
  if count <= 0:
    raise VideoReadError(path, "no frames")
  return count


def read_frames(
  path: str | os.PathLike, indices: Iterable[int], frame_count: int | None = None
) -> DecodedFrames:
  """Decodes the frames `indices` of the video at `path` (RGB), in order from frame 0.

  Frames beyond the last decodable one get the failure "truncated after frame k" (k the last
  frame decoded); a frame whose data does not decode gets "cannot decode frame". Raises
  `VideoReadError` when the file cannot be opened or not even frame 0 decodes.
  """
  if frame_count is None:
    frame_count = reported_frame_count(path)
  wanted = sorted({int(index) for index in indices})
  if wanted and wanted[0] < 0:
    raise ValueError(f"frame indices must be >= 0, got {wanted[0]}")
  frames: dict[int, np.ndarray] = {}
  failures: dict[int, str] = {}
  if not wanted:
    return DecodedFrames(frames, frame_count, failures)
  capture = _open(path)
  try:
    position = 0
    for index in wanted:
      while position < index and capture.grab():
        position += 1
      if position < index or not capture.grab():
        if position == 0:
          raise VideoReadError(path, "no frames")
        reason = f"truncated after frame {position - 1}"
        failures.update({rest: reason for rest in wanted if rest >= index})
        break
      position += 1
      ok, frame = capture.retrieve()
      if ok and frame is not None and frame.ndim == 3 and frame.shape[2] == 3:
        frames[index] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
      else:
        failures[index] = "cannot decode frame"
  finally:
    capture.release()
  return DecodedFrames(frames, frame_count, failures)
