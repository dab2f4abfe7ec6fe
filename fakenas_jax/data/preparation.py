"""Building a corpus into a TFDS data directory, and the summary of what it holds.

`prepare` is what `python -m fakenas_jax.prepare` runs; it replaces the `tfds build` command,
which needs TensorFlow. It writes array_record files (the only format that needs no TF), never
leaves a build that reads as complete when it was interrupted (TFDS writes into an
`incomplete.*` directory and renames it at the end), does nothing when the build is already
complete, and ends with a summary: examples per split and class, and anything a builder skipped
with the reason (builders report skips through their `skipped` attribute: a list of
`{"split", "item", "reason"}` dicts).

Faults end in one line (a `DataDirError`, printed by `prepare` without a traceback): a full disk
or an unwritable directory (`storage.describe_os_error`: which file, the free space, what to
do), a build that fails its checksums (`integrity.CorruptCorpusError`, with the `--rebuild`
command). `rebuild=True` deletes a complete build and builds it again. One `prepare` of a config
runs at a time (an advisory lock beside the build), so the `incomplete.*` directories found
under the lock are left by dead builds: they are removed.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import fcntl
import json
import os
import pathlib
import shutil
import socket
import time
from typing import Any

import tensorflow_datasets as tfds

from fakenas_jax import storage
from fakenas_jax.data import corpora

REPORT_FILE = "prepare_report.json"


class DataDirError(storage.StorageError):
  """The data directory cannot be created or written to, or what it holds cannot be used."""


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
    state = (
      "already prepared, nothing to do"
      if self.already_prepared
      else (f"built in {self.seconds:.1f} s")
    )
    lines = [
      f"{title}: {state}",
      f"  at {self.path}",
      f"  {'split':<12}{'examples':>10}{'real':>8}{'fake':>8}{'videos':>8}",
    ]
    for split, counts in self.splits.items():
      lines.append(
        f"  {split:<12}{counts.examples:>10}{counts.real:>8}{counts.fake:>8}{counts.videos:>8}"
      )
    if self.skipped:
      reasons = collections.Counter(item["reason"] for item in self.skipped)
      lines.append(f"  skipped {len(self.skipped)} item(s):")
      lines += [f"    {count} x {reason}" for reason, count in reasons.most_common()]
      lines += [
        f"    {item['split']}: {item['item']} ({item['reason']})" for item in self.skipped[:20]
      ]
      if len(self.skipped) > 20:
        lines.append(f"    ... and {len(self.skipped) - 20} more in {REPORT_FILE}")
    else:
      lines.append("  nothing skipped")
    return "\n".join(lines)


def ensure_writable(data_dir: str | os.PathLike) -> pathlib.Path:
  """Creates `data_dir` if needed and checks a file can be written into it."""
  try:
    return storage.ensure_writable(data_dir, "data_dir")
  except storage.StorageError as error:
    raise DataDirError(str(error), errno_code=error.errno_code, path=error.path) from None


@contextlib.contextmanager
def build_lock(config_dir: pathlib.Path):
  """Holds the advisory lock of one corpus config's builds; under it, the `incomplete.*`
  directories TFDS leaves behind belong to dead builds and are removed."""
  config_dir.mkdir(parents=True, exist_ok=True)
  lock_path = config_dir / ".prepare.lock"
  with open(lock_path, "a+") as handle:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      handle.seek(0)
      owner = handle.read().strip() or "another process"
      raise DataDirError(
        f"{config_dir} is being built by {owner} (lock {lock_path}); wait for "
        "it to finish, then run again"
      ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
    handle.flush()
    for stale in sorted(config_dir.glob("incomplete.*")):
      shutil.rmtree(stale, ignore_errors=True)
    try:
      yield
    finally:
      handle.seek(0)
      handle.truncate()
      fcntl.flock(handle, fcntl.LOCK_UN)


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
    counts[split] = SplitCounts(
      examples=len(source), real=labels[0], fake=labels[1], videos=len(videos)
    )
  return counts


def _count(builder) -> dict[str, SplitCounts]:
  from fakenas_jax.data import integrity

  try:
    return count_examples(builder)
  except Exception as error:  # noqa: BLE001 — only array_record's read errors are translated
    if integrity.is_corruption(error):
      raise integrity.corrupt_corpus_error(builder.info, error) from None
    raise


def prepare(
  spec: str,
  data_dir: str | os.PathLike,
  *,
  manual_dir: str | None = None,
  overrides: dict[str, Any] | None = None,
  builder_kwargs: dict[str, Any] | None = None,
  rebuild: bool = False,
) -> PrepareSummary:
  """Builds corpus `spec` ('name[/config]') into `data_dir` unless it is already complete
  (`rebuild`: delete a complete build first, e.g. one whose files fail their checksums)."""
  data_dir = ensure_writable(data_dir)
  builder = corpora.load_builder(spec, str(data_dir), builder_kwargs, **(overrides or {}))
  build_dir = pathlib.Path(builder.data_dir)
  with build_lock(build_dir.parent):
    if rebuild and builder.is_prepared():
      shutil.rmtree(build_dir)
      builder = corpora.load_builder(spec, str(data_dir), builder_kwargs, **(overrides or {}))
    report_path = build_dir / REPORT_FILE
    already = builder.is_prepared()
    start = time.perf_counter()
    skipped: list[dict[str, str]] = []
    if already:
      if report_path.exists():
        skipped = json.loads(report_path.read_text())["skipped"]
    else:
      download_config = tfds.download.DownloadConfig(manual_dir=manual_dir)
      # TFDS prints "Downloading and preparing dataset Unknown size ..." and "... Subsequent
      # calls will reuse this data." to stdout; nothing downloads here and the summary says
      # where the build is.
      builder._log_download_bytes = builder._log_download_done = lambda: None
      try:
        builder.download_and_prepare(file_format="array_record", download_config=download_config)
      except DataDirError:
        raise
      except (OSError, RuntimeError) as error:  # TFDS re-raises writer errors as RuntimeError
        if not storage.is_storage_error(error):
          raise
        cause = storage.root_os_error(error)
        raise DataDirError(
          storage.describe_os_error(
            error, build_dir, action="run the same command again (the partial build is discarded)"
          ),
          errno_code=getattr(cause, "errno", None),
          path=getattr(cause, "filename", None),
        ) from None
      skipped = list(getattr(builder, "skipped", []))
    summary = PrepareSummary(
      dataset=corpora.parse_spec(spec)[0],
      config=builder.builder_config.name if builder.builder_config else None,
      path=str(builder.data_dir),
      already_prepared=already,
      seconds=time.perf_counter() - start,
      splits=_count(builder),
      skipped=skipped,
    )
    if not already:
      try:
        report_path.write_text(json.dumps(summary.to_json(), indent=2))
      except OSError as error:
        raise DataDirError(
          storage.describe_os_error(error, report_path, action="run the same command again"),
          errno_code=error.errno,
          path=str(report_path),
        ) from None
  return summary
