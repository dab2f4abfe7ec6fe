"""dfdc_preview: the Deepfake Detection Challenge preview corpus (Dolhansky et al., 2019).

`dataset.json` maps every video path (below the manual directory) to its `label` ('real' or
'fake') and `set` ('train' or 'test'). Videos lie in `original_videos/` (real), `method_A/` and
`method_B/` (the two face-swap methods; `method` is `method_a` / `method_b`), as
`<folder>/<participant>/.../<name>.mp4`: the participant id (the second path component) is the
`identity`. The preview ships no aligned real video per fake, so `has_artifact_masks` is False
for the fakes. A path in `dataset.json` that is not on disk is skipped and reported.

Configs (splits):
* `official` — the `set` field: test as given; training with `validation_fraction` = 0.2 of its
  participants held out as validation.
* `ratio_811` — FD-NAS §4.1: all videos split 8:1:1 by participant (identity-disjoint).
For BiG-Arts's cross-dataset table the whole corpus is tested (all three splits).

    python -m fakenas_jax.prepare --dataset=dfdc_preview/ratio_811 \
        --manual_dir=~/data/dfdc_preview --data_dir=~/tensorflow_datasets
"""

from __future__ import annotations

import dataclasses
import json
import pathlib

import tensorflow_datasets as tfds

from fakenas_jax.data import face_corpus

INDEX = "dataset.json"
FOLDER_METHODS = {
  "original_videos": face_corpus.REAL_METHOD,
  "method_A": "method_a",
  "method_B": "method_b",
}
LABELS = {"real": 0, "fake": 1}
SETS = {"train": "train", "test": "test"}

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download the DFDC preview dataset (access is granted on request: https://ai.meta.com/datasets/dfdc/)
and extract it as distributed:

  <manual_dir>/dataset.json
  <manual_dir>/original_videos/<participant>/.../<name>.mp4
  <manual_dir>/method_A/<participant>/.../<name>.mp4
  <manual_dir>/method_B/<participant>/.../<name>.mp4
"""


class DatasetIndexError(face_corpus.ManualDirError):
  """`dataset.json` that is not a mapping of video paths to {'label', 'set'}."""


def read_index(path: pathlib.Path) -> dict[str, dict]:
  """`dataset.json`: {relative path: {'label': 'real'|'fake', 'set': 'train'|'test', ...}}."""
  try:
    index = json.loads(path.read_text())
  except (OSError, ValueError) as error:
    raise DatasetIndexError(f"{path}: cannot read it ({error})") from None
  if not isinstance(index, dict):
    raise DatasetIndexError(f"{path}: expected a JSON object mapping video paths to their entries")
  return index


def identity_of(relative: str) -> str:
  """The participant of a video path `<folder>/<participant>/.../<name>.mp4`."""
  parts = pathlib.PurePosixPath(relative).parts
  return parts[1] if len(parts) >= 3 else pathlib.PurePosixPath(relative).stem


@dataclasses.dataclass(kw_only=True)
class DFDCPreviewConfig(face_corpus.FaceCorpusConfig):
  """DFDC preview with one split protocol."""


class Builder(face_corpus.FaceVideoCorpusBuilder):
  """DFDC preview face crops (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
    DFDCPreviewConfig(
      name="official",
      protocol="official",
      description="The `set` of dataset.json; 8:2 train/validation.",
    ),
    DFDCPreviewConfig(
      name="ratio_811", protocol="ratio", description="FD-NAS: identity-disjoint 8:1:1 split."
    ),
  ]
  DEFAULT_CONFIG_NAME = "official"

  def required_paths(self) -> list[tuple[str, ...]]:
    return [(INDEX,)]

  def list_videos(self, manual_dir: pathlib.Path) -> list[face_corpus.VideoItem]:
    items = []
    for relative, entry in sorted(read_index(manual_dir / INDEX).items()):
      folder = pathlib.PurePosixPath(relative).parts[0]
      problem = None
      if (
        not isinstance(entry, dict)
        or entry.get("label") not in LABELS
        or (entry.get("set") not in SETS)
      ):
        problem = "entry needs 'label' in {real, fake} and 'set' in {train, test}"
      elif folder not in FOLDER_METHODS:
        problem = f"not in {', '.join(FOLDER_METHODS)}"
      elif (LABELS[entry["label"]] == 0) != (folder == "original_videos"):
        problem = f"label {entry['label']!r} contradicts the folder {folder}"
      if problem:
        self.skipped.append(
          {
            "split": str(entry.get("set", "")) if isinstance(entry, dict) else "",
            "item": relative,
            "reason": problem,
          }
        )
        continue
      path = manual_dir / relative
      items.append(
        face_corpus.VideoItem(
          path=str(path),
          label=LABELS[entry["label"]],
          video_id=face_corpus.relative_id(path, manual_dir),
          method=FOLDER_METHODS[folder],
          split=SETS[entry["set"]],
          identity=identity_of(relative),
        )
      )
    config = self.builder_config
    if config.protocol == "ratio":
      return face_corpus.ratio_splits(items, config, salt=self.name)
    return face_corpus.hold_out_validation(items, config, salt=self.name)
