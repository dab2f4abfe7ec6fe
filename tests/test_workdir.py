"""One run per workdir (`run.workdir.claim`): the lock, the resume check, config.json once."""

import json
import subprocess
import sys
import textwrap

import pytest

from fakenas_jax.run import workdir


def test_a_second_claim_is_refused_while_the_first_holds(tmp_path):
  with workdir.claim(tmp_path, {"seed": 0}):
    with pytest.raises(workdir.WorkdirInUseError, match="in use by a running process"):
      with workdir.claim(tmp_path, {"seed": 0}):
        pass
  with workdir.claim(tmp_path, {"seed": 0}):  # released: free again
    pass


def test_a_live_process_holds_the_workdir_and_a_dead_ones_lock_is_taken_over(tmp_path, capfd):
  holder = subprocess.Popen(
    [
      sys.executable,
      "-c",
      textwrap.dedent(f"""
      import sys, time
      from fakenas_jax.run import workdir
      with workdir.claim({str(tmp_path)!r}, {{"seed": 0}}):
        print("held", flush=True)
        time.sleep(600)
  """),
    ],
    stdout=subprocess.PIPE,
    text=True,
  )
  try:
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(workdir.WorkdirInUseError, match=f"pid.*{holder.pid}"):
      with workdir.claim(tmp_path, {"seed": 0}):
        pass
  finally:
    holder.kill()  # dies holding the lock: its record stays in the file
    holder.wait()
  with workdir.claim(tmp_path, {"seed": 0}):
    pass
  assert "taking over" in capfd.readouterr().err


def test_a_resume_with_another_seed_is_refused_before_anything_is_written(tmp_path):
  with workdir.claim(tmp_path, {"seed": 0, "model": {"name": "meso4"}, "progress": True}):
    pass
  stored = (tmp_path / "config.json").read_bytes()
  with pytest.raises(
    workdir.ResumeMismatchError,
    match=r"model.name: 'meso4' → 'c2pn'; seed: 0 → 1\. Nothing was written",
  ):
    with workdir.claim(tmp_path, {"seed": 1, "model": {"name": "c2pn"}, "progress": True}):
      pytest.fail("the run must not start")
  assert (tmp_path / "config.json").read_bytes() == stored


def test_allowed_changes_resume_and_config_json_is_written_once(tmp_path, capfd):
  with workdir.claim(tmp_path, {"seed": 0, "progress": True, "optimizer": {"lr": 0.1}}):
    pass
  first = json.loads((tmp_path / "config.json").read_text())
  with workdir.claim(
    tmp_path, {"seed": 0, "progress": False, "optimizer": {"lr": 0.01}}
  ) as changed:
    assert changed == ["optimizer.lr", "progress"]
  assert "resuming" in capfd.readouterr().err
  assert json.loads((tmp_path / "config.json").read_text()) == first


def test_differences_name_nested_added_and_removed_fields():
  assert workdir.differences({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 1, "c": 3}, "e": 1}) == [
    "a.c",
    "d",
    "e",
  ]
