"""A tiny FaceForensics++ in its official layout (real face videos), for tests and demos.

Ten ids: official-style split files put pairs (000, 001), (002, 003) in train, (004, 005) in
val and (006, 007), (008, 009) in test; 008 and 009 have no file (a split entry naming a missing
video). Original 003 is corrupt (its fakes were made before it was damaged), the Deepfakes fake
004_005 shows no face, and Deepfakes and FaceSwap come with mask videos. Every method's fakes are
the same face swaps (the layout is what is under test, not the methods). `train.json` and
`val.json` lie in the manual directory, `test.json` in `splits/` (both places are accepted).
"""

from __future__ import annotations

import json
import os
import pathlib

from tfds_builders import face_corpus_testing as media
from tfds_builders.faceforensics import faceforensics_dataset_builder as ffb

SPLIT_PAIRS = {
  "train": [("000", "001"), ("002", "003")],
  "validation": [("004", "005")],
  "test": [("006", "007"), ("008", "009")],
}
MISSING = ("008", "009")
CORRUPT = "003"
FACELESS = ("deepfakes", "004_005")
MASKED_METHODS = ("deepfakes", "faceswap")


def fake_pairs(split: str) -> list[tuple[str, str]]:
  return sorted({fake for a, b in SPLIT_PAIRS[split] for fake in ((a, b), (b, a))})


def write_dummy_corpus(
  root: str | os.PathLike, compressions: tuple[str, ...] = ffb.COMPRESSIONS
) -> pathlib.Path:
  """Writes the dummy corpus under `root` (the manual directory) and returns it."""
  root = pathlib.Path(root)
  scratch = root / ".scratch"
  present = [
    video
    for pairs in SPLIT_PAIRS.values()
    for pair in pairs
    for video in pair
    if video not in MISSING
  ]
  for video in present:
    media.write_real(scratch / f"{video}.mp4", int(video))
  fakes = [
    pair for split in SPLIT_PAIRS for pair in fake_pairs(split) if not set(pair) & set(MISSING)
  ]
  for target, source in fakes:
    media.write_fake(
      scratch / f"{target}_{source}.mp4", scratch / f"{target}.mp4", int(target), int(source)
    )
    media.write_mask_video(
      scratch / f"mask_{target}_{source}.mp4",
      scratch / f"{target}_{source}.mp4",
      scratch / f"{target}.mp4",
    )
  media.write_faceless(scratch / "faceless.mp4")
  media.write_corrupt(scratch / "corrupt.mp4")
  for compression in compressions:
    originals = root / "original_sequences" / "youtube" / compression / "videos"
    for video in present:
      media.copy(
        scratch / ("corrupt.mp4" if video == CORRUPT else f"{video}.mp4"),
        originals / f"{video}.mp4",
      )
    for method, folder in ffb.METHOD_FOLDERS.items():
      for target, source in fakes:
        name = f"{target}_{source}"
        media.copy(
          scratch / ("faceless.mp4" if (method, name) == FACELESS else f"{name}.mp4"),
          root / "manipulated_sequences" / folder / compression / "videos" / f"{name}.mp4",
        )
  for method in MASKED_METHODS:
    for target, source in fakes:
      name = f"{target}_{source}"
      media.copy(
        scratch / f"mask_{name}.mp4",
        root
        / "manipulated_sequences"
        / ffb.METHOD_FOLDERS[method]
        / "masks"
        / "videos"
        / f"{name}.mp4",
      )
  for split, name in ffb.SPLIT_FILES.items():
    path = root / ("splits" if split == "test" else "") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([list(pair) for pair in SPLIT_PAIRS[split]]))
  for path in scratch.iterdir():
    path.unlink()
  scratch.rmdir()
  return root
