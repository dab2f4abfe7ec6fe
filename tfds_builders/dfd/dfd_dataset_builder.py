"""dfd: Google/Jigsaw's DeepFakeDetection corpus (DFD), distributed with FaceForensics++.

Real videos of 28 paid actors, `original_sequences/actors/<c>/videos/<AA>__<scene>.mp4` (363),
and fakes `manipulated_sequences/DeepFakeDetection/<c>/videos/<AA>_<BB>__<scene>__<code>.mp4`
(3,068): actor AA's video of that scene with actor BB's face, so `identity` is AA and
`source_identity` BB. Artifact masks come from the official mask video
(`manipulated_sequences/DeepFakeDetection/masks/videos/`) where present, otherwise from the
actor's real video of the same scene.

DFD has no official split. The configs (one per compression: raw, c23, c40) split it 8:1:1 by
the actor shown (FD-NAS §4.1's protocol for corpora without one), identity-disjoint for the
actors shown; a donor face may belong to an actor of another split. BiG-Arts tests on the whole
corpus (all three splits).

    python -m fakenas_jax.prepare --dataset=dfd/c23 --manual_dir=~/data/FF++ \
        --data_dir=~/tensorflow_datasets
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

import tensorflow_datasets as tfds

from fakenas_jax.data import face_corpus

COMPRESSIONS = ("raw", "c23", "c40")
METHOD = "deepfakedetection"
REAL_FOLDER = "original_sequences/actors"
FAKE_FOLDER = "manipulated_sequences/DeepFakeDetection"

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download the DeepFakeDetection part of FaceForensics++ with its official script (`-d
DeepFakeDetection_original` and `-d DeepFakeDetection`, optionally `-t masks`; access is granted
on request: https://github.com/ondyari/FaceForensics):

  <manual_dir>/original_sequences/actors/{raw,c23,c40}/videos/01__exit_phone_room.mp4 ...
  <manual_dir>/manipulated_sequences/DeepFakeDetection/{raw,c23,c40}/videos/
      01_02__exit_phone_room__YVGY8LOK.mp4 ...
  <manual_dir>/manipulated_sequences/DeepFakeDetection/masks/videos/...   (optional)

Only the compression of the config you build is needed.
"""

_REAL = re.compile(r"^(\d+)__(.+)$")
_FAKE = re.compile(r"^(\d+)_(\d+)__(.+?)__([^_]+)$")


@dataclasses.dataclass(kw_only=True)
class DFDConfig(face_corpus.FaceCorpusConfig):
  """DFD at one compression."""

  compression: str = "c23"

  def __post_init__(self):
    super().__post_init__()
    if self.compression not in COMPRESSIONS:
      raise ValueError(
        f"compression must be one of {', '.join(COMPRESSIONS)}, got {self.compression!r}"
      )
    if self.protocol != "ratio":
      raise ValueError(
        f"DFD has no official split: protocol must be 'ratio', got {self.protocol!r}"
      )


class Builder(face_corpus.FaceVideoCorpusBuilder):
  """DFD face crops (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
    DFDConfig(
      name=c,
      compression=c,
      protocol="ratio",
      description=f"DFD {c}, identity-disjoint 8:1:1 split.",
    )
    for c in COMPRESSIONS
  ]
  DEFAULT_CONFIG_NAME = "c23"

  def required_paths(self) -> list[tuple[str, ...]]:
    compression = self.builder_config.compression
    return [(f"{REAL_FOLDER}/{compression}/videos",), (f"{FAKE_FOLDER}/{compression}/videos",)]

  def list_videos(self, manual_dir: pathlib.Path) -> list[face_corpus.VideoItem]:
    compression = self.builder_config.compression
    reals = manual_dir / REAL_FOLDER / compression / "videos"
    fakes = manual_dir / FAKE_FOLDER / compression / "videos"
    items = []
    for path in sorted(reals.glob("*.mp4")):
      match = _REAL.match(path.stem)
      items.append(
        face_corpus.VideoItem(
          path=str(path),
          label=0,
          video_id=face_corpus.relative_id(path, manual_dir),
          method=face_corpus.REAL_METHOD,
          split="train",
          identity=match.group(1) if match else path.stem,
        )
      )
    for path in sorted(fakes.glob("*.mp4")):
      match = _FAKE.match(path.stem)
      target, donor, scene = match.group(1, 2, 3) if match else (path.stem, "", None)
      items.append(
        face_corpus.VideoItem(
          path=str(path),
          label=1,
          video_id=face_corpus.relative_id(path, manual_dir),
          method=METHOD,
          split="train",
          identity=target,
          source_identity=donor,
          source_path=str(reals / f"{target}__{scene}.mp4") if scene else None,
          mask_path=str(manual_dir / FAKE_FOLDER / "masks" / "videos" / path.name),
        )
      )
    return face_corpus.ratio_splits(items, self.builder_config, salt=self.name)
