"""celeb_df: Celeb-DF v2 (Li et al., CVPR 2020) face crops.

Videos: `Celeb-real/id<X>_<NNNN>.mp4` (590 celebrity videos), `YouTube-real/<NNNNN>.mp4` (300,
one person each) and `Celeb-synthesis/id<X>_id<Y>_<NNNN>.mp4` (5,639 fakes). A synthesis
`id<X>_id<Y>_<NNNN>` is the real video `Celeb-real/id<X>_<NNNN>.mp4` with the face of id<Y>
swapped in, so its `identity` is id<X> (the person of the video), its `source_identity` id<Y>
(the donor), and `Celeb-real/id<X>_<NNNN>.mp4` is its aligned real video, from which the
BiG-Arts artifact masks are derived. A YouTube-real video's identity is `youtube_<NNNNN>`.

Configs (splits):
* `official` — test: the videos of `List_of_testing_videos.txt` (518), whose lines read
  `<label> <folder>/<name>.mp4` with **1 = real, 0 = fake**; a line whose label contradicts its
  folder is skipped and reported. Training and validation: every other video, split by
  identity with `validation_fraction` = 0.2 of the identities in validation (BiG-Arts §4.1:
  "split the original training set ... with the ratio 8:2"; ADD trains on the videos not in the
  list). Test identities also appear in training, as in the official protocol.
* `ratio_811` — FD-NAS §4.1: all videos split 8:1:1 by identity (identity-disjoint).

    python -m fakenas_jax.prepare --dataset=celeb_df/official --manual_dir=~/data/Celeb-DF-v2 \
        --data_dir=~/tensorflow_datasets
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

import tensorflow_datasets as tfds

from fakenas_jax.data import face_corpus

REAL_FOLDERS = ("Celeb-real", "YouTube-real")
FAKE_FOLDER = "Celeb-synthesis"
TEST_LIST = "List_of_testing_videos.txt"
METHOD = "celeb_synthesis"
LIST_LABELS = {"1": 0, "0": 1}  # the list's label -> ours: the list writes 1 for real, 0 for fake

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download Celeb-DF (v2) (access is granted on request:
https://github.com/yuezunli/celeb-deepfakeforensics) and extract it as distributed:

  <manual_dir>/Celeb-real/id0_0000.mp4 ...
  <manual_dir>/YouTube-real/00000.mp4 ...
  <manual_dir>/Celeb-synthesis/id0_id1_0000.mp4 ...
  <manual_dir>/List_of_testing_videos.txt
"""

_CELEB_REAL = re.compile(r"^(id\d+)_(\d+)$")
_SYNTHESIS = re.compile(r"^(id\d+)_(id\d+)_(\d+)$")


class TestListError(face_corpus.ManualDirError):
  """A line of List_of_testing_videos.txt that is not `<0|1> <folder>/<name>.mp4`."""


def read_test_list(path: pathlib.Path) -> list[tuple[int, str]]:
  """`List_of_testing_videos.txt` -> [(label, relative path)], label 0 real / 1 fake."""
  entries = []
  for number, line in enumerate(path.read_text().splitlines(), 1):
    if not line.strip():
      continue
    fields = line.split()
    if len(fields) != 2 or fields[0] not in LIST_LABELS:
      raise TestListError(
        f"{path}, line {number}: expected '<1 real | 0 fake> <folder>/<name>.mp4', got {line!r}"
      )
    entries.append((LIST_LABELS[fields[0]], fields[1]))
  return entries


def describe(
  relative: str, manual_dir: pathlib.Path, split: str, label: int | None = None
) -> face_corpus.VideoItem | str:
  """The item of a video path below the manual directory, or why it cannot be one."""
  path = manual_dir / relative
  folder = pathlib.PurePosixPath(relative).parent.as_posix()
  stem = pathlib.PurePosixPath(relative).stem
  video_id = face_corpus.relative_id(path, manual_dir)
  if folder == FAKE_FOLDER:
    implied = 1
    match = _SYNTHESIS.match(stem)
    if match:
      target, donor, number = match.groups()
      aligned = str(manual_dir / REAL_FOLDERS[0] / f"{target}_{number}.mp4")
    else:
      target, donor, aligned = stem, "", None
    item = face_corpus.VideoItem(
      path=str(path),
      label=1,
      video_id=video_id,
      method=METHOD,
      split=split,
      identity=target,
      source_identity=donor,
      source_path=aligned,
    )
  elif folder in REAL_FOLDERS:
    implied = 0
    match = _CELEB_REAL.match(stem)
    identity = match.group(1) if folder == REAL_FOLDERS[0] and match else f"youtube_{stem}"
    item = face_corpus.VideoItem(
      path=str(path),
      label=0,
      video_id=video_id,
      method=face_corpus.REAL_METHOD,
      split=split,
      identity=identity,
    )
  else:
    return f"not in {', '.join(REAL_FOLDERS + (FAKE_FOLDER,))}"
  if label is not None and label != implied:
    return (
      f"the list says {('real', 'fake')[label]} but {folder} holds "
      f"{('real', 'fake')[implied]} videos"
    )
  return item


@dataclasses.dataclass(kw_only=True)
class CelebDFConfig(face_corpus.FaceCorpusConfig):
  """Celeb-DF v2 with one split protocol."""


class Builder(face_corpus.FaceVideoCorpusBuilder):
  """Celeb-DF v2 face crops (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
    CelebDFConfig(
      name="official",
      protocol="official",
      description="Official test list; identity-disjoint 8:2 train/validation.",
    ),
    CelebDFConfig(
      name="ratio_811",
      protocol="ratio",
      description="FD-NAS: identity-disjoint 8:1:1 split of all videos.",
    ),
  ]
  DEFAULT_CONFIG_NAME = "official"

  def required_paths(self) -> list[tuple[str, ...]]:
    paths = [(folder,) for folder in (*REAL_FOLDERS, FAKE_FOLDER)]
    return paths + [(TEST_LIST,)] if self.builder_config.protocol == "official" else paths

  def list_videos(self, manual_dir: pathlib.Path) -> list[face_corpus.VideoItem]:
    on_disk = sorted(
      f"{folder}/{path.name}"
      for folder in (*REAL_FOLDERS, FAKE_FOLDER)
      for path in (manual_dir / folder).glob("*.mp4")
    )
    config = self.builder_config
    if config.protocol == "ratio":
      items = [describe(relative, manual_dir, "train") for relative in on_disk]
      return face_corpus.ratio_splits(items, config, salt=self.name)
    test = read_test_list(manual_dir / TEST_LIST)
    listed = {relative for _, relative in test}
    items = []
    for label, relative in test:
      item = describe(relative, manual_dir, "test", label)
      if isinstance(item, str):
        self.skipped.append({"split": "test", "item": relative, "reason": item})
      else:
        items.append(item)
    rest = [
      describe(relative, manual_dir, "train") for relative in on_disk if relative not in listed
    ]
    return items + face_corpus.hold_out_validation(rest, config, salt=self.name)
