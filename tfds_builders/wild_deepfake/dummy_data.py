"""A tiny WildDeepfake in its official (extracted) layout: PNG face sequences, for tests and demos.

Archives 1-4 of `real_train` and `fake_train` and archive 1 of `real_test` and `fake_test`, each
`<category>/<archive>/{real,fake}/<sequence>/<n>.png` with real faces (fakes are face swaps).
`real_train/1/real/2` shows no face and `fake_train/1/fake/1` holds files no decoder reads (in
archives that also hold good sequences, so every split group has a usable one).
"""

from __future__ import annotations

import os
import pathlib

from tfds_builders import face_corpus_testing as media

# sequence folder -> (person, donor or None)
SEQUENCES = {
  "real_train/1/real/0": (20, None),
  "real_train/1/real/1": (20, None),
  "real_train/2/real/0": (30, None),
  "real_train/3/real/0": (21, None),
  "real_train/4/real/0": (22, None),
  "fake_train/1/fake/0": (23, 24),
  "fake_train/2/fake/0": (25, 20),
  "fake_train/3/fake/0": (31, 28),  # lfw_1 onto this head scores ~0: not a face to dlib
  "fake_train/4/fake/0": (26, 21),
  "real_test/1/real/0": (27, None),
  "fake_test/1/fake/0": (28, 29),
  "fake_test/1/fake/1": (28, 22),
}
FACELESS = "real_train/1/real/2"
CORRUPT = "fake_train/1/fake/1"


def write_dummy_corpus(root: str | os.PathLike) -> pathlib.Path:
  """Writes the dummy corpus under `root` (the manual directory) and returns it."""
  root = pathlib.Path(root)
  for number, (folder, (person, donor)) in enumerate(SEQUENCES.items()):
    frames = media.face_frames(person, seed=number)
    if donor is not None:
      frames = media.swapped_frames(frames, person, donor, seed=number)
    media.write_frames(root / folder, frames)
  media.write_frames(root / FACELESS, media.faceless_frames())
  media.write_garbage_frames(root / CORRUPT)
  return root
