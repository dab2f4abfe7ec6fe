"""Damaged corpus builds: which array_record file failed its checksum, and the command that
rebuilds it.

array_record (Riegeli) files carry a hash per block, so a damaged byte is caught on reading
(nothing trains on bad data), but the reader's error names no file. `CorruptCorpusError` does:
`damaged_files` re-reads every file of the build to find the bad ones, and the message ends
with the `prepare --rebuild` command of that build (overrides included).
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Iterable

from fakenas_jax.data import preparation

_MARKERS = (
  "Riegeli",
  "hash mismatch",
  "Corrupted",
  "corrupted",
  "array_record",
  "ArrayRecord",
  "RecordReader",
)


class CorruptCorpusError(preparation.DataDirError):
  """A built corpus file that fails its checksums (or cannot be read at all)."""

  def __init__(self, message: str, *, files: Iterable[str] = ()):
    super().__init__(message)
    self.message, self.files = message, list(files)

  def __str__(self) -> str:
    return self.message


def is_corruption(error: BaseException) -> bool:
  """Whether a read error is array_record's way of saying the file is damaged."""
  return isinstance(error, (RuntimeError, OSError, ValueError)) and any(
    marker in str(error) for marker in _MARKERS
  )


def check_file(path: str | os.PathLike) -> str | None:
  """Why an array_record file cannot be read in full (None when every record reads)."""
  from array_record.python import array_record_module

  try:
    reader = array_record_module.ArrayRecordReader(os.fspath(path))
    try:
      count = reader.num_records()
      for start in range(0, count, 1024):
        reader.read(list(range(start, min(start + 1024, count))))
    finally:
      reader.close()
  except (RuntimeError, OSError, ValueError) as error:
    return (str(error).splitlines() or [type(error).__name__])[0][:200]
  return None


def build_files(build_dir: str | os.PathLike) -> list[pathlib.Path]:
  return sorted(pathlib.Path(build_dir).glob("*.array_record-*"))


def damaged_files(build_dir: str | os.PathLike) -> list[tuple[str, str]]:
  """(file, reason) of every array_record file of a build that does not read in full."""
  found = []
  for path in build_files(build_dir):
    reason = check_file(path)
    if reason:
      found.append((str(path), reason))
  return found


def rebuild_command(
  name: str, config_name: str | None, config_description: str, data_dir: str | os.PathLike
) -> str:
  """The `prepare --rebuild` command of a build: its overrides are read back from the config
  description `corpora.resolve_config` writes ('... Overrides: {json}')."""
  spec, flags = name, []
  if config_name:
    spec = f"{name}/{config_name}"
    marker = " Overrides: "
    if marker in (config_description or ""):
      try:
        overrides = json.loads(config_description.rsplit(marker, 1)[1])
      except ValueError:
        overrides = None
      if isinstance(overrides, dict):
        spec = f"{name}/{config_name.rsplit('_', 1)[0]}"
        for key, value in sorted(overrides.items()):
          text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
          flags.append(f"--override={key}={text}")
  return " ".join(
    [
      "python -m fakenas_jax.prepare",
      f"--dataset={spec}",
      f"--data_dir={data_dir}",
      *flags,
      "--rebuild",
    ]
  )


def corrupt_corpus_error(info, error: BaseException | None = None) -> CorruptCorpusError:
  """The error of a damaged build, from its `tfds.core.DatasetInfo` (names the bad files)."""
  build_dir = pathlib.Path(info.data_dir)
  damaged = damaged_files(build_dir)
  data_dir = build_dir.parent.parent.parent if info.config_name else build_dir.parent.parent
  command = rebuild_command(info.name, info.config_name, info.config_description or "", data_dir)
  if damaged:
    what = "; ".join(f"{path} ({reason})" for path, reason in damaged[:3])
    more = f" and {len(damaged) - 3} more" if len(damaged) > 3 else ""
    return CorruptCorpusError(
      f"corpus file {what}{more} is damaged (fails its checksums); rebuild the corpus: {command}",
      files=[p for p, _ in damaged],
    )
  detail = (str(error).splitlines() or [""])[0][:200] if error else ""
  return CorruptCorpusError(
    f"a file of the corpus build {build_dir} cannot be read ({detail}); "
    f"rebuild the corpus: {command}"
  )
