"""Orbax checkpoints: round trip across device counts, best/latest, mismatches named."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from fakenas_jax import checkpoints


def _state(scale=1.0):
  return {"params": {"w": jnp.arange(8.0) * scale, "b": jnp.ones((2, 3))},
          "step": jnp.array(3, jnp.int32)}


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
  with pytest.raises(checkpoints.CheckpointMismatchError, match=r"\['params'\]\['w'\].*\(8,\).*\(9,\)"):
    ckpt.restore(checkpoints.abstract_like(other))
  missing = {"params": {"w": jnp.zeros(8)}, "step": jnp.array(0)}
  with pytest.raises(checkpoints.CheckpointMismatchError, match="has"):
    ckpt.restore(checkpoints.abstract_like(missing))


def test_empty_directory_is_a_clear_error(tmp_path):
  with pytest.raises(FileNotFoundError, match="no checkpoint"):
    checkpoints.Checkpointer(tmp_path).restore(checkpoints.abstract_like(_state()))
