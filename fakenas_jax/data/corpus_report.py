"""A look at a built face corpus: a contact sheet (frames with landmarks and masks) and statistics.

The contact sheet has one row per manipulation method (and one for real frames); the columns show
the frame, the frame with its 68 landmarks and face hull, the intrinsic mask over the frame (red)
and the extrinsic band (blue). The statistics count examples per split, class and method, the
compression qualities, and the mean area of each mask per method.
"""

from __future__ import annotations

import collections
import json
import pathlib
from typing import Any

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402

from fakenas_jax.data import corpora  # noqa: E402

MASKS = ("face_hull", "intrinsic", "extrinsic")


def _decode(data: bytes, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
  image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
  if image.ndim == 3:
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
  return image


def _text(value) -> str:
  return value.decode() if isinstance(value, bytes) else str(value)


def corpus_statistics(builder: tfds.core.DatasetBuilder) -> dict[str, Any]:
  """Counts per split/class/method, qualities, and mean mask area (fraction of the frame)."""
  stats: dict[str, Any] = {"corpus": builder.info.full_name, "splits": {}}
  area_sums: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
  area_counts: collections.Counter = collections.Counter()
  for split in builder.info.splits:
    source = corpora.raw_source(builder, split)
    methods, qualities, labels = collections.Counter(), collections.Counter(), collections.Counter()
    videos = set()
    for index in range(len(source)):
      example = source[index]
      method = _text(example["method"])
      methods[method] += 1
      qualities[int(example["quality"])] += 1
      labels[("real", "fake")[int(example["label"])]] += 1
      videos.add(example["video_id"])
      if split == "train":
        area_counts[method] += 1
        for mask in MASKS:
          area_sums[method][mask] += float((_decode(example[mask]) > 127).mean())
    stats["splits"][split] = {
      "examples": len(source),
      "videos": len(videos),
      "labels": dict(labels),
      "methods": dict(sorted(methods.items())),
      "jpeg_quality": dict(sorted(qualities.items())),
    }
  stats["mean_mask_area_train"] = {
    method: {mask: area_sums[method][mask] / count for mask in MASKS}
    for method, count in sorted(area_counts.items())
  }
  return stats


def statistics_markdown(stats: dict[str, Any]) -> str:
  lines = [
    f"# {stats['corpus']}",
    "",
    "| split | examples | videos | real | fake | methods |",
    "|---|---:|---:|---:|---:|---|",
  ]
  for split, s in stats["splits"].items():
    methods = ", ".join(f"{m} {n}" for m, n in s["methods"].items())
    lines.append(
      f"| {split} | {s['examples']} | {s['videos']} | {s['labels'].get('real', 0)} "
      f"| {s['labels'].get('fake', 0)} | {methods} |"
    )
  lines += [
    "",
    "Mean mask area on the training split (fraction of the frame):",
    "",
    "| method | face_hull | intrinsic | extrinsic |",
    "|---|---:|---:|---:|",
  ]
  for method, areas in stats["mean_mask_area_train"].items():
    lines.append(f"| {method} | " + " | ".join(f"{areas[m]:.3f}" for m in MASKS) + " |")
  return "\n".join(lines) + "\n"


def _overlay(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
  tint = np.zeros_like(image)
  tint[:] = colour
  on = (mask > 127)[..., None]
  return np.where(on, (0.45 * image + 0.55 * tint).astype(np.uint8), image)


def contact_sheet(
  builder: tfds.core.DatasetBuilder,
  path: str | pathlib.Path,
  split: str = "train",
  examples_per_method: int = 2,
) -> pathlib.Path:
  """Writes a PNG: per method, frames with landmarks + hull, intrinsic and extrinsic overlays."""
  source = corpora.raw_source(builder, split)
  chosen: dict[str, list[dict]] = collections.defaultdict(list)
  seen_videos = set()
  for index in range(len(source)):
    example = source[index]
    method = _text(example["method"])
    if len(chosen[method]) < examples_per_method and example["video_id"] not in seen_videos:
      seen_videos.add(example["video_id"])
      chosen[method].append(example)
  methods = sorted(chosen, key=lambda m: (m != "real", m))
  rows = [(m, e) for m in methods for e in chosen[m]]
  columns = ("frame", "landmarks + face hull", "intrinsic", "extrinsic")
  figure, axes = plt.subplots(len(rows), 4, figsize=(8, 2.1 * len(rows)), squeeze=False)
  for row, (method, example) in enumerate(rows):
    image = _decode(example["image"], cv2.IMREAD_COLOR)
    masks = {mask: _decode(example[mask]) for mask in MASKS}
    hull = image.copy()
    contours, _ = cv2.findContours(
      (masks["face_hull"] > 127).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    cv2.drawContours(hull, contours, -1, (255, 255, 0), 1)
    panels = (
      image,
      hull,
      _overlay(image, masks["intrinsic"], (255, 0, 0)),
      _overlay(image, masks["extrinsic"], (0, 80, 255)),
    )
    for column, panel in enumerate(panels):
      axis = axes[row, column]
      axis.imshow(panel, interpolation="nearest")
      axis.set_xticks([])
      axis.set_yticks([])
      if column == 1:
        points = np.asarray(example["landmarks"])
        axis.scatter(points[:, 0], points[:, 1], s=2, c="lime")
      if row == 0:
        axis.set_title(columns[column], fontsize=9)
    quality = int(example["quality"])
    blending = _text(example["blending"])
    axes[row, 0].set_ylabel(f"{method}\n{blending}, q{quality or 'png'}", fontsize=8)
  figure.suptitle(builder.info.full_name, fontsize=10)
  figure.tight_layout(rect=(0, 0, 1, 1 - 0.35 / len(rows)))
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  figure.savefig(path, dpi=110)
  plt.close(figure)
  return path


def write_report(
  builder: tfds.core.DatasetBuilder, out_dir: str | pathlib.Path
) -> dict[str, pathlib.Path]:
  """Contact sheet PNG, statistics JSON and markdown, named after the corpus config."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  stem = builder.info.full_name.replace("/", "_")
  stats = corpus_statistics(builder)
  paths = {
    "contact_sheet": contact_sheet(builder, out_dir / f"{stem}_contact_sheet.png"),
    "statistics_json": out_dir / f"{stem}_statistics.json",
    "statistics_md": out_dir / f"{stem}_statistics.md",
  }
  paths["statistics_json"].write_text(json.dumps(stats, indent=2))
  paths["statistics_md"].write_text(statistics_markdown(stats))
  return paths
