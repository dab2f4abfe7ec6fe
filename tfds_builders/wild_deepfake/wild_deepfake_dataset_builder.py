"""wild_deepfake: WildDeepfake (Zi et al., ACM MM 2020) face crops.

The corpus is face sequences (folders of PNG frames already cropped around a face) collected
from the internet, shipped as tar archives in `real_train/`, `fake_train/`, `real_test/` and
`fake_test/`. Extracted in place, an archive `<archive>.tar.gz` gives
`<category>/<archive>/{real,fake}/<sequence>/<frame>.png`. Each sequence is one "video" here
(`video_id` = its folder below the manual directory); frames are sampled from it as from a video
and go through the same face pipeline (detection, landmarks, masks), so crops match the other
corpora. The label and split come from the category folder. Identities are not published;
sequences of one archive are kept together (the split group) and `identity` is left empty. No
aligned real video exists, so `has_artifact_masks` is False for the fakes.

Configs (splits):
* `official` — test: `real_test` + `fake_test` (806 sequences, BiG-Arts Table 3); training:
  the train folders, with `validation_fraction` = 0.2 of their archives held out as validation.
* `ratio_811` — FD-NAS §4.1: all sequences split 8:1:1 by archive.

    python -m fakenas_jax.prepare --dataset=wild_deepfake/official \
        --manual_dir=~/data/deepfake_in_the_wild --data_dir=~/tensorflow_datasets
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

import tensorflow_datasets as tfds

from fakenas_jax.data import face_corpus

CATEGORIES = {  # folder -> (label, official split)
  "real_train": (0, "train"),
  "fake_train": (1, "train"),
  "real_test": (0, "test"),
  "fake_test": (1, "test"),
}
METHOD = "wild_deepfake"

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download WildDeepfake (deepfake_in_the_wild; access is granted on request:
https://github.com/deepfakeinthewild/deepfake-in-the-wild) and extract every archive in the
folder it lies in:

  <manual_dir>/real_train/1.tar.gz  ->  <manual_dir>/real_train/1/real/<sequence>/<frame>.png
  <manual_dir>/fake_train/...           <manual_dir>/fake_train/<archive>/fake/<sequence>/...
  <manual_dir>/real_test/..., <manual_dir>/fake_test/...

  for d in real_train fake_train real_test fake_test; do
    for a in <manual_dir>/$d/*.tar.gz; do tar -xzf "$a" -C <manual_dir>/$d; done; done
"""


def sequence_folders(category: pathlib.Path) -> list[pathlib.Path]:
  """Every folder below `category` that directly holds frames, in sorted order."""
  found = []
  for root, folders, files in os.walk(category):
    folders.sort()
    if any(pathlib.Path(name).suffix.lower() in face_corpus.FRAME_SUFFIXES for name in files):
      found.append(pathlib.Path(root))
  return sorted(found)


def archive_of(item: face_corpus.VideoItem) -> str:
  """The split group of a sequence: `<category>/<archive>`."""
  return "/".join(item.video_id.split("/")[:2])


@dataclasses.dataclass(kw_only=True)
class WildDeepfakeConfig(face_corpus.FaceCorpusConfig):
  """WildDeepfake with one split protocol."""


class Builder(face_corpus.FaceVideoCorpusBuilder):
  """WildDeepfake face crops (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
    WildDeepfakeConfig(
      name="official",
      protocol="official",
      description="Official train/test; 8:2 train/validation by archive.",
    ),
    WildDeepfakeConfig(
      name="ratio_811",
      protocol="ratio",
      description="FD-NAS: 8:1:1 split of all sequences by archive.",
    ),
  ]
  DEFAULT_CONFIG_NAME = "official"

  def required_paths(self) -> list[tuple[str, ...]]:
    return [(category,) for category in CATEGORIES]

  def list_videos(self, manual_dir: pathlib.Path) -> list[face_corpus.VideoItem]:
    items = []
    for category, (label, split) in CATEGORIES.items():
      folders = sequence_folders(manual_dir / category)
      if not folders and any((manual_dir / category).glob("*.tar*")):
        raise face_corpus.ManualDirError(
          f"{manual_dir / category} holds archives but no extracted frames; extract them "
          f"first:\n{MANUAL_DOWNLOAD_INSTRUCTIONS}"
        )
      for folder in folders:
        items.append(
          face_corpus.VideoItem(
            path=str(folder),
            label=label,
            video_id=folder.relative_to(manual_dir).as_posix(),
            method=METHOD if label else face_corpus.REAL_METHOD,
            split=split,
          )
        )
    config = self.builder_config
    split = (
      face_corpus.ratio_splits if config.protocol == "ratio" else (face_corpus.hold_out_validation)
    )
    return split(items, config, salt=self.name, group_of=archive_of)
