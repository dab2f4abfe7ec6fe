"""Face boxes (dlib HOG) and 68 facial landmarks (dlib shape predictor) in one frame.

Boxes are float arrays (left, top, right, bottom) in frame pixels, right/bottom exclusive.
Large frames are detected on a copy shrunk to `DETECTION_MAX_SIDE` (a face in such a frame is
large); small frames are up-sampled by dlib until the shorter side reaches
`DETECTION_MIN_SIDE`, since the HOG window finds faces of about 80 pixels and more. The
detector sees the grey image (a quarter faster than RGB, where HOG takes the strongest channel's
gradient; the boxes on the test photographs are the same).

A box counts as a face only when its detector score exceeds a minimum (`DEFAULT_MIN_SCORE`),
calibrated by `scripts/calibrate_face_detector.py` on images that ship in installed packages
(WORKSPACE.md, Faces): with dlib's own threshold 0, the HOG detector found "faces" in faceless
frames (score 0.03) and on the badge of the astronaut's suit, while true faces score >= 1.
`detector='cnn'` is dlib's MMOD CNN face detector (weights of `face-recognition-models`):
better on turned and small faces, ~10-50x slower on a CPU.
"""

from __future__ import annotations

import math

import cv2
import dlib
import numpy as np

from fakenas_jax.data.faces import models

DETECTION_MAX_SIDE = 640  # longer side of the image the detector sees at most
DETECTION_MIN_SIDE = 400  # shorter side the detector's up-sampling aims for
MAX_UPSAMPLING = 2  # dlib up-samplings at most (each doubles the side)
NUM_LANDMARKS = 68
DETECTORS = ("hog", "cnn")
# The minimum score of a face per detector (calibration: WORKSPACE.md, Faces).
DEFAULT_MIN_SCORE = {"hog": 0.1, "cnn": 0.5}


def detection_upsampling(height: int, width: int) -> int:
  """dlib up-samplings for an image: doublings until min(height, width) >= DETECTION_MIN_SIDE."""
  shorter = max(1, min(height, width))
  return int(min(MAX_UPSAMPLING, max(0, math.ceil(math.log2(DETECTION_MIN_SIDE / shorter)))))


def _check_rgb(image: np.ndarray) -> None:
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
    raise ValueError(f"image must be uint8 (H, W, 3) RGB, got {image.dtype} {image.shape}")


def detect_faces_scored(
  image: np.ndarray, *, min_score: float | None = None, detector: str = "hog"
) -> list[tuple[np.ndarray, float]]:
  """(box, score) of every face scoring above `min_score` (the detector's default when None)
  in an RGB frame, largest first (float64 (4,) boxes)."""
  _check_rgb(image)
  if detector not in DETECTORS:
    raise ValueError(f"unknown face detector {detector!r}; known: {', '.join(DETECTORS)}")
  if min_score is None:
    min_score = DEFAULT_MIN_SCORE[detector]
  height, width = image.shape[:2]
  scale = min(1.0, DETECTION_MAX_SIDE / max(height, width))
  small = image
  if scale < 1.0:
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    scale_x, scale_y = width / size[0], height / size[1]
  else:
    scale_x = scale_y = 1.0
  upsampling = detection_upsampling(*small.shape[:2])
  if detector == "hog":
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    rectangles, scores, _ = models.face_detector().run(grey, upsampling, float(min_score))
  else:
    found = models.cnn_face_detector()(np.ascontiguousarray(small), upsampling)
    rectangles = [d.rect for d in found]
    scores = [d.confidence for d in found]
  scored = [
    (
      np.array(
        [
          r.left() * scale_x,
          r.top() * scale_y,
          (r.right() + 1) * scale_x,
          (r.bottom() + 1) * scale_y,
        ],
        np.float64,
      ),
      float(score),
    )
    for r, score in zip(rectangles, scores)
    if score > min_score
  ]
  return sorted(scored, key=lambda item: -box_area(item[0]))


def detect_faces(
  image: np.ndarray, *, min_score: float | None = None, detector: str = "hog"
) -> list[np.ndarray]:
  """Every face found in an RGB frame (`detect_faces_scored`), largest first."""
  return [box for box, _ in detect_faces_scored(image, min_score=min_score, detector=detector)]


def box_area(box: np.ndarray) -> float:
  """Area of a (left, top, right, bottom) box; 0 for an empty one."""
  return float(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1]))


def largest_face(
  image: np.ndarray, *, min_score: float | None = None, detector: str = "hog"
) -> np.ndarray | None:
  """The box of the largest face found in an RGB frame, or None."""
  boxes = detect_faces(image, min_score=min_score, detector=detector)
  return boxes[0] if boxes else None


def find_landmarks(image: np.ndarray, box: np.ndarray) -> np.ndarray:
  """The 68 landmarks (iBUG 300-W / dlib layout) of the face in `box`, float32 (68, 2) (x, y)."""
  _check_rgb(image)
  left, top, right, bottom = (int(round(value)) for value in box)
  rectangle = dlib.rectangle(left, top, right - 1, bottom - 1)
  shape = models.landmark_predictor()(np.ascontiguousarray(image), rectangle)
  return np.array([(shape.part(i).x, shape.part(i).y) for i in range(shape.num_parts)], np.float32)
