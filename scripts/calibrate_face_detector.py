"""Calibrates the face detector's minimum score on images that ship in installed packages.

Positives: the real face photographs of `data.faces.photos` (scikit-image's astronaut,
matplotlib's Grace Hopper) and the frames of the dummy face videos made from every photo (the
test corpora); negatives: every faceless image of scikit-image's data (textures: brick, grass,
gravel; objects, animals, text, micrographs, a cat's face), its LFW non-face patches as a
mosaic, and the faceless dummy video frames. The detector runs with a threshold far below any
default, so every candidate box and its score is seen. Prints, per image, the scores of the
boxes that match the known face (IoU >= 0.3) and of the others, then the largest negative score
and the smallest positive one.

    python scripts/calibrate_face_detector.py [--detector=hog|cnn]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fakenas_jax.data.faces import calibration, detection


def _iou(a, b) -> float:
  left, top = max(a[0], b[0]), max(a[1], b[1])
  right, bottom = min(a[2], b[2]), min(a[3], b[3])
  inter = max(0.0, right - left) * max(0.0, bottom - top)
  union = detection.box_area(np.asarray(a)) + detection.box_area(np.asarray(b)) - inter
  return inter / union if union > 0 else 0.0


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--detector", default="hog", choices=detection.DETECTORS)
  args = parser.parse_args()
  floor = -1.0 if args.detector == "hog" else -0.5
  worst_negative, best_positive_min = -np.inf, np.inf
  start = time.perf_counter()
  count = 0
  print(f"detector {args.detector}; scores of every box above {floor}")
  for name, image in calibration.negatives().items():
    scored = detection.detect_faces_scored(image, min_score=floor, detector=args.detector)
    count += 1
    scores = [round(score, 3) for _, score in scored]
    worst_negative = max([worst_negative] + scores)
    print(f"  negative {name:<28} {image.shape[1]}x{image.shape[0]:<5} {scores}")
  for name, (image, face_box) in calibration.positives().items():
    scored = detection.detect_faces_scored(image, min_score=floor, detector=args.detector)
    count += 1
    if face_box is None:
      faces = scored[:1]  # the pasted face is the largest box
      others = scored[1:]
    else:
      faces = [(b, s) for b, s in scored if _iou(b, face_box) >= 0.3]
      others = [(b, s) for b, s in scored if _iou(b, face_box) < 0.3]
    face_scores = [round(s, 3) for _, s in faces]
    other_scores = [round(s, 3) for _, s in others]
    worst_negative = max([worst_negative] + other_scores)
    best_positive_min = min([best_positive_min] + (face_scores[:1] or [-np.inf]))
    print(f"  positive {name:<28} face {face_scores} other {other_scores}")
  seconds = time.perf_counter() - start
  print(f"largest score of a non-face box: {worst_negative:.3f}")
  print(f"smallest score of a true face:   {best_positive_min:.3f}")
  print(
    f"default minimum score: {detection.DEFAULT_MIN_SCORE[args.detector]} "
    f"({count} images in {seconds:.1f} s, {1000 * seconds / count:.0f} ms an image)"
  )


if __name__ == "__main__":
  main()
