"""What a failed write means, in one line: full disks, unwritable or read-only directories.

An `OSError` from deep inside a writer (TFDS, Orbax, TensorBoard) names an errno and, at best, a
path; `describe_os_error` turns it into what happened, to which file, how much space is left and
what to do, and `StorageError` carries that line (an `OSError`, so callers that catch `OSError`
keep working; entry points print it without a traceback).
"""

from __future__ import annotations

import errno
import os
import pathlib
import re
import shutil
import tempfile

from fakenas_jax import errors

_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


class StorageError(OSError, errors.UserError):
  """A write that failed, with a one-line message: what, which file, what to do."""

  def __init__(self, message: str, *, errno_code: int | None = None, path: str | None = None):
    super().__init__(message)
    self.message, self.errno_code, self.path = message, errno_code, path

  def __str__(self) -> str:
    return self.message


def free_space(path: str | os.PathLike) -> str:
  """Free space on the filesystem of `path` (its nearest existing parent), for people."""
  probe = pathlib.Path(path).expanduser().absolute()
  while not probe.exists() and probe != probe.parent:
    probe = probe.parent
  try:
    free = shutil.disk_usage(probe).free
  except OSError:
    return "unknown"
  for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
    if free < 1024 or unit == "TiB":
      return f"{free:.0f} {unit}" if unit == "B" else f"{free:.1f} {unit}"
    free /= 1024
  return "unknown"


# What C++ writers (array_record, TensorStore) say instead of raising an OSError.
_MESSAGES = {
  "No space left on device": errno.ENOSPC,
  "Disk quota exceeded": errno.ENOSPC,
  "Permission denied": errno.EACCES,
  "Read-only file system": errno.EROFS,
}
_OPENING = re.compile(r"opening ([^;]+)")


def root_os_error(error: BaseException) -> BaseException:
  """The first error with an errno in `error`'s chain (TFDS and Orbax re-raise the writer's
  `OSError` wrapped in their own), else an `OSError` made from the text of a C++ writer's
  error that names one (array_record: 'open() failed: No space left on device; opening
  <path>; ...'), else `error`."""
  seen, current = set(), error
  while current is not None and id(current) not in seen:
    seen.add(id(current))
    if isinstance(current, OSError) and current.errno is not None:
      return current
    current = current.__cause__ or current.__context__
  text = str(error)
  for message, code in _MESSAGES.items():
    if message in text:
      path = _OPENING.search(text)
      return OSError(code, os.strerror(code), path.group(1).strip() if path else None)
  return error


def is_storage_error(error: BaseException) -> bool:
  """Whether `error` is a failed write `describe_os_error` can explain."""
  return isinstance(root_os_error(error), OSError)


def describe_os_error(
  error: BaseException, path: str | os.PathLike | None = None, *, action: str
) -> str:
  """One line for a failed write of `path` (or the file the error names); `action` says what
  to do once the cause is fixed (e.g. 're-run the same command: it resumes')."""
  error = root_os_error(error)
  target = getattr(error, "filename", None) or (os.fspath(path) if path is not None else None)
  where = f" {target}" if target else ""
  code = getattr(error, "errno", None)
  if code in _NO_SPACE:
    return (
      f"no space left on the device while writing{where} ({free_space(target or '.')} "
      f"free there): free some space or choose another directory, then {action}"
    )
  if code in _NOT_WRITABLE:
    reason = "read-only file system" if code == errno.EROFS else "permission denied"
    return f"cannot write{where} ({reason}): choose a writable directory, then {action}"
  detail = (
    getattr(error, "strerror", None) or (str(error).splitlines() or [type(error).__name__])[0]
  )
  return f"cannot write{where} ({detail}); {action}"


def storage_error(
  error: BaseException, path: str | os.PathLike | None = None, *, action: str
) -> StorageError:
  error = root_os_error(error)
  target = getattr(error, "filename", None) or (os.fspath(path) if path is not None else None)
  return StorageError(
    describe_os_error(error, path, action=action),
    errno_code=getattr(error, "errno", None),
    path=target,
  )


def ensure_writable(directory: str | os.PathLike, what: str = "directory") -> pathlib.Path:
  """Creates `directory` if needed and checks a file can be written into it (a
  `StorageError` naming it otherwise)."""
  path = pathlib.Path(directory).expanduser()
  try:
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path, prefix=".write_check_") as handle:
      handle.write(b"x")
      handle.flush()
  except OSError as error:
    if error.errno in _NO_SPACE:
      message = describe_os_error(error, path, action="run again")
    else:
      message = (
        f"{what} {str(path)!r} is not writable ({error.strerror or error}): choose a "
        "writable directory or fix its permissions, then run again"
      )
    raise StorageError(message, errno_code=error.errno, path=str(path)) from None
  return path
