"""A tiny DFDC preview in its official layout (real face videos), for tests and demos.

Participants 100-104 with real videos in `original_videos/` and face swaps in `method_A/` and
`method_B/`; `dataset.json` gives label and set per video. It also lists a video that is not on
disk, an entry whose label contradicts its folder and one with an unknown `set`; one real video
is corrupt and one shows no face.
"""

from __future__ import annotations

import json
import os
import pathlib

from tfds_builders import face_corpus_testing as media

# path -> (label, set, person, target video of a fake or None, donor or None)
_REAL = "original_videos/{0}/{0}_A/{1}.mp4"
VIDEOS = {
  "original_videos/100/100_A/0001.mp4": ("real", "train", 100, None, None),
  "original_videos/101/101_A/0002.mp4": ("real", "train", 101, None, None),
  "original_videos/102/102_A/0003.mp4": ("real", "train", 102, None, None),
  "original_videos/103/103_A/0004.mp4": ("real", "test", 103, None, None),
  "original_videos/104/104_A/0005.mp4": ("real", "train", 104, None, None),
  "method_A/100/100_A/0006.mp4": ("fake", "train", 100, _REAL.format("100", "0001"), 101),
  "method_B/101/101_B/0007.mp4": ("fake", "train", 101, _REAL.format("101", "0002"), 102),
  "method_A/102/102_A/0008.mp4": ("fake", "train", 102, _REAL.format("102", "0003"), 104),
  "method_B/103/103_B/0009.mp4": ("fake", "test", 103, _REAL.format("103", "0004"), 100),
  "method_A/104/104_A/0010.mp4": ("fake", "train", 104, _REAL.format("104", "0005"), 103),
}
MISSING = "method_A/105/105_A/0011.mp4"  # listed, fake, test; not on disk
CONTRADICTION = "method_B/100/100_B/0012.mp4"  # listed as real
UNKNOWN_SET = "original_videos/104/104_A/0013.mp4"  # set 'dev'
CORRUPT = "original_videos/102/102_A/0014.mp4"
FACELESS = "original_videos/104/104_A/0015.mp4"


def write_dummy_corpus(root: str | os.PathLike) -> pathlib.Path:
  """Writes the dummy corpus under `root` (the manual directory) and returns it."""
  root = pathlib.Path(root)
  index = {}
  for relative, (label, split, person, target, donor) in VIDEOS.items():
    if target is None:
      media.write_real(root / relative, person - 100)
    else:
      media.write_fake(root / relative, root / target, person - 100, donor - 100)
    index[relative] = {"label": label, "set": split, "augmentations": {}}
  media.write_real(root / CONTRADICTION, 0, seed=7)
  media.write_real(root / UNKNOWN_SET, 4, seed=8)
  media.write_corrupt(root / CORRUPT)
  media.write_faceless(root / FACELESS)
  index[MISSING] = {"label": "fake", "set": "test"}
  index[CONTRADICTION] = {"label": "real", "set": "train"}
  index[UNKNOWN_SET] = {"label": "real", "set": "dev"}
  index[CORRUPT] = {"label": "real", "set": "train"}
  index[FACELESS] = {"label": "real", "set": "train"}
  (root / "dataset.json").write_text(json.dumps(index, indent=1))
  return root
