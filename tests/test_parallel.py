"""Mesh creation and batch placement, on 1 and on the 4 CPU devices of the test session."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, PartitionSpec

from fakenas_jax import parallel


def host_batch(rows):
  rng = np.random.default_rng(rows)
  return {
    "image": rng.standard_normal((rows, 8, 8, 3)).astype(np.float32),
    "label": np.arange(rows, dtype=np.int32) % 2,
    "valid": np.ones(rows, bool),
  }


def test_mesh_spans_every_device_with_one_auto_data_axis():
  mesh = parallel.make_data_mesh()
  assert mesh.axis_names == ("data",)
  assert mesh.size == jax.device_count() == 4
  assert mesh.axis_types == (AxisType.Auto,)
  assert parallel.data_sharding(mesh).spec == PartitionSpec("data")
  assert parallel.replicated_sharding(mesh).spec == PartitionSpec()


@pytest.mark.parametrize("num_devices", [1, 4])
def test_shard_batch_places_one_slice_per_device(num_devices):
  mesh = parallel.make_data_mesh(jax.devices()[:num_devices])
  batch = host_batch(8)
  placed = parallel.shard_batch(batch, mesh)
  rows = 8 // num_devices
  for name, array in placed.items():
    assert isinstance(array, jax.Array)
    assert array.shape == batch[name].shape and array.dtype == batch[name].dtype
    assert array.sharding.spec == PartitionSpec("data")
    assert len(array.addressable_shards) == num_devices
    starts = set()
    for shard in array.addressable_shards:
      assert shard.data.shape == (rows,) + batch[name].shape[1:]
      np.testing.assert_array_equal(np.asarray(shard.data), batch[name][shard.index])
      starts.add(shard.index[0].start or 0)
    assert starts == set(range(0, 8, rows))
    np.testing.assert_array_equal(np.asarray(array), batch[name])


def test_jit_over_the_mesh_with_replicated_parameters():
  mesh = parallel.make_data_mesh()
  batch = parallel.shard_batch(host_batch(8), mesh)
  weights = jax.device_put(np.ones((8 * 8 * 3,), np.float32), parallel.replicated_sharding(mesh))

  @jax.jit
  def loss(weights, batch):
    logits = batch["image"].reshape(batch["image"].shape[0], -1) @ weights
    return jnp.mean(jnp.where(batch["valid"], logits * (2 * batch["label"] - 1), 0.0))

  expected = host_batch(8)
  logits = expected["image"].reshape(8, -1).sum(1)
  np.testing.assert_allclose(
    loss(weights, batch), np.mean(logits * (2 * expected["label"] - 1)), rtol=1e-5
  )
  grad = jax.jit(jax.grad(loss))(weights, batch)
  assert grad.sharding.is_fully_replicated


def test_shard_batch_explains_an_uneven_batch():
  mesh = parallel.make_data_mesh()
  with pytest.raises(ValueError, match="multiple of 4"):
    parallel.shard_batch(host_batch(6), mesh)
  with pytest.raises(ValueError, match="scalar"):
    parallel.shard_batch({"step": np.int32(3)}, mesh)


def test_initialize_distributed_is_a_no_op_for_one_process():
  assert parallel.initialize_distributed() == (0, 1)
  assert parallel.initialize_distributed(num_processes=1) == (0, 1)
  assert not jax.distributed.is_initialized()
  with pytest.raises(ValueError, match="together"):
    parallel.initialize_distributed(coordinator_address="localhost:1234", num_processes=2)
  with pytest.raises(ValueError, match="auto_detect"):
    parallel.initialize_distributed(auto_detect=True, num_processes=2)
