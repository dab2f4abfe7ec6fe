"""The one entry-point layer: flags → a locked config → the library function (WORKSPACE.md,
Entry points).

    _CONFIG = cli.define_config("configs/search/default.py", "Search configuration file.")
    _WORKDIR = flags.DEFINE_string("workdir", "runs/search", "Where results go.")

    def main(argv):                      # the library call; errors are the layer's to print
      ...
    if __name__ == "__main__":
      cli.run(main, config=_CONFIG)

What `run` does for every command, before `main` and before any other JAX call:
* `--help` / `-h`: the module's docstring, its flags and every `--config.*` field with its
  default; exit 0.
* a config path not found from the current directory is looked up in the repository; a missing
  file, an unknown variant (`FILE:variant`) or an unknown `--config.FIELD` is one line naming
  what exists (the closest fields), exit 2, no traceback;
* the persistent XLA compilation cache on (`--compilation_cache=DIR`, default
  `$FAKENAS_JAX_COMPILATION_CACHE` or `~/.cache/fakenas_jax/xla`; `off` disables it), so a
  repeated or resumed run does not compile again;
* a multi-host start: `--coordinator_address/--num_processes/--process_id`, or
  `--distributed` to let JAX detect a TPU pod, Slurm or Open MPI (`parallel.initialize_distributed`);
* quiet library logs unless `--verbosity` is given, and a start-up header (command, config,
  processes, devices, workdir new or resumed) on process 0;
* errors of the user's making (`UserError`, `ValueError`, `FileNotFoundError`, a full disk, a
  directory that cannot be written) as `error: …` with exit 2; an interrupted run (SIGTERM)
  exits 143 after its checkpoint. `--verbosity=1` shows the traceback of a non-user error.
"""

from __future__ import annotations

import difflib
import errno
import importlib.util
import os
import pathlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

import ml_collections
from absl import app, flags, logging
from ml_collections import config_flags

from fakenas_jax import errors, storage

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
_CONFIG_STATE: dict[str, Any] = {}  # the default config path, the loaded config (for --help)
CACHE_ENV = "FAKENAS_JAX_COMPILATION_CACHE"
DEFAULT_CACHE = pathlib.Path("~/.cache/fakenas_jax/xla")

_COORDINATOR = flags.DEFINE_string(
  "coordinator_address", None, "host:port of process 0 of a multi-host run."
)
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "Processes of a multi-host run.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "This process's index in a multi-host run.")
_DISTRIBUTED = flags.DEFINE_boolean(
  "distributed", False, "Join a multi-host run found by JAX itself (TPU pod, Slurm, Open MPI)."
)
_CACHE = flags.DEFINE_string(
  "compilation_cache",
  None,
  f"Persistent XLA compilation cache directory, or 'off' (default ${CACHE_ENV} or "
  f"{DEFAULT_CACHE}).",
)


def resolve_path(path: str) -> str:
  """`path` as given when it exists from the current directory, else from the repository."""
  candidate = pathlib.Path(path).expanduser()
  if candidate.exists() or candidate.is_absolute():
    return str(candidate)
  in_repo = REPO_ROOT / candidate
  return str(in_repo) if in_repo.exists() else str(candidate)


def _importable_configs() -> None:
  """Config files import `configs.*` (their defaults): the repository on the path, from any cwd."""
  if str(REPO_ROOT) not in sys.path:
    sys.path.append(str(REPO_ROOT))


def define_config(default: str, help_text: str):
  """`--config=FILE[:variant]` with the repository's `default`; locked (unknown fields refused).

  Checks the command line's `--config` and `--config.*` first (ml_collections reads them while
  the flag is defined): a bad file, variant or field ends the process with one line, exit 2.
  """
  _importable_configs()
  default = resolve_path(default)
  _CONFIG_STATE["default"] = default
  if any(arg == "--config" or arg.startswith("--config") for arg in sys.argv[1:]):
    try:
      _CONFIG_STATE["config"] = _check_config_args(sys.argv, default)
    except errors.UserError as error:
      _fail(str(error))
  return config_flags.DEFINE_config_file("config", default, help_text, lock_config=True)


def quiet_library_logs() -> None:
  """TFDS and Orbax log every file they touch at INFO; keep only errors unless asked."""
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.ERROR)


# ---------------------------------------------------------------------------------------------
# Config files: resolution, loading and checking of `--config.*` before absl applies them.


def _split_config_arg(value: str) -> tuple[str, str | None]:
  path, sep, variant = value.partition(":")
  return path, (variant if sep else None)


def _config_files_near(path: pathlib.Path) -> list[str]:
  folder = path.parent if path.parent.is_dir() else REPO_ROOT / path.parent
  if not folder.is_dir():
    folder = REPO_ROOT / "configs"
  return sorted(
    str(p.relative_to(REPO_ROOT) if p.is_relative_to(REPO_ROOT) else p)
    for p in folder.glob("*.py")
    if p.name != "__init__.py"
  )


