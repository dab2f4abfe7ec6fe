"""Dummy media for the face corpus builders' dummy data, and what their tests share.

The dummy corpora are tiny copies of the official layouts made of real media: short OpenCV
videos in which a real face photograph moves (`data.faces.dummy_videos`), face swaps of them,
FF++-style manipulation-mask videos, frame folders (WildDeepfake, VidTIMIT), and the bad cases a
real download has: a corrupt file, a faceless video, a split entry naming a missing file.
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import shutil
from typing import Any

import cv2
import numpy as np

FRAMES = 6  # frames of every dummy video
SIZE = (160, 120)  # (width, height) of every dummy video frame
MASK_LEVEL = 12  # grey levels: a pixel the swap changed by more is in the dummy mask


def photo_for(index: int) -> str:
  """A face photograph per person index (people differ, as far as the photos allow)."""
  from fakenas_jax.data.faces import dummy_videos

  return dummy_videos.PHOTOS[index % len(dummy_videos.PHOTOS)]


def donor_for(target: int, source: int) -> str:
  """The face a fake of `target` gets from `source`: the source's photo, or the next one when
  both people share a photo (so a swap always changes the face)."""
  return photo_for(source) if photo_for(source) != photo_for(target) else photo_for(target + 1)


def write_real(path: str | os.PathLike, person: int, seed: int = 0) -> None:
  from fakenas_jax.data.faces import dummy_videos

  dummy_videos.write_face_video(
    path, num_frames=FRAMES, size=SIZE, seed=1000 * person + seed, photo=photo_for(person)
  )


def write_fake(
  path: str | os.PathLike, target_path: str | os.PathLike, target: int, source: int, seed: int = 0
) -> None:
  """A face swap of the video at `target_path` (person `target`) with the face of `source`."""
  from fakenas_jax.data.faces import dummy_videos

  dummy_videos.write_swapped_video(path, target_path, seed=seed, photo=donor_for(target, source))


def write_faceless(path: str | os.PathLike, seed: int = 0) -> None:
  from fakenas_jax.data.faces import dummy_videos

  dummy_videos.write_faceless_video(path, num_frames=FRAMES, size=SIZE, seed=seed)


def write_corrupt(path: str | os.PathLike) -> None:
  from fakenas_jax.data.faces import dummy_videos

  dummy_videos.write_corrupt_video(path)


def read_all_frames(path: str | os.PathLike) -> list[np.ndarray]:
  """Every frame of a video, RGB."""
  capture = cv2.VideoCapture(os.fspath(path))
  frames = []
  while True:
    ok, frame = capture.read()
    if not ok:
      break
    frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
  capture.release()
  return frames


def write_mask_video(
  path: str | os.PathLike, fake_path: str | os.PathLike, target_path: str | os.PathLike
) -> None:
  """An FF++-style mask video: white where the fake differs from its target, black elsewhere."""
  os.makedirs(os.path.dirname(os.fspath(path)), exist_ok=True)
  writer = cv2.VideoWriter(os.fspath(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, SIZE)
  try:
    for fake, target in zip(read_all_frames(fake_path), read_all_frames(target_path)):
      changed = (np.abs(fake.astype(np.int16) - target).max(axis=2) > MASK_LEVEL).astype(np.uint8)
      changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
      count, labels, stats, _ = cv2.connectedComponentsWithStats(changed)
      region = np.zeros_like(changed)
      if count > 1:  # the largest changed region: the swapped face, without compression specks
        region[labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))] = 255
      region = cv2.morphologyEx(region, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
      writer.write(np.repeat(region[..., None], 3, axis=2))
  finally:
    writer.release()


def write_frames(
  folder: str | os.PathLike, frames: list[np.ndarray], *, suffix: str = ".png", digits: int = 0
) -> None:
  """Frames as numbered image files `1.png, 2.png, ...` (or `001`, ... with `digits`); an empty
  `suffix` writes JPEG data without one, as VidTIMIT does."""
  folder = pathlib.Path(folder)
  folder.mkdir(parents=True, exist_ok=True)
  for number, frame in enumerate(frames, 1):
    ok, data = cv2.imencode(suffix or ".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    assert ok
    (folder / f"{number:0{digits}d}{suffix}").write_bytes(data.tobytes())


def face_frames(person: int, seed: int = 0) -> list[np.ndarray]:
  from fakenas_jax.data.faces import dummy_videos

  return dummy_videos.face_video_frames(
    num_frames=FRAMES, size=SIZE, seed=1000 * person + seed, photo=photo_for(person)
  )


def swapped_frames(
  frames: list[np.ndarray], target: int, source: int, seed: int = 0
) -> list[np.ndarray]:
  from fakenas_jax.data.faces import dummy_videos

  rng = np.random.default_rng(seed)
  return [dummy_videos.swap_face(frame, donor_for(target, source), rng) for frame in frames]


def faceless_frames(seed: int = 0) -> list[np.ndarray]:
  rng = np.random.default_rng(seed)
  width, height = SIZE
  base = cv2.resize(rng.uniform(30, 220, (3, 4, 3)).astype(np.float32), (width, height))
  return [
    np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8) for _ in range(FRAMES)
  ]


def write_garbage_frames(folder: str | os.PathLike, count: int = 3) -> None:
  """A frame folder whose files no image decoder accepts."""
  folder = pathlib.Path(folder)
  folder.mkdir(parents=True, exist_ok=True)
  rng = np.random.default_rng(0)
  for number in range(1, count + 1):
    (folder / f"{number}.png").write_bytes(rng.integers(0, 256, 512, np.uint8).tobytes())


def copy(source: str | os.PathLike, destination: str | os.PathLike) -> None:
  os.makedirs(os.path.dirname(os.fspath(destination)), exist_ok=True)
  shutil.copyfile(source, destination)


# What the builder tests share.


def build(spec: str, manual_dir: str | os.PathLike, data_dir: str | os.PathLike, **overrides: Any):
  """Builds a corpus config for real with `prepare` (one worker, no progress bar) and returns
  its builder, ready to read."""
  from fakenas_jax.data import corpora, preparation

  preparation.prepare(
    spec,
    data_dir,
    manual_dir=os.fspath(manual_dir),
    overrides=overrides,
    builder_kwargs={"num_workers": 1, "progress": False},
  )
  return corpora.load_builder(spec, os.fspath(data_dir), **overrides)


def report(builder) -> dict[str, Any]:
  """The report `prepare` saved beside the build (counts per split, skipped items)."""
  from fakenas_jax.data import preparation

  return json.loads((pathlib.Path(builder.data_dir) / preparation.REPORT_FILE).read_text())


def records(builder, split: str) -> list[dict]:
  """The raw records of a split (images left encoded), text fields decoded."""
  from fakenas_jax.data import corpora

  source = corpora.raw_source(builder, split)
  out = []
  for index in range(len(source)):
    record = dict(source[index])
    for key, value in record.items():
      if isinstance(value, bytes) and key in ("video_id", "method", "identity", "source_identity"):
        record[key] = value.decode()
    out.append(record)
  return out


def videos(builder) -> dict[str, dict[str, dict]]:
  """split -> video_id -> {label, method, identity, source_identity, frames, masked, records}."""
  table: dict[str, dict[str, dict]] = {}
  for split in ("train", "validation", "test"):
    per_video = collections.defaultdict(list)
    for record in records(builder, split):
      per_video[record["video_id"]].append(record)
    table[split] = {}
    for video_id, rows in per_video.items():
      first = rows[0]
      for key in ("label", "method", "identity", "source_identity"):
        assert all(row[key] == first[key] for row in rows), (video_id, key)
      table[split][video_id] = dict(
        label=int(first["label"]),
        method=first["method"],
        identity=first["identity"],
        source_identity=first["source_identity"],
        frames=sorted(int(row["frame_index"]) for row in rows),
        masked={bool(row["has_artifact_masks"]) for row in rows},
        records=rows,
      )
  return table


def decode_mask(data: bytes) -> np.ndarray:
  return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def skipped_by_item(builder) -> dict[str, str]:
  """item -> reason of everything the build skipped (as the saved report lists it)."""
  return {entry["item"]: entry["reason"] for entry in report(builder)["skipped"]}
