"""A workdir holds one run: a lock while it runs, its config written once, resume checked.

    with workdir.claim(path, record, may_change=RESUME_MAY_CHANGE):   # before anything is built
      ...                                                             # the run

`claim` takes an advisory lock (`fcntl.flock` on `<workdir>/.lock`, which records the owner's
host, PID and start time): a second run on the same workdir is refused with the owner named; a
lock left by a process that died is free again and taken over with a note. A new run writes
`config.json` once, atomically; a resumed run compares the stored config with the new one and
refuses, before writing anything, a difference in any field outside `may_change`, naming the
fields (WORKSPACE.md, Runs). Only process 0 locks and writes; the others only check.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pathlib
import socket
import sys
import time
from collections.abc import Iterable
from typing import Any

import jax

from fakenas_jax import errors

CONFIG_FILE = "config.json"
LOCK_FILE = ".lock"
# Fields a resumed run may change: how it runs, not what it computes. A changed optimiser or a
# longer run is allowed too (after a NaN stop, say) and reported.
RESUME_MAY_CHANGE = (
  "progress",
  "data_threads",
  "data_dir",
  "log_every",
  "checkpoint_keep",
  "compile_ahead",
  "validation_batches",
  "eval_batch_size",
  "epochs",
  "optimizer",
)


class WorkdirInUseError(errors.UserError):
  """Another live process runs in this workdir."""


class ResumeMismatchError(errors.UserError):
  """The workdir holds a run of another config."""


def as_dict(record: Any) -> dict:
  """A config (ConfigDict or dict) as the plain JSON dict `config.json` stores."""
  if hasattr(record, "to_json_best_effort"):
    return json.loads(record.to_json_best_effort())
  return json.loads(json.dumps(record, default=str))


def differences(stored: dict, new: dict, prefix: str = "") -> list[str]:
  """Dotted names of the fields whose values differ (added and removed fields included)."""
  names = []
  for key in sorted(set(stored) | set(new)):
    a, b = stored.get(key, "<absent>"), new.get(key, "<absent>")
    if isinstance(a, dict) and isinstance(b, dict):
      names += differences(a, b, f"{prefix}{key}.")
    elif a != b:
      names.append(f"{prefix}{key}")
  return names


def _allowed(name: str, may_change: Iterable[str]) -> bool:
  return any(name == field or name.startswith(field + ".") for field in may_change)


def _value(tree: dict, name: str):
  for part in name.split("."):
    if not isinstance(tree, dict) or part not in tree:
      return "<absent>"
    tree = tree[part]
  return tree


def check_resume(workdir: pathlib.Path, record: dict, may_change: Iterable[str]) -> list[str]:
  """The allowed changes (for a note); raises `ResumeMismatchError` on any other difference."""
  path = workdir / CONFIG_FILE
  if not path.exists():
    return []
  try:
    stored = json.loads(path.read_text())
  except json.JSONDecodeError as error:
    raise ResumeMismatchError(
      f"{path} is damaged ({error}); it is the record of the run in "
      f"{workdir}: restore it or choose another --workdir"
    ) from None
  changed = differences(stored, record)
  refused = [name for name in changed if not _allowed(name, may_change)]
  if refused:
    shown = "; ".join(
      f"{name}: {_value(stored, name)!r} → {_value(record, name)!r}" for name in refused[:6]
    )
    more = f" (and {len(refused) - 6} more)" if len(refused) > 6 else ""
    raise ResumeMismatchError(
      f"{workdir} holds a run of another config, which this command would resume: {shown}"
      f"{more}. Nothing was written. Use another --workdir for a new run, or the stored "
      f"config ({path}) to resume it"
    )
  return changed


def write_atomically(path: pathlib.Path, text: str) -> None:
  temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
  temporary.write_text(text)
  os.replace(temporary, path)


def _owner() -> dict:
  return {
    "host": socket.gethostname(),
    "pid": os.getpid(),
    "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    "command": " ".join(sys.argv),
  }


@contextlib.contextmanager
def claim(
  workdir: str | pathlib.Path, record: Any, *, may_change: Iterable[str] = RESUME_MAY_CHANGE
):
  """Holds `workdir` for one run (module docstring); yields the list of allowed changes."""
  workdir = pathlib.Path(workdir)
  record = as_dict(record)
  if jax.process_index() != 0:
    yield check_resume(workdir, record, may_change) if (workdir / CONFIG_FILE).exists() else []
    return
  workdir.mkdir(parents=True, exist_ok=True)
  lock_path = workdir / LOCK_FILE
  handle = open(lock_path, "a+", encoding="utf-8")  # pylint: disable=consider-using-with
  try:
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    handle.seek(0)
    owner = handle.read().strip() or "another process"
    handle.close()
    raise WorkdirInUseError(
      f"{workdir} is in use by a running process ({owner}); wait for it "
      "to finish or choose another --workdir"
    ) from None
  try:
    handle.seek(0)
    previous = handle.read().strip()
    if previous:
      print(
        f"note: taking over {workdir} from a run that ended without releasing it ({previous})",
        file=sys.stderr,
      )
    changed = check_resume(workdir, record, may_change)
    if changed:
      print(f"note: resuming {workdir} with changed {', '.join(changed)}", file=sys.stderr)
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(_owner()))
    handle.flush()
    config_path = workdir / CONFIG_FILE
    if not config_path.exists():
      write_atomically(config_path, json.dumps(record, indent=2))
    yield changed
  finally:
    with contextlib.suppress(OSError):
      handle.seek(0)
      handle.truncate()
      handle.flush()
    handle.close()
