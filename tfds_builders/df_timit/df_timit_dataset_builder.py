"""df_timit: DeepfakeTIMIT (Korshunov, Marcel, 2018) with its real VidTIMIT videos.

Fakes: `DeepfakeTIMIT/{lower_quality,higher_quality}/<subject>/<utterance>-video-<other>.avi`,
320 per quality (32 subjects of VidTIMIT, swapped in 16 pairs; 64 x 64 faces for LQ, 128 x 128
for HQ): `<subject>`'s recording of `<utterance>` with the face of `<other>`, so `identity` is
the subject and `source_identity` the other. Real videos: the same subjects' VidTIMIT
recordings, which VidTIMIT ships as folders of JPEG frames,
`VidTIMIT/<subject>/video/<utterance>/<NNN>` (the head-rotation sequences `head*` are left out:
10 utterances, 320 real videos per quality, as BiG-Arts §4.1 counts). A frame folder is read
as a video. No artifact masks are derived (`has_artifact_masks` is False for the fakes).

Configs: `lq` and `hq`. DF-TIMIT has no official split: both split it 8:1:1 by swap pair (a
subject and the other of its pair are in the same split, so the split is identity-disjoint for
both faces of every fake); BiG-Arts tests on the whole corpus (all three splits).

    python -m fakenas_jax.prepare --dataset=df_timit/hq --manual_dir=~/data/DF-TIMIT \
        --data_dir=~/tensorflow_datasets
"""

from __future__ import annotations

import dataclasses
import pathlib

import tensorflow_datasets as tfds

from fakenas_jax.data import face_corpus

QUALITY_FOLDERS = {"lq": "lower_quality", "hq": "higher_quality"}
FAKE_ROOT = "DeepfakeTIMIT"
REAL_ROOT = "VidTIMIT"
SWAP_MARK = "-video-"
METHOD = "deepfaketimit"

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download DeepfakeTIMIT (https://www.idiap.ch/en/scientific-research/data/deepfaketimit) and the
VidTIMIT videos of its subjects (https://conradsanderson.id.au/vidtimit/), and extract both in the
manual directory:

  <manual_dir>/DeepfakeTIMIT/lower_quality/fadg0/sa1-video-fram1.avi ...
  <manual_dir>/DeepfakeTIMIT/higher_quality/fadg0/sa1-video-fram1.avi ...
  <manual_dir>/VidTIMIT/fadg0/video/sa1/001 ...   (JPEG frames, as VidTIMIT ships them)
"""


def swap_pair_groups(pairs: list[tuple[str, str]]) -> dict[str, str]:
  """person -> the smallest name of the connected component of the swap pairs it belongs to."""
  parent: dict[str, str] = {}

  def root(person: str) -> str:
    parent.setdefault(person, person)
    while parent[person] != person:
      parent[person] = parent[parent[person]]
      person = parent[person]
    return person

  for a, b in pairs:
    ra, rb = root(a), root(b)
    if ra != rb:
      parent[max(ra, rb)] = min(ra, rb)
  return {person: root(person) for person in list(parent)}


@dataclasses.dataclass(kw_only=True)
class DFTimitConfig(face_corpus.FaceCorpusConfig):
  """DF-TIMIT at one quality, split 8:1:1 by swap pair."""

  quality: str = "hq"

  def __post_init__(self):
    super().__post_init__()
    if self.quality not in QUALITY_FOLDERS:
      raise ValueError(f"quality must be one of {', '.join(QUALITY_FOLDERS)}, got {self.quality!r}")
    if self.protocol != "ratio":
      raise ValueError(
        f"DF-TIMIT has no official split: protocol must be 'ratio', got {self.protocol!r}"
      )


class Builder(face_corpus.FaceVideoCorpusBuilder):
  """DF-TIMIT face crops (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
    DFTimitConfig(
      name=q, quality=q, protocol="ratio", description=f"DeepfakeTIMIT {folder} + VidTIMIT, 8:1:1."
    )
    for q, folder in QUALITY_FOLDERS.items()
  ]
  DEFAULT_CONFIG_NAME = "hq"

  def required_paths(self) -> list[tuple[str, ...]]:
    return [(f"{FAKE_ROOT}/{QUALITY_FOLDERS[self.builder_config.quality]}",), (REAL_ROOT,)]

  def list_videos(self, manual_dir: pathlib.Path) -> list[face_corpus.VideoItem]:
    fakes_root = manual_dir / FAKE_ROOT / QUALITY_FOLDERS[self.builder_config.quality]
    subjects = sorted(path.name for path in fakes_root.iterdir() if path.is_dir())
    items = []
    for subject in subjects:
      for path in sorted((fakes_root / subject).glob("*.avi")):
        utterance, _, other = path.stem.partition(SWAP_MARK)
        items.append(
          face_corpus.VideoItem(
            path=str(path),
            label=1,
            video_id=face_corpus.relative_id(path, manual_dir),
            method=METHOD,
            split="train",
            identity=subject,
            source_identity=other,
          )
        )
      recordings = manual_dir / REAL_ROOT / subject / "video"
      for folder in sorted(recordings.iterdir()) if recordings.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("head"):
          items.append(
            face_corpus.VideoItem(
              path=str(folder),
              label=0,
              video_id=folder.relative_to(manual_dir).as_posix(),
              method=face_corpus.REAL_METHOD,
              split="train",
              identity=subject,
            )
          )
    groups = swap_pair_groups(
      [(item.identity, item.source_identity or item.identity) for item in items]
    )
    items = face_corpus.ratio_splits(
      items, self.builder_config, salt=self.name, group_of=lambda item: groups[item.identity]
    )
    split_of = {item.identity: item.split for item in items}
    for subject in subjects:
      if not (manual_dir / REAL_ROOT / subject / "video").is_dir():
        self.skipped.append(
          {
            "split": split_of.get(subject, "train"),
            "item": f"{REAL_ROOT}/{subject}/video",
            "reason": "real recordings of this subject not found",
          }
        )
    return items
