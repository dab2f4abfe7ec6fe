"""The entry-point layer (`fakenas_jax.cli`): config mistakes, `--help`, paths, the cache."""

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from fakenas_jax import cli, errors

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(args, cwd=ROOT, env=None, timeout=120):
  return subprocess.run(
    [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
  )


@pytest.mark.parametrize(
  "args, expected",
  [
    (["--config.no_such_field=1"], "unknown config field 'no_such_field'"),
    (["--config.optimizer.learning_rat=1"], "closest: optimizer.learning_rate"),
    (["--config=configs/search/nope.py"], "config files there: configs/search/add_synthetic.py"),
    (["--config=configs/search/default.py:quick"], "has no variants"),
    (["--config.epochs=many"], "--config.epochs=many"),
  ],
)
def test_config_mistakes_are_one_line_with_exit_code_2(args, expected, tmp_path):
  done = _run(["-m", "fakenas_jax.search", f"--workdir={tmp_path}", *args], cwd=tmp_path)
  assert done.returncode == 2, done.stderr
  assert expected in done.stderr
  assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
  assert not any(tmp_path.iterdir()), "a refused command wrote nothing"


def test_misspelt_variant_names_the_variants(tmp_path):
  done = _run(
    ["-m", "fakenas_jax.train", "--config=configs/train/c2pn_fdnas.py:qiuck"], cwd=tmp_path
  )
  assert done.returncode == 2
  assert "unknown config variant 'qiuck'" in done.stderr and "quick" in done.stderr


def test_help_exits_0_and_lists_the_config_fields(tmp_path):
  done = _run(["-m", "fakenas_jax.search", "--help"], cwd=tmp_path)
  assert done.returncode == 0, done.stderr
  assert "Searches a cell architecture" in done.stdout
  assert "--workdir" in done.stdout and "--coordinator_address" in done.stdout
  assert "optimizer.arch_learning_rate = 0.0006" in done.stdout
  assert "layout = 'NNRNNR'" in done.stdout


def test_config_paths_resolve_against_the_repository(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  assert cli.resolve_path("configs/search/default.py") == str(ROOT / "configs/search/default.py")
  local = tmp_path / "configs/search/default.py"
  local.parent.mkdir(parents=True)
  local.write_text("")
  assert cli.resolve_path("configs/search/default.py") == "configs/search/default.py"


def test_check_override_accepts_nested_fields_and_refuses_unknown_ones():
  config = cli.load_config(str(ROOT / "configs/search/default.py"))
  cli.check_override(config, "optimizer.learning_rate")
  cli.check_override(config, "cross_dataset.datasets")
  with pytest.raises(errors.UserError, match="closest: channels"):
    cli.check_override(config, "chanels")


ENTRY = textwrap.dedent("""
    import jax, jax.numpy as jnp
    from fakenas_jax import cli

    def main(argv):
      print("value", float(jax.jit(lambda x: jnp.sin(x) * 2 + jnp.cos(x) ** 2)(jnp.ones(3)).sum()))
      return 0

    if __name__ == "__main__":
      cli.run(main, workdir_flag=None)
""")


CONFIGURED_ENTRY = textwrap.dedent("""
    from fakenas_jax import cli

    CONFIG = cli.define_config("configs/search/default.py", "search config")

    def main(argv):
      print("epochs", CONFIG.value.epochs)
      return 0

    if __name__ == "__main__":
      cli.run(main, config=CONFIG, workdir_flag=None)
""")


def test_the_header_names_the_config_given(tmp_path):
  script = tmp_path / "entry.py"
  script.write_text(CONFIGURED_ENTRY)
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  given = _run([str(script), "--config=configs/demo.py:search", "--compilation_cache=off"], env=env)
  assert given.returncode == 0, given.stderr
  assert "| config configs/demo.py:search |" in given.stdout and "epochs 5" in given.stdout
  default = _run([str(script), "--compilation_cache=off"], env=env)
  assert "| config configs/search/default.py |" in default.stdout, default.stdout


def test_persistent_cache_is_used_by_a_second_run(tmp_path):
  script = tmp_path / "entry.py"
  script.write_text(ENTRY)
  cache = tmp_path / "cache"
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  first = _run([str(script), f"--compilation_cache={cache}"], cwd=tmp_path, env=env)
  assert first.returncode == 0, first.stderr
  assert f"compile cache {cache}" in first.stdout
  entries = sorted(p.name for p in cache.iterdir())
  assert entries, "the first run wrote its compiled programs"
  second = _run(
    [str(script), f"--compilation_cache={cache}", "--verbosity=0"],
    cwd=tmp_path,
    env=dict(env, JAX_LOG_COMPILES="1"),
  )
  assert second.returncode == 0, second.stderr
  assert sorted(p.name for p in cache.iterdir()) == entries, "the second run compiled nothing new"
  assert "Persistent compilation cache hit" in second.stderr, second.stderr[-2000:]
  off = _run([str(script), "--compilation_cache=off"], cwd=tmp_path, env=env)
  assert off.returncode == 0 and "compile cache off" in off.stdout


def test_user_errors_exit_2_and_bugs_keep_their_traceback(tmp_path):
  script = tmp_path / "entry.py"
  script.write_text(
    textwrap.dedent("""
      import errno, sys
      from fakenas_jax import cli, errors

      def main(argv):
        kind = argv[1]
        if kind == "user":
          raise errors.UserError("the corpus is damaged; run prepare --rebuild")
        if kind == "disk":
          raise OSError(errno.ENOSPC, "No space left on device", "/data/x")
        if kind == "interrupt":
          raise errors.Interrupted()
        raise RuntimeError("a bug")

      if __name__ == "__main__":
        cli.run(main, workdir_flag=None)
  """)
  )
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  user = _run([str(script), "--compilation_cache=off", "user"], cwd=tmp_path, env=env)
  assert user.returncode == 2 and user.stderr.strip() == (
    "error: the corpus is damaged; run prepare --rebuild"
  )
  disk = _run([str(script), "--compilation_cache=off", "disk"], cwd=tmp_path, env=env)
  assert disk.returncode == 2 and "no space left on the device while writing /data/x" in disk.stderr
  assert len(disk.stderr.strip().splitlines()) == 1
  interrupted = _run([str(script), "--compilation_cache=off", "interrupt"], cwd=tmp_path, env=env)
  assert interrupted.returncode == 143 and "re-run the same command" in interrupted.stderr
  bug = _run([str(script), "--compilation_cache=off", "bug"], cwd=tmp_path, env=env)
  assert bug.returncode == 1 and "Traceback" in bug.stderr and "a bug" in bug.stderr
