"""Building a corpus into a TFDS data directory, and the summary of what it holds.

`prepare` is what `python -m fakenas_jax.prepare` runs; it replaces the `tfds build` command,
which needs TensorFlow. It writes array_record files (the only format that needs no TF), never
leaves a build that reads as complete when it was interrupted (TFDS writes into an
`incomplete.*` directory and renames it at the end), does nothing when the build is already
complete, and ends with a summary: examples per split and class, and anything a builder skipped
with the reason (builders report skips through their `skipped` attribute: a list of
`{"split", "item", "reason"}` dicts).
"""
from __future__ import annotations

import collections
import dataclasses
import json
import os
import pathlib
import tempfile
import time
from typing import Any

import tensorflow_datasets as tfds

from fakenas_jax import errors
from fakenas_jax.data import corpora

REPORT_FILE = "prepare_report.json"


class DataDirError(OSError, errors.UserError):
  """The data directory cannot be created or written to."""


@dataclasses.dataclass
class SplitCounts:
  examples: int
  real: int
  fake: int
  videos: int


@dataclasses.dataclass
class PrepareSummary:
  """What a corpus build produced."""

  dataset: str
  config: str | None
  path: str
  already_prepared: bool
  seconds: float
  splits: dict[str, SplitCounts]
  skipped: list[dict[str, str]]

  def to_json(self) -> dict[str, Any]:
    return dataclasses.asdict(self)

  def render(self) -> str:
    title = self.dataset + (f"/{self.config}" if self.config else "")
    state = "already prepared, nothing to do" if self.already_prepared else (
        f"built in {self.seconds:.1f} s")
    lines = [f"{title}: {state}", f"  at {self.path}",
             f"  {'split':<12}{'examples':>10}{'real':>8}{'fake':>8}{'videos':>8}"]
    for split, counts in self.splits.items():
      lines.append(f"  {split:<12}{counts.examples:>10}{counts.real:>8}{counts.fake:>8}"
                   f"{counts.videos:>8}")
    if self.skipped:
      reasons = collections.Counter(item["reason"] for item in self.skipped)
      lines.append(f"  skipped {len(self.skipped)} item(s):")
      lines += [f"    {count} x {reason}" for reason, count in reasons.most_common()]
      lines += [f"    {item['split']}: {item['item']} ({item['reason']})"
                for item in self.skipped[:20]]
      if len(self.skipped) > 20:
        lines.append(f"    ... and {len(self.skipped) - 20} more in {REPORT_FILE}")
    else:
      lines.append("  nothing skipped")
    return "\n".join(lines)


def ensure_writable(data_dir: str | os.PathLike) -> pathlib.Path:
  """Creates `data_dir` if needed and checks a file can be written into it."""
  path = pathlib.Path(data_dir).expanduser()
  try:
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path, prefix=".write_check_"):
      pass
  except OSError as error:
    raise DataDirError(f"data_dir {str(path)!r} is not writable: {error.strerror or error}") from error
  return path


def count_examples(builder: tfds.core.DatasetBuilder) -> dict[str, SplitCounts]:
  """Examples, real/fake frames and distinct videos of every split, without decoding images."""
  counts = {}
  for split in builder.info.splits:
    source = corpora.raw_source(builder, split)
    labels = collections.Counter()
    videos = set()
    for index in range(len(source)):
      example = source[index]
      labels[int(example["label"])] += 1
      if "video_id" in example:
        videos.add(example["video_id"])
    counts[split] = SplitCounts(examples=len(source), real=labels[0], fake=labels[1],
                                videos=len(videos))
  return counts


def prepare(spec: str, data_dir: str | os.PathLike, *, manual_dir: str | None = None,
            overrides: dict[str, Any] | None = None,
            builder_kwargs: dict[str, Any] | None = None) -> PrepareSummary:
  """Builds corpus `spec` ('name[/config]') into `data_dir` unless it is already complete."""
  data_dir = ensure_writable(data_dir)
  builder = corpora.load_builder(spec, str(data_dir), builder_kwargs, **(overrides or {}))
  report_path = pathlib.Path(builder.data_dir) / REPORT_FILE
  already = builder.is_prepared()
  start = time.perf_counter()
  skipped: list[dict[str, str]] = []
  if already:
    if report_path.exists():
      skipped = json.loads(report_path.read_text())["skipped"]
  else:
    download_config = tfds.download.DownloadConfig(manual_dir=manual_dir)
    builder.download_and_prepare(file_format="array_record", download_config=download_config)
    skipped = list(getattr(builder, "skipped", []))
  summary = PrepareSummary(
      dataset=corpora.parse_spec(spec)[0],
      config=builder.builder_config.name if builder.builder_config else None,
      path=str(builder.data_dir), already_prepared=already,
      seconds=time.perf_counter() - start, splits=count_examples(builder), skipped=skipped)
  if not already:
    report_path.write_text(json.dumps(summary.to_json(), indent=2))
  return summary
