"""faceforensics: FaceForensics++ (Rössler et al., ICCV 2019) face crops, official splits.

One config per manipulation method and compression: `<method>_<compression>` with method one of
deepfakes, face2face, faceswap, neuraltextures, faceshifter or `all` (the four methods the
papers call "FF++": Deepfakes, Face2Face, FaceSwap, NeuralTextures — FD-NAS Tables 2–3, ADD
Table I) and compression raw, c23 (HQ) or c40 (LQ). Every config holds the real videos of its
compression too.

Splits are the official ones: `train.json`, `val.json`, `test.json` (lists of [id, id] pairs,
360/70/70) from the dataset's public code. A pair (a, b) puts the real videos a and b and the
fakes a_b and b_a of every method in that split (720/140/140 videos per method: FD-NAS §4.1,
ADD §IV-A). A fake `<target>_<source>` is the target's real video with the source's face
(swaps) or expressions (re-enactment): `identity` is the target, `source_identity` the source.

Artifact masks (BiG-Arts): from the official mask video
`manipulated_sequences/<Method>/masks/videos/<target>_<source>.mp4` where it exists, otherwise
from the difference with the aligned real video of the target (same compression).

    python -m fakenas_jax.prepare --dataset=faceforensics/all_c23 --manual_dir=~/data/FF++ \
        --data_dir=~/tensorflow_datasets
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import pathlib

import tensorflow_datasets as tfds

from fakenas_jax.data import face_corpus

METHOD_FOLDERS = {
  "deepfakes": "Deepfakes",
  "face2face": "Face2Face",
  "faceswap": "FaceSwap",
  "neuraltextures": "NeuralTextures",
  "faceshifter": "FaceShifter",
}
PAPER_METHODS = ("deepfakes", "face2face", "faceswap", "neuraltextures")
COMPRESSIONS = ("raw", "c23", "c40")
SPLIT_FILES = {"train": "train.json", "validation": "val.json", "test": "test.json"}
SPLIT_FOLDERS = ("", "splits")  # the split files lie in the manual directory or in splits/

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download FaceForensics++ with its official script (access is granted on request:
https://github.com/ondyari/FaceForensics) and put the official split files beside it:

  <manual_dir>/original_sequences/youtube/{raw,c23,c40}/videos/000.mp4 ...
  <manual_dir>/manipulated_sequences/{Deepfakes,Face2Face,FaceSwap,NeuralTextures,FaceShifter}/
      {raw,c23,c40}/videos/000_003.mp4 ...       (fake = <target>_<source>)
  <manual_dir>/manipulated_sequences/<Method>/masks/videos/000_003.mp4   (optional)
  <manual_dir>/train.json, val.json, test.json   (or <manual_dir>/splits/*.json; from
      dataset/splits/ of the FaceForensics repository)

Only the compression of the config you build is needed.
"""


@dataclasses.dataclass(kw_only=True)
class FaceForensicsConfig(face_corpus.FaceCorpusConfig):
  """A set of manipulation methods at one compression."""

  methods: tuple[str, ...] = PAPER_METHODS
  compression: str = "c23"

  def __post_init__(self):
    super().__post_init__()
    unknown = sorted(set(self.methods) - set(METHOD_FOLDERS))
    if unknown or not self.methods:
      raise ValueError(
        f"methods must be a non-empty subset of {', '.join(METHOD_FOLDERS)}, got {self.methods}"
      )
    if self.compression not in COMPRESSIONS:
      raise ValueError(
        f"compression must be one of {', '.join(COMPRESSIONS)}, got {self.compression!r}"
      )
    if self.protocol != "official":
      raise ValueError(
        "FaceForensics++ has official splits only: protocol must be 'official', "
        f"got {self.protocol!r}"
      )


def _config(method: str, compression: str) -> FaceForensicsConfig:
  methods = PAPER_METHODS if method == "all" else (method,)
  names = ", ".join(METHOD_FOLDERS[m] for m in methods)
  return FaceForensicsConfig(
    name=f"{method}_{compression}",
    methods=methods,
    compression=compression,
    description=f"FaceForensics++ {compression}: real videos and {names}.",
  )


def read_split_pairs(path: pathlib.Path) -> list[tuple[str, str]]:
  """An official split file: a JSON list of [id, id] pairs."""
  try:
    pairs = json.loads(path.read_text())
  except (OSError, ValueError) as error:
    raise face_corpus.ManualDirError(f"{path}: cannot read the split file ({error})") from None
  if not isinstance(pairs, list) or not all(
    isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair)
    for pair in pairs
  ):
    raise face_corpus.ManualDirError(
      f'{path}: expected a JSON list of [id, id] pairs such as [["953", "974"], ...]'
    )
  return [(a, b) for a, b in pairs]


class Builder(face_corpus.FaceVideoCorpusBuilder):
  """FaceForensics++ face crops (official splits; see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
    _config(method, compression)
    for method, compression in itertools.product((*METHOD_FOLDERS, "all"), COMPRESSIONS)
  ]
  DEFAULT_CONFIG_NAME = "all_c23"

  def required_paths(self) -> list[tuple[str, ...]]:
    config = self.builder_config
    paths = [(f"original_sequences/youtube/{config.compression}/videos",)]
    paths += [
      (f"manipulated_sequences/{METHOD_FOLDERS[m]}/{config.compression}/videos",)
      for m in config.methods
    ]
    paths += [
      tuple(str(pathlib.PurePosixPath(folder, name)) for folder in SPLIT_FOLDERS)
      for name in SPLIT_FILES.values()
    ]
    return paths

  def split_pairs(self, manual_dir: pathlib.Path) -> dict[str, list[tuple[str, str]]]:
    """The official pairs of every split; an id in two splits is an error."""
    pairs, owner = {}, {}
    for split, name in SPLIT_FILES.items():
      path = next(
        manual_dir / folder / name
        for folder in SPLIT_FOLDERS
        if (manual_dir / folder / name).exists()
      )
      pairs[split] = read_split_pairs(path)
      for video in itertools.chain.from_iterable(pairs[split]):
        if owner.setdefault(video, split) != split:
          raise face_corpus.ManualDirError(
            f"{path}: video {video} is in both the {owner[video]} and the {split} split files"
          )
    return pairs

  def list_videos(self, manual_dir: pathlib.Path) -> list[face_corpus.VideoItem]:
    config = self.builder_config
    originals = manual_dir / "original_sequences" / "youtube" / config.compression / "videos"
    items = []
    for split, pairs in self.split_pairs(manual_dir).items():
      for video in sorted(set(itertools.chain.from_iterable(pairs))):
        path = originals / f"{video}.mp4"
        items.append(
          face_corpus.VideoItem(
            path=str(path),
            label=0,
            video_id=face_corpus.relative_id(path, manual_dir),
            method=face_corpus.REAL_METHOD,
            split=split,
            identity=video,
          )
        )
      for method in config.methods:
        folder = manual_dir / "manipulated_sequences" / METHOD_FOLDERS[method]
        for target, source in sorted({fake for a, b in pairs for fake in ((a, b), (b, a))}):
          path = folder / config.compression / "videos" / f"{target}_{source}.mp4"
          items.append(
            face_corpus.VideoItem(
              path=str(path),
              label=1,
              video_id=face_corpus.relative_id(path, manual_dir),
              method=method,
              split=split,
              identity=target,
              source_identity=source,
              source_path=str(originals / f"{target}.mp4"),
              mask_path=str(folder / "masks" / "videos" / f"{target}_{source}.mp4"),
            )
          )
    return items