def load_config(value: str) -> ml_collections.ConfigDict:
  """The ConfigDict of `FILE[:variant]`; a missing file or an unknown variant → `UserError`."""
  path, variant = _split_config_arg(value)
  resolved = pathlib.Path(resolve_path(path))
  if not resolved.is_file():
    near = ", ".join(_config_files_near(pathlib.Path(path))) or "none"
    raise errors.UserError(f"config file {path} not found; config files there: {near}")
  _importable_configs()
  spec = importlib.util.spec_from_file_location(f"_fakenas_config_{resolved.stem}", resolved)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  if variant is not None and module.get_config.__code__.co_argcount == 0:
    raise errors.UserError(f"{path} has no variants; use it without ':{variant}'")
  try:
    return module.get_config(variant) if variant is not None else module.get_config()
  except ValueError as error:
    raise errors.UserError(f"{path}:{variant}: {error}") from None


def field_names(config: Any, prefix: str = "") -> list[str]:
  """Every dotted field of `config`, nested ConfigDicts included."""
  names = []
  for key, value in config.items():
    name = f"{prefix}{key}"
    names.append(name)
    if isinstance(value, ml_collections.ConfigDict):
      names.extend(field_names(value, name + "."))
  return names


def check_override(config: ml_collections.ConfigDict, field: str) -> None:
  """`field` (dotted) must exist in `config`; else a `UserError` naming the closest fields."""
  node: Any = config
  for depth, part in enumerate(field.split(".")):
    if isinstance(node, ml_collections.ConfigDict) and part in node:
      node = node[part]
      continue
    if not isinstance(node, ml_collections.ConfigDict) and depth:
      return  # inside a tuple/field value: absl's parser checks it
    names = field_names(config)
    close = difflib.get_close_matches(field, names, n=3, cutoff=0.5) or difflib.get_close_matches(
      field.split(".")[-1], names, n=3, cutoff=0.5
    )
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise errors.UserError(f"unknown config field {field!r}{hint} (--help lists every field)")


def _config_args(argv: Sequence[str]) -> tuple[int | None, str | None, list[str]]:
  """(index of --config's value in argv, its value, the --config.FIELD names given)."""
  index, value, fields = None, None, []
  for i, arg in enumerate(argv):
    if arg.startswith("--config="):
      index, value = i, arg.split("=", 1)[1]
    elif arg == "--config" and i + 1 < len(argv):
      index, value = i + 1, argv[i + 1]
    elif arg.startswith("--config."):
      fields.append(arg[len("--config.") :].split("=", 1)[0])
  return index, value, fields


def _help_text(config: ml_collections.ConfigDict | None) -> str:
  main_module = sys.modules["__main__"]
  lines = [(main_module.__doc__ or "").strip(), "", "flags:"]
  lines.append(flags.FLAGS.main_module_help().strip() or "  (none)")
  lines.append(flags.FLAGS.module_help(__name__).strip())
  if config is not None:
    lines += ["", "config fields (--config.FIELD=VALUE), with their defaults:"]
    for name in field_names(config):
      value = config
      for part in name.split("."):
        value = value[part]
      if not isinstance(value, ml_collections.ConfigDict):
        lines.append(f"  {name} = {value!r}")
  return "\n".join(lines) + "\n"


def _check_config_args(argv: list[str], default: str) -> ml_collections.ConfigDict:
  """Resolves `--config`'s path in `argv` (in place), loads it and checks every `--config.*`."""
  index, value, fields = _config_args(argv)
  if index is None:
    value = default
  else:
    path, variant = _split_config_arg(value)
    resolved = resolve_path(path) + (f":{variant}" if variant is not None else "")
    argv[index] = ("--config=" + resolved) if argv[index].startswith("--config=") else resolved
  config = load_config(value)
  for field in fields:
    check_override(config, field)
  return config


def _parse_flags(argv: list[str], with_config: bool) -> list[str]:
  """absl's parsing; `--help` prints the module docstring, the flags and the config fields."""
  try:
    if any(arg in ("--help", "-h", "--helpshort", "-?") for arg in argv[1:]):
      config = None
      if with_config:
        config = _CONFIG_STATE.get("config") or load_config(_CONFIG_STATE["default"])
      sys.stdout.write(_help_text(config))
      sys.exit(0)
    return flags.FLAGS(argv)
  except errors.UserError as error:
    _fail(str(error))
  except flags.Error as error:
    _fail(str(error))
  except (AttributeError, KeyError, TypeError, ValueError) as error:
    _fail(f"bad command-line value: {error}")
  raise AssertionError("unreachable")


def _fail(message: str, code: int = 2):
  print(f"error: {message}", file=sys.stderr)
  sys.exit(code)


