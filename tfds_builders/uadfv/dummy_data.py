"""A tiny UADFV in its official layout (real face videos), for tests and demos.

People 0000-0004, each with `real/<NNNN>.mp4` and the face swap `fake/<NNNN>_fake.mp4` made from
it; `fake/0003_fake.mp4` is corrupt and `real/0004.mp4` shows no face (both people keep a good
video).
"""

from __future__ import annotations

import os
import pathlib

from tfds_builders import face_corpus_testing as media

PEOPLE = ("0000", "0001", "0002", "0003", "0004")
CORRUPT = "fake/0003_fake"
FACELESS = "real/0004"


def write_dummy_corpus(root: str | os.PathLike) -> pathlib.Path:
  """Writes the dummy corpus under `root` (the manual directory) and returns it."""
  root = pathlib.Path(root)
  for person in PEOPLE:
    real = root / "real" / f"{person}.mp4"
    media.write_real(real, int(person))
    media.write_fake(root / "fake" / f"{person}_fake.mp4", real, int(person), int(person) + 1)
  media.write_corrupt(root / f"{CORRUPT}.mp4")
  media.write_faceless(root / f"{FACELESS}.mp4")
  return root
