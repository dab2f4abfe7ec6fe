"""uadfv: UADFV (Yang, Li, Lyu, ICASSP 2019) face crops — 49 real and 49 Deepfakes videos.

Videos: `real/<NNNN>.mp4` and `fake/<NNNN>_fake.mp4`; the fake `<NNNN>_fake` was made from the
real video `<NNNN>` (same person), so both have `identity` `<NNNN>`. The fakes are not frame-
aligned with their real videos in general, so no artifact masks are derived
(`has_artifact_masks` is False for the fakes).

UADFV has no official split. The one config, `ratio_811`, splits it 8:1:1 by identity (FD-NAS
§4.1's protocol for corpora without one); BiG-Arts tests on the whole corpus (all three splits).

    python -m fakenas_jax.prepare --dataset=uadfv --manual_dir=~/data/UADFV \
        --data_dir=~/tensorflow_datasets
"""

from __future__ import annotations

import dataclasses
import pathlib

import tensorflow_datasets as tfds

from fakenas_jax.data import face_corpus

METHOD = "deepfakes"
FAKE_SUFFIX = "_fake"

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download UADFV (from its authors, https://github.com/yuezunli) and extract it:

  <manual_dir>/real/0000.mp4 ...
  <manual_dir>/fake/0000_fake.mp4 ...
"""


@dataclasses.dataclass(kw_only=True)
class UADFVConfig(face_corpus.FaceCorpusConfig):
  """UADFV, split 8:1:1 by identity."""

  def __post_init__(self):
    super().__post_init__()
    if self.protocol != "ratio":
      raise ValueError(
        f"UADFV has no official split: protocol must be 'ratio', got {self.protocol!r}"
      )


class Builder(face_corpus.FaceVideoCorpusBuilder):
  """UADFV face crops (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
    UADFVConfig(name="ratio_811", protocol="ratio", description="Identity-disjoint 8:1:1 split.")
  ]
  DEFAULT_CONFIG_NAME = "ratio_811"

  def required_paths(self) -> list[tuple[str, ...]]:
    return [("real",), ("fake",)]

  def list_videos(self, manual_dir: pathlib.Path) -> list[face_corpus.VideoItem]:
    items = []
    for folder, label in (("real", 0), ("fake", 1)):
      for path in sorted((manual_dir / folder).glob("*.mp4")):
        identity = (
          path.stem[: -len(FAKE_SUFFIX)] if label and path.stem.endswith(FAKE_SUFFIX) else path.stem
        )
        items.append(
          face_corpus.VideoItem(
            path=str(path),
            label=label,
            video_id=face_corpus.relative_id(path, manual_dir),
            method=METHOD if label else face_corpus.REAL_METHOD,
            split="train",
            identity=identity,
          )
        )
    return face_corpus.ratio_splits(items, self.builder_config, salt=self.name)