# ---------------------------------------------------------------------------------------------
# Process set-up: cache, cluster, header.


def compilation_cache_dir() -> pathlib.Path | None:
  """The persistent cache directory this run uses (None: off)."""
  value = _CACHE.value if _CACHE.present else os.environ.get(CACHE_ENV, str(DEFAULT_CACHE))
  if value.lower() in ("off", "none", ""):
    return None
  return pathlib.Path(value).expanduser()


def enable_compilation_cache(directory: pathlib.Path | None) -> None:
  """JAX's persistent compilation cache in `directory`; every compiled program is kept."""
  import jax  # pylint: disable=import-outside-toplevel

  if directory is None:
    return
  try:
    directory.mkdir(parents=True, exist_ok=True)
  except OSError as error:
    print(
      f"warning: compilation cache {directory} cannot be made ({error.strerror}); "
      "compiling without it",
      file=sys.stderr,
    )
    return
  jax.config.update("jax_compilation_cache_dir", str(directory))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def start_processes() -> tuple[int, int]:
  """Joins the multi-host run the flags describe (a no-op for one process)."""
  from fakenas_jax import parallel  # pylint: disable=import-outside-toplevel

  return parallel.initialize_distributed(
    coordinator_address=_COORDINATOR.value,
    num_processes=_NUM_PROCESSES.value,
    process_id=_PROCESS_ID.value,
    auto_detect=_DISTRIBUTED.value,
  )


def header(command: str, config_value: str | None, workdir: str | None) -> str:
  """One line: what runs, on which devices, into which workdir (new or resumed)."""
  import jax  # pylint: disable=import-outside-toplevel

  devices = jax.devices()
  kinds = sorted({d.device_kind for d in devices})
  parts = [f"fakenas_jax {command}"]
  if config_value:
    parts.append(f"config {config_value}")
  parts.append(f"{jax.process_count()} process(es), {len(devices)} device(s) ({', '.join(kinds)})")
  if workdir:
    path = pathlib.Path(workdir)
    state = (
      "resumed"
      if (path / "checkpoints").exists()
      else "existing"
      if path.is_dir() and any(path.iterdir())
      else "new"
    )
    parts.append(f"workdir {workdir} ({state})")
  cache = compilation_cache_dir()
  parts.append(f"compile cache {cache if cache else 'off'}")
  return " | ".join(parts)


def _short_path(path: str) -> str:
  resolved = pathlib.Path(path.partition(":")[0]).resolve()
  if resolved.is_relative_to(REPO_ROOT):
    return str(resolved.relative_to(REPO_ROOT)) + path[len(path.partition(":")[0]) :]
  return path


def _user_message(error: BaseException) -> str | None:
  """The one-line message of an error of the user's making (None: a bug). A full disk or an
  unwritable directory is found below the wrappers of TFDS, Orbax and TensorBoard."""
  if isinstance(error, errors.UserError):
    return str(error)
  code = getattr(storage.root_os_error(error), "errno", None)
  if code in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS):
    return storage.describe_os_error(
      error, action="re-run the same command (it resumes from the last checkpoint)"
    )
  if isinstance(error, (ValueError, FileNotFoundError)):
    return str(error)
  return None


def run(
  main: Callable[[list[str]], int | None], *, config=None, workdir_flag: str | None = "workdir"
) -> None:
  """Runs an entry point's `main(argv)` under the layer described in the module docstring."""

  def parse(argv):
    return _parse_flags(argv, config is not None)

  def wrapped(argv):
    quiet_library_logs()
    enable_compilation_cache(compilation_cache_dir())
    try:
      process, _ = start_processes()
    except (ValueError, RuntimeError) as error:
      _fail(f"cannot join the multi-host run: {error}")
    if process == 0:
      workdir = None
      if workdir_flag and workdir_flag in flags.FLAGS:
        workdir = flags.FLAGS[workdir_flag].value
        workdir = ",".join(workdir) if isinstance(workdir, list) else workdir
      command = pathlib.Path(sys.argv[0]).stem
      command = command if command != "__main__" else sys.modules["__main__"].__spec__.name
      config_value = None
      if config is not None:
        # sys.argv: absl has taken --config out of `argv` by now.
        config_value = _config_args(sys.argv)[1] or _CONFIG_STATE.get("default")
        config_value = _short_path(config_value)
      print(header(command.rsplit(".", 1)[-1], config_value, workdir), flush=True)
    try:
      return main(argv)
    except errors.Interrupted:
      print("interrupted: checkpoint written; re-run the same command to resume", file=sys.stderr)
      return 143
    except Exception as error:  # pylint: disable=broad-except
      message = _user_message(error)
      if message is None or flags.FLAGS["verbosity"].present:
        raise
      print(f"error: {message}", file=sys.stderr)
      return 2

  app.run(wrapped, flags_parser=parse)
