"""Real face photographs that ship inside installed packages, for test videos (no download).

* `astronaut`: scikit-image's portrait of Eileen Collins (512 x 512);
* `grace_hopper`: matplotlib's sample portrait of Grace Hopper (512 x 600);
* `lfw_<i>`: faces of scikit-image's Labeled Faces in the Wild subset (25 x 25 grey, tight).

Each photo comes with the square of the head to paste into a video and the face box inside it
(the box dlib's HOG detector reports on the photo, measured once and written down here).
"""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np
from matplotlib import cbook
from skimage import data

LFW_FACES = (0, 1, 2, 3)  # indices into skimage.data.lfw_subset() (its first 100 are faces)
PHOTOS: tuple[str, ...] = ("astronaut", "grace_hopper") + tuple(f"lfw_{i}" for i in LFW_FACES)

# name -> face box (left, top, right, bottom) in the photo's pixels
_FACE_BOXES = {
  "astronaut": (179, 83, 267, 171),
  "grace_hopper": (161, 137, 377, 353),
}
HEAD_SCALE = 2.0  # the pasted head square is this many face-box sides wide


@dataclasses.dataclass(frozen=True, eq=False)
class FacePhoto:
  """A photograph and where its face is."""

  name: str
  image: np.ndarray  # uint8 (H, W, 3) RGB
  face_box: tuple[int, int, int, int]  # (left, top, right, bottom), right/bottom exclusive
  head: tuple[int, int, int]  # (left, top, side): the square to paste, inside the image


def _grace_hopper() -> np.ndarray:
  with cbook.get_sample_data("grace_hopper.jpg") as handle:
    data = np.frombuffer(handle.read(), np.uint8)
  return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _head_square(
  face_box: tuple[int, int, int, int], height: int, width: int
) -> tuple[int, int, int]:
  left, top, right, bottom = face_box
  side = min(int(round(HEAD_SCALE * max(right - left, bottom - top))), height, width)
  centre_x, centre_y = (left + right) // 2, (top + bottom) // 2
  head_left = min(max(centre_x - side // 2, 0), width - side)
  head_top = min(max(centre_y - side // 2, 0), height - side)
  return head_left, head_top, side


@functools.cache
def load_photo(name: str) -> FacePhoto:
  """The photograph `name` (one of `PHOTOS`)."""
  if name not in PHOTOS:
    raise ValueError(f"Unknown photo {name!r}; known: {', '.join(PHOTOS)}")
  if name.startswith("lfw_"):
    grey = np.clip(data.lfw_subset()[int(name[4:])] * 255 + 0.5, 0, 255).astype(np.uint8)
    image = np.repeat(grey[..., None], 3, axis=2)
    side = image.shape[0]
    return FacePhoto(name, image, (0, 0, side, side), (0, 0, side))
  image = data.astronaut() if name == "astronaut" else _grace_hopper()
  box = _FACE_BOXES[name]
  return FacePhoto(name, image, box, _head_square(box, *image.shape[:2]))
