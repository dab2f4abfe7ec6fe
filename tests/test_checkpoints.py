"""Orbax checkpoints: round trip across device counts, best/latest, mismatches named."""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from fakenas_jax import checkpoints


def _state(scale=1.0):
  return {
    "params": {"w": jnp.arange(8.0) * scale, "b": jnp.ones((2, 3))},
    "step": jnp.array(3, jnp.int32),
  }


def test_round_trip_from_four_devices_onto_one(tmp_path):
  mesh4 = Mesh(np.array(jax.devices()[:4]), ("data",))
  state = jax.device_put(_state(), NamedSharding(mesh4, P()))
  state["params"]["w"] = jax.device_put(state["params"]["w"], NamedSharding(mesh4, P("data")))
  ckpt = checkpoints.Checkpointer(tmp_path / "ckpt")
  ckpt.save(5, state, {"epoch": 2, "iterator": {"pos": 17}})
  mesh1 = Mesh(np.array(jax.devices()[:1]), ("data",))
  target = checkpoints.abstract_like(_state(), NamedSharding(mesh1, P()))
  restored, meta = checkpoints.Checkpointer(tmp_path / "ckpt").restore(target)
  assert meta == {"epoch": 2, "iterator": {"pos": 17}}
  np.testing.assert_array_equal(restored["params"]["w"], np.arange(8.0))
  assert restored["params"]["w"].sharding.num_devices == 1


def test_latest_best_and_step(tmp_path):
  ckpt = checkpoints.Checkpointer(tmp_path, keep=1, best_metric="auc")
  for step, auc in ((1, 0.7), (2, 0.9), (3, 0.8)):
    ckpt.save(step, _state(step), {"epoch": step}, metrics={"auc": auc})
  assert ckpt.resolve_step("latest") == 3
  assert ckpt.resolve_step("best") == 2
  assert set(ckpt.all_steps()) == {2, 3}
  state, meta = ckpt.restore(checkpoints.abstract_like(_state()), "best")
  np.testing.assert_array_equal(state["params"]["w"], np.arange(8.0) * 2)
  with pytest.raises(FileNotFoundError, match="saved"):
    ckpt.resolve_step(1)


def test_restoring_into_another_network_names_the_mismatch(tmp_path):
  ckpt = checkpoints.Checkpointer(tmp_path)
  ckpt.save(1, _state(), {})
  other = _state()
  other["params"]["w"] = jnp.zeros(9)
  with pytest.raises(
    checkpoints.CheckpointMismatchError, match=r"\['params'\]\['w'\].*\(8,\).*\(9,\)"
  ):
    ckpt.restore(checkpoints.abstract_like(other))
  missing = {"params": {"w": jnp.zeros(8)}, "step": jnp.array(0)}
  with pytest.raises(checkpoints.CheckpointMismatchError, match="has"):
    ckpt.restore(checkpoints.abstract_like(missing))


def test_empty_directory_is_a_clear_error(tmp_path):
  with pytest.raises(FileNotFoundError, match="no checkpoint"):
    checkpoints.Checkpointer(tmp_path).restore(checkpoints.abstract_like(_state()))


# ---- Damaged checkpoints: real Orbax files truncated on disk.


def _three_steps(directory, aucs=(0.7, 0.9, 0.8)):
  ckpt = checkpoints.Checkpointer(directory, keep=3, best_metric="auc")
  for step, auc in zip((1, 2, 3), aucs):
    ckpt.save(step, _state(step), {"epoch": step, "pad": "x" * 50}, metrics={"auc": auc})
  return ckpt


def _truncate(path, keep=0.5):
  data = path.read_bytes()
  path.write_bytes(data[: int(len(data) * keep)])


def _array_files(step_dir):
  """The data files of the arrays (OCDBT `d/` files), largest first."""
  files = [p for p in (step_dir / "state").rglob("*") if p.is_file() and p.parent.name == "d"]
  return sorted(files, key=lambda p: p.stat().st_size, reverse=True)


def test_a_truncated_meta_falls_back_to_the_previous_step(tmp_path, caplog):
  _three_steps(tmp_path)
  meta_file = tmp_path / "3" / "meta" / "metadata"
  _truncate(meta_file)
  ckpt = checkpoints.Checkpointer(tmp_path, keep=3, best_metric="auc")
  with pytest.raises(checkpoints.CheckpointCorruptError) as error:
    ckpt.read_meta(3)
  assert "step 3" in str(error.value) and str(meta_file) in str(error.value)
  assert "\n" not in str(error.value)
  with caplog.at_level("WARNING"):
    state, meta = ckpt.restore(checkpoints.abstract_like(_state()), "latest")
  assert meta["epoch"] == 2
  np.testing.assert_array_equal(state["params"]["w"], np.arange(8.0) * 2)
  warning = " ".join(record.getMessage() for record in caplog.records)
  assert "step 3" in warning and str(meta_file) in warning and "falling back to step 2" in warning
  # An explicit step does not fall back; its error names the file and the step.
  with pytest.raises(checkpoints.CheckpointCorruptError, match=r"step 3 .*meta/metadata"):
    ckpt.restore(checkpoints.abstract_like(_state()), 3)


