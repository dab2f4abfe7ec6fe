"""A tiny DF-TIMIT (DeepfakeTIMIT + the VidTIMIT frames of its subjects), for tests and demos.

Three swap pairs of subjects; each subject has one face-swap `.avi` per quality
(`<utterance>-video-<other>.avi`) and VidTIMIT frame folders (JPEG files without a suffix, as
VidTIMIT ships them) for two utterances plus a head-rotation sequence (not part of the corpus).
Subject mrjo0 has no VidTIMIT folder, one VidTIMIT utterance holds files no decoder reads and
one fake shows no face.
"""

from __future__ import annotations

import os
import pathlib

from tfds_builders import face_corpus_testing as media
from tfds_builders.df_timit import df_timit_dataset_builder as dtb

PAIRS = (("fadg0", "fram1"), ("mcem0", "mdab0"), ("fedw0", "mrjo0"))
SUBJECTS = tuple(subject for pair in PAIRS for subject in pair)
UTTERANCES = ("sa1", "sx2")
NO_VIDTIMIT = "mrjo0"
CORRUPT = "VidTIMIT/fedw0/video/sx2"
FACELESS = "mcem0/sa1-video-mdab0"  # below each quality folder


def other(subject: str) -> str:
  return next(b if a == subject else a for a, b in PAIRS if subject in (a, b))


def write_dummy_corpus(root: str | os.PathLike) -> pathlib.Path:
  """Writes the dummy corpus under `root` (the manual directory) and returns it."""
  root = pathlib.Path(root)
  scratch = root / ".scratch"
  for person, subject in enumerate(SUBJECTS):
    target = scratch / f"{subject}.mp4"
    media.write_real(target, person)
    fake = scratch / f"{subject}.avi"
    media.write_fake(fake, target, person, SUBJECTS.index(other(subject)))
    for folder in dtb.QUALITY_FOLDERS.values():
      destination = root / dtb.FAKE_ROOT / folder / subject / f"sa1-video-{other(subject)}.avi"
      media.copy(fake, destination)
      if f"{subject}/{destination.stem}" == FACELESS:
        media.write_faceless(destination)
    if subject != NO_VIDTIMIT:
      for number, utterance in enumerate((*UTTERANCES, "head")):
        folder = f"{dtb.REAL_ROOT}/{subject}/video/{utterance}"
        if folder == CORRUPT:
          media.write_garbage_frames(root / folder)
        else:
          media.write_frames(
            root / folder, media.face_frames(person, seed=number), suffix="", digits=3
          )
  for path in scratch.iterdir():
    path.unlink()
  scratch.rmdir()
  return root
