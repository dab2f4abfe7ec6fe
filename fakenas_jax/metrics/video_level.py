"""Video-level scores: the mean of each video's frame probabilities (BiG-Arts §4.1).

The evaluation pipeline yields, per frame, the video id, the label (0 real / 1 fake), a score
(P(fake)) and a `valid` mask that is False on the rows padding the last batch. `video_scores`
drops the padding, groups frames by video id and averages their scores; every video keeps the
label its frames share (frames of one video with different labels are an error: the ids are
not unique across real and fake videos, or the table is mixed up).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from fakenas_jax.metrics import detection as metrics


@dataclasses.dataclass(frozen=True)
class VideoScores:
  """One row per video, sorted by video id: id, label, mean frame score, frames averaged."""

  video_ids: np.ndarray
  labels: np.ndarray
  scores: np.ndarray
  frame_counts: np.ndarray


def _normalise_ids(video_ids) -> np.ndarray:
  ids = np.asarray(video_ids)
  if ids.dtype == object:  # bytes from TFDS and str from elsewhere compare as text
    ids = np.array([i.decode() if isinstance(i, bytes) else i for i in ids.tolist()])
  elif ids.dtype.kind == "S":
    ids = np.char.decode(ids, "utf-8")
  return ids


def video_scores(video_ids, labels, scores, valid=None) -> VideoScores:
  """Aggregates frame scores into one score per video: the mean over the video's valid frames.

  Args:
    video_ids: (N,) ids (str, bytes or int) of each frame's video.
    labels: (N,) 0 real / 1 fake per frame.
    scores: (N,) P(fake) per frame.
    valid: optional (N,) mask (bool or 0/1); frames where it is False (batch padding) are dropped.

  Returns:
    `VideoScores` sorted by video id.

  Raises:
    ValueError: lengths that differ, labels not 0/1, non-finite scores, no valid frame, or a
      video whose frames do not share one label (the message names the videos).
  """
  ids = _normalise_ids(video_ids)
  if ids.ndim != 1:
    raise ValueError(f"video_ids must be 1-D, got shape {ids.shape}")
  labels_array = np.asarray(labels)
  scores_array = np.asarray(scores)
  if valid is None:
    valid_mask = np.ones(ids.shape, bool)
  else:
    valid_array = np.asarray(valid)
    if valid_array.dtype != bool and not np.isin(valid_array, (0, 1)).all():
      raise ValueError(
        f"valid must be booleans or 0/1, found values {np.unique(valid_array)[:5].tolist()}"
      )
    valid_mask = valid_array.astype(bool)
  lengths = {
    "video_ids": ids.shape,
    "labels": labels_array.shape,
    "scores": scores_array.shape,
    "valid": valid_mask.shape,
  }
  if len(set(lengths.values())) != 1:
    raise ValueError(
      "per-frame arrays differ in shape: "
      + ", ".join(f"{name} {shape}" for name, shape in lengths.items())
    )
  if not valid_mask.any():
    raise ValueError(f"no valid frame among {ids.size} rows: nothing to aggregate")
  frame_labels, frame_scores = metrics.check_binary_inputs(
    labels_array[valid_mask], scores_array[valid_mask]
  )
  unique_ids, video_of_frame = np.unique(ids[valid_mask], return_inverse=True)
  count = len(unique_ids)
  frame_counts = np.bincount(video_of_frame, minlength=count)
  fake_frames = np.bincount(video_of_frame, weights=frame_labels, minlength=count)
  mixed = (fake_frames > 0) & (fake_frames < frame_counts)
  if mixed.any():
    names = ", ".join(str(v) for v in unique_ids[mixed][:5])
    raise ValueError(
      f"{int(mixed.sum())} video(s) have frames with different labels ({names}); "
      f"a video's frames must all be real (0) or all fake (1)"
    )
  mean_scores = np.bincount(video_of_frame, weights=frame_scores, minlength=count) / frame_counts
  return VideoScores(
    video_ids=unique_ids,
    labels=(fake_frames > 0).astype(np.int64),
    scores=mean_scores,
    frame_counts=frame_counts,
  )


def video_report(
  video_ids, labels, scores, valid=None, threshold: float = metrics.DEFAULT_THRESHOLD
) -> dict[str, float]:
  """`metrics.detection_report` of the video-level scores (mean frame probability per video)."""
  videos = video_scores(video_ids, labels, scores, valid)
  return metrics.detection_report(videos.labels, videos.scores, threshold)