def test_a_truncated_array_file_falls_back_and_names_the_file(tmp_path, caplog):
  _three_steps(tmp_path)
  for path in _array_files(tmp_path / "3"):
    _truncate(path, 0.3)
  ckpt = checkpoints.Checkpointer(tmp_path, keep=3, best_metric="auc")
  with pytest.raises(checkpoints.CheckpointCorruptError) as error:
    ckpt.restore(checkpoints.abstract_like(_state()), 3)
  message = str(error.value)
  assert "\n" not in message and "step 3" in message and str(tmp_path / "3" / "state") in message
  assert error.value.step == 3 and pathlib.Path(error.value.path).exists()
  with caplog.at_level("WARNING"):
    state, meta = ckpt.restore(checkpoints.abstract_like(_state()))
  assert meta["epoch"] == 2
  np.testing.assert_array_equal(state["params"]["w"], np.arange(8.0) * 2)


def test_best_is_found_and_restored_while_the_latest_is_damaged(tmp_path):
  _three_steps(tmp_path)  # best is step 2
  _truncate(tmp_path / "3" / "meta" / "metadata")
  for path in _array_files(tmp_path / "3"):
    _truncate(path, 0.3)
  ckpt = checkpoints.Checkpointer(tmp_path, keep=3, best_metric="auc")
  assert ckpt.best_step() == 2
  state, meta = ckpt.restore(checkpoints.abstract_like(_state()), "best")
  assert meta["metrics"] == {"auc": 0.9}
  np.testing.assert_array_equal(state["params"]["w"], np.arange(8.0) * 2)
  # Without the index (a run from before it), the readable metas still give the best step.
  (tmp_path / checkpoints.INDEX_FILE).unlink()
  assert ckpt.best_step() == 2
  assert checkpoints.Checkpointer(tmp_path, keep=3, best_metric="auc").ranked_steps() == [2, 1]


def test_the_best_step_falls_back_to_the_next_best(tmp_path, caplog):
  _three_steps(tmp_path)  # ranking 2 (0.9), 3 (0.8), 1 (0.7)
  _truncate(tmp_path / "2" / "meta" / "metadata")
  ckpt = checkpoints.Checkpointer(tmp_path, keep=3, best_metric="auc")
  with caplog.at_level("WARNING"):
    _, meta = ckpt.restore(checkpoints.abstract_like(_state()), "best")
  assert meta["epoch"] == 3
  assert "falling back to step 3" in " ".join(r.getMessage() for r in caplog.records)


def test_every_step_damaged_is_one_error_naming_each(tmp_path):
  _three_steps(tmp_path)
  # A mismatch is not damage: it is raised at once, whatever older steps hold.
  other = _state()
  other["params"]["w"] = jnp.zeros(9)
  with pytest.raises(checkpoints.CheckpointMismatchError):
    checkpoints.Checkpointer(tmp_path).restore(checkpoints.abstract_like(other))
  for step in (1, 2, 3):
    _truncate(tmp_path / str(step) / "meta" / "metadata")
  ckpt = checkpoints.Checkpointer(tmp_path, keep=3, best_metric="auc")
  with pytest.raises(checkpoints.CheckpointCorruptError) as error:
    ckpt.restore(checkpoints.abstract_like(_state()))
  message = str(error.value)
  assert all(f"step {s}: {tmp_path / str(s) / 'meta' / 'metadata'}" in message for s in (1, 2, 3))
  assert "\n" not in message


def test_a_changed_byte_is_caught_by_the_checksum(tmp_path, capfd):
  _three_steps(tmp_path)
  path = _array_files(tmp_path / "3")[0]
  data = bytearray(path.read_bytes())
  data[len(data) // 2] ^= 0xFF  # same size, one byte flipped
  path.write_bytes(bytes(data))
  ckpt = checkpoints.Checkpointer(tmp_path, keep=3, best_metric="auc")
  with pytest.raises(checkpoints.CheckpointCorruptError, match="checksum") as error:
    ckpt.validate(3)
  assert error.value.path == str(path)
  _, meta = ckpt.restore(checkpoints.abstract_like(_state()))
  assert meta["epoch"] == 2
  # The damaged step was never handed to TensorStore: no thread tracebacks on stderr.
  assert "Traceback" not in capfd.readouterr().err


def test_a_run_written_before_the_index_still_falls_back(tmp_path):
  _three_steps(tmp_path)
  (tmp_path / checkpoints.INDEX_FILE).unlink()
  for path in _array_files(tmp_path / "3"):
    _truncate(path, 0.3)
  ckpt = checkpoints.Checkpointer(tmp_path, keep=3, best_metric="auc")
  with pytest.raises(checkpoints.CheckpointCorruptError, match=r"step 3 .*cannot read the array"):
    ckpt.restore(checkpoints.abstract_like(_state()), 3)
  _, meta = ckpt.restore(checkpoints.abstract_like(_state()))
  assert meta["epoch"] == 2
