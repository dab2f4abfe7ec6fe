"""Face boxes over the frames of a video: filling short detection gaps, light smoothing.

Rules (pure functions of the detected boxes and the frame indices):
* a frame with no detection borrows a box only from detected frames at most `max_gap` frames
  away: linearly interpolated between the nearest detected frames before and after when both
  are that close, else copied from the one that is; otherwise the frame has no face;
* a frame's crop box is the weighted mean (2 : 1 : 1) of its box and the boxes of the nearest
  detected frames before and after it that are at most `max_gap` frames away, in (centre x,
  centre y, width, height), which steadies the crop against detector jitter but never mixes in
  frames far apart in time.
"""

from __future__ import annotations

import bisect
from typing import Mapping, Sequence

import numpy as np


def _neighbours(detected: Sequence[int], frame: int, max_gap: int) -> tuple[int | None, int | None]:
  """The nearest detected frames strictly before and after `frame`, if within `max_gap`."""
  position = bisect.bisect_left(detected, frame)
  before = detected[position - 1] if position > 0 else None
  after_position = (
    position + 1 if position < len(detected) and detected[position] == frame else position
  )
  after = detected[after_position] if after_position < len(detected) else None
  before = before if before is not None and frame - before <= max_gap else None
  after = after if after is not None and after - frame <= max_gap else None
  return before, after


def fill_missing(
  detections: Mapping[int, np.ndarray], frames: Sequence[int], max_gap: int
) -> dict[int, np.ndarray]:
  """Boxes of those `frames` that have a detection or can borrow one (rules in the module doc).

  `detections` maps frame index -> box for every decoded frame where a face was found (it may
  hold frames other than `frames`); frames missing from the result have no face.
  """
  detected = sorted(detections)
  boxes: dict[int, np.ndarray] = {}
  for frame in frames:
    if frame in detections:
      boxes[frame] = np.asarray(detections[frame], np.float64)
      continue
    before, after = _neighbours(detected, frame, max_gap)
    if before is not None and after is not None:
      weight = (frame - before) / (after - before)
      boxes[frame] = (1 - weight) * detections[before] + weight * detections[after]
    elif before is not None or after is not None:
      boxes[frame] = np.asarray(detections[before if before is not None else after], np.float64)
  return boxes


def _centre_size(box: np.ndarray) -> np.ndarray:
  left, top, right, bottom = box
  return np.array([(left + right) / 2, (top + bottom) / 2, right - left, bottom - top])


def _corners(centre_size: np.ndarray) -> np.ndarray:
  centre_x, centre_y, width, height = centre_size
  return np.array(
    [centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2]
  )


def smooth(
  boxes: Mapping[int, np.ndarray], detections: Mapping[int, np.ndarray], max_gap: int
) -> dict[int, np.ndarray]:
  """Each box of `boxes` averaged 2 : 1 : 1 with the nearest detections before and after it
  within `max_gap` frames (in centre/size form); a box without such neighbours is unchanged."""
  detected = sorted(detections)
  smoothed = {}
  for frame, box in boxes.items():
    total = 2.0 * _centre_size(box)
    weight = 2.0
    for neighbour in _neighbours(detected, frame, max_gap):
      if neighbour is not None:
        total += _centre_size(detections[neighbour])
        weight += 1.0
    smoothed[frame] = _corners(total / weight)
  return smoothed


def frames_to_search(
  missing: Sequence[int], frame_count: int, already: Sequence[int], max_gap: int
) -> list[int]:
  """Frames within `max_gap` of a frame with no detection, not yet decoded, inside the video:
  where to look for the face that can fill the gap."""
  known = set(already)
  search = set()
  for frame in missing:
    for offset in range(1, max_gap + 1):
      for neighbour in (frame - offset, frame + offset):
        if 0 <= neighbour < frame_count and neighbour not in known:
          search.add(neighbour)
  return sorted(search)
