"""`FaceCropConfig`: how the face pipeline samples frames and crops faces."""

from __future__ import annotations

import dataclasses

DEFAULT_CHANGE_THRESHOLD = 16  # gamma for compressed videos (grey levels), see `artifacts`


@dataclasses.dataclass(frozen=True)
class FaceCropConfig:
  """Frame sampling, face crop and tracking settings of `process_video`.

  crop_size: side of the square output crop (pixels).
  margin: the face box is enlarged by this fraction of its width/height on each side, then
    squared on its longer side.
  num_frames: frames sampled per video (`sample_frame_indices`).
  max_fill_gap: a frame with no detected face borrows the box of detected frames at most this
    many frames away (interpolated between both sides, or copied from one); beyond, "no face".
  detector: 'hog' (dlib's HOG detector, the default) or 'cnn' (dlib's MMOD CNN detector).
  min_face_score: a detection counts as a face only above this score (None: the detector's
    calibrated default, `detection.DEFAULT_MIN_SCORE`); a frame whose boxes all score below it
    has no face and lends no box to its neighbours.
  change_threshold: gamma of M_in = Convex(|x' - x| > gamma) on the smoothed crops of a fake and
    its source (BiG-Arts §3.1), in grey levels; compression noise sits below it.
  """

  crop_size: int = 64
  margin: float = 0.3
  num_frames: int = 20
  max_fill_gap: int = 3
  change_threshold: int = DEFAULT_CHANGE_THRESHOLD
  detector: str = "hog"
  min_face_score: float | None = None

  def __post_init__(self):
    if self.detector not in ("hog", "cnn"):
      raise ValueError(f"detector must be 'hog' or 'cnn', got {self.detector!r}")
    if int(self.crop_size) != self.crop_size or self.crop_size < 8:
      raise ValueError(f"crop_size must be an integer >= 8, got {self.crop_size!r}")
    if not 0.0 <= self.margin <= 2.0:
      raise ValueError(f"margin must be in [0, 2] (fraction of the face box), got {self.margin!r}")
    if int(self.num_frames) != self.num_frames or self.num_frames < 1:
      raise ValueError(f"num_frames must be an integer >= 1, got {self.num_frames!r}")
    if int(self.max_fill_gap) != self.max_fill_gap or self.max_fill_gap < 0:
      raise ValueError(f"max_fill_gap must be an integer >= 0, got {self.max_fill_gap!r}")
    if not 0 <= self.change_threshold < 255:
      raise ValueError(f"change_threshold must be in [0, 255), got {self.change_threshold!r}")
