"""A tiny Celeb-DF v2 in its official layout (real face videos), for tests and demos.

Celebrities id0..id4 and three YouTube people; fakes `id<X>_id<Y>_<NNNN>` are face swaps of
`Celeb-real/id<X>_<NNNN>.mp4` with another person's face. `List_of_testing_videos.txt` uses the
official convention (1 = real, 0 = fake) and also holds a line naming a missing video and a line
whose label contradicts its folder. Celeb-real/id3_0001 is corrupt, Celeb-real/id4_0001 shows no
face (both people have a good video too, so no split group is left without one).
"""

from __future__ import annotations

import os
import pathlib

from tfds_builders import face_corpus_testing as media

CELEB_REAL = (
  "id0_0000",
  "id0_0001",
  "id1_0000",
  "id2_0000",
  "id3_0000",
  "id3_0001",
  "id4_0000",
  "id4_0001",
)
YOUTUBE_REAL = ("00000", "00001", "00002")
SYNTHESIS = (
  "id0_id1_0000",
  "id1_id0_0000",
  "id2_id3_0000",
  "id3_id2_0000",
  "id4_id0_0000",
  "id0_id2_0001",
)
TEST_LIST = (
  "1 Celeb-real/id0_0001.mp4",
  "1 YouTube-real/00002.mp4",
  "0 Celeb-synthesis/id0_id2_0001.mp4",
  "0 Celeb-synthesis/id4_id0_0000.mp4",
  "0 Celeb-synthesis/id9_id8_0000.mp4",  # not on disk
  "1 Celeb-synthesis/id2_id3_0000.mp4",  # label contradicts the folder
)
CORRUPT = "Celeb-real/id3_0001"
FACELESS = "Celeb-real/id4_0001"


def _person(name: str) -> int:
  return int(name[2:]) if name.startswith("id") else 10 + int(name)


def write_dummy_corpus(root: str | os.PathLike) -> pathlib.Path:
  """Writes the dummy corpus under `root` (the manual directory) and returns it."""
  root = pathlib.Path(root)
  for name in CELEB_REAL:
    media.write_real(root / "Celeb-real" / f"{name}.mp4", _person(name), int(name[-4:]))
  for name in YOUTUBE_REAL:
    media.write_real(root / "YouTube-real" / f"{name}.mp4", _person(name))
  for name in SYNTHESIS:
    target, donor, number = name.split("_")
    media.write_fake(
      root / "Celeb-synthesis" / f"{name}.mp4",
      root / "Celeb-real" / f"{target}_{number}.mp4",
      _person(target),
      _person(donor),
    )
  media.write_corrupt(root / f"{CORRUPT}.mp4")
  media.write_faceless(root / f"{FACELESS}.mp4")
  (root / "List_of_testing_videos.txt").write_text("\n".join(TEST_LIST) + "\n")
  return root
