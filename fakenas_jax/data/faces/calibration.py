"""The images the face detector's minimum score is calibrated on (all ship in installed packages).

Negatives (no human face): every faceless image of scikit-image's data — textures (brick, grass,
gravel), objects, animals (a cat's face), text, micrographs, astronomy —, the LFW non-face
patches of `skimage.data.lfw_subset` as a mosaic, and the faceless dummy video frames.
Positives: the real face photographs of `photos` (with their known face box) and the frames of
the dummy face videos made from every photo. `scripts/calibrate_face_detector.py` prints the
scores; the tests check the default threshold finds no face on any negative.
"""

from __future__ import annotations

import numpy as np
from skimage import data

from fakenas_jax.data.faces import dummy_videos, photos

NEGATIVE_IMAGES = (
  "brick",
  "grass",
  "gravel",
  "cell",
  "chelsea",
  "checkerboard",
  "clock",
  "coffee",
  "coins",
  "colorwheel",
  "horse",
  "hubble_deep_field",
  "immunohistochemistry",
  "logo",
  "microaneurysms",
  "moon",
  "page",
  "shepp_logan_phantom",
  "retina",
  "rocket",
  "text",
)


def _rgb(image: np.ndarray) -> np.ndarray:
  image = np.asarray(image)
  if image.dtype == bool:
    image = image.astype(np.uint8) * 255
  if image.dtype != np.uint8:
    image = np.clip(image / max(float(image.max()), 1e-9) * 255, 0, 255).astype(np.uint8)
  if image.ndim == 2:
    image = np.repeat(image[..., None], 3, axis=2)
  return np.ascontiguousarray(image[..., :3])


def negatives() -> dict[str, np.ndarray]:
  images = {name: _rgb(getattr(data, name)()) for name in NEGATIVE_IMAGES}
  images["stereo_motorcycle"] = _rgb(data.stereo_motorcycle()[0])
  patches = data.lfw_subset()[100:]  # the subset's non-face patches
  rows = [np.concatenate(list(patches[i : i + 10]), axis=1) for i in range(0, 100, 10)]
  mosaic = np.kron(np.concatenate(rows, axis=0), np.ones((2, 2)))
  images["lfw_non_faces_mosaic"] = _rgb(mosaic)
  for seed in range(3):
    for index, frame in enumerate(
      dummy_videos.faceless_video_frames(num_frames=4, size=(160, 120), seed=seed)
    ):
      images[f"faceless_video_{seed}_{index}"] = frame
  return images


def positives() -> dict[str, tuple[np.ndarray, tuple | None]]:
  """name -> (image, known face box or None when only 'a face' is known)."""
  images = {}
  for name in ("astronaut", "grace_hopper"):
    photo = photos.load_photo(name)
    images[name] = (photo.image, photo.face_box)
  for name in photos.PHOTOS:
    for seed in range(2):
      for index, frame in enumerate(
        dummy_videos.face_video_frames(num_frames=3, size=(160, 120), seed=seed, photo=name)
      ):
        images[f"video_{name}_{seed}_{index}"] = (frame, None)
  return images
