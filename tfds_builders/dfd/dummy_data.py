"""A tiny DFD in the FaceForensics++ download layout (real face videos), for tests and demos.

Actors 01-05 with real videos per scene and face swaps `<AA>_<BB>__<scene>__<code>`; two fakes
have mask videos, one fake's real video of that scene is absent (no artifact masks), one real
video is corrupt and one shows no face (both of actors with good videos too).
"""

from __future__ import annotations

import os
import pathlib

from tfds_builders import face_corpus_testing as media
from tfds_builders.dfd import dfd_dataset_builder as dfdb

REALS = ("01__talk", "02__talk", "03__walk", "04__walk", "05__talk")
FAKES = (
  "01_02__talk__AAAA0001",
  "02_03__talk__BBBB0002",
  "03_01__walk__CCCC0003",
  "04_05__walk__DDDD0004",
  "05_04__talk__EEEE0005",
  "05_01__dance__FFFF0006",
)
MASKED = ("01_02__talk__AAAA0001", "03_01__walk__CCCC0003")
UNALIGNED = "05_01__dance__FFFF0006"  # its real video 05__dance is not in the corpus
CORRUPT = "03__hug"
FACELESS = "04__hug"


def write_dummy_corpus(
  root: str | os.PathLike, compressions: tuple[str, ...] = ("c23",)
) -> pathlib.Path:
  """Writes the dummy corpus under `root` (the manual directory) and returns it."""
  root = pathlib.Path(root)
  scratch = root / ".scratch"
  for name in (*REALS, "05__dance"):
    media.write_real(scratch / f"{name}.mp4", int(name[:2]), seed=len(name))
  for name in FAKES:
    target, donor = name.split("__")[0].split("_")
    scene = name.split("__")[1]
    real = scratch / f"{target}__{scene}.mp4"
    media.write_fake(scratch / f"{name}.mp4", real, int(target), int(donor))
    if name in MASKED:
      media.write_mask_video(
        root / dfdb.FAKE_FOLDER / "masks" / "videos" / f"{name}.mp4", scratch / f"{name}.mp4", real
      )
  media.write_corrupt(scratch / f"{CORRUPT}.mp4")
  media.write_faceless(scratch / f"{FACELESS}.mp4")
  for compression in compressions:
    for name in (*REALS, CORRUPT, FACELESS):
      media.copy(
        scratch / f"{name}.mp4", root / dfdb.REAL_FOLDER / compression / "videos" / f"{name}.mp4"
      )
    for name in FAKES:
      media.copy(
        scratch / f"{name}.mp4", root / dfdb.FAKE_FOLDER / compression / "videos" / f"{name}.mp4"
      )
  for path in scratch.iterdir():
    path.unlink()
  scratch.rmdir()
  return root
