"""Data parallelism: a one-axis device mesh, batch placement, multi-host start-up.

    initialize_distributed()                  # no-op for one process
    mesh = make_data_mesh()                   # every device of every process, axis 'data'
    state = jax.device_put(state, replicated_sharding(mesh))
    batch = shard_batch(next(iterator), mesh) # host-local numpy -> global arrays split on 'data'
    state, metrics = jax.jit(train_step)(state, batch)

The mesh's axis is `AxisType.Auto`, not the `Explicit` that `jax.make_mesh` defaults to in
jax 0.10: with Auto, `jax.jit` propagates the input shardings itself (GSPMD/Shardy) and model
code needs no sharding annotations. With Explicit axes, shardings are part of the types and
ordinary ops on a batch-sharded array fail to trace (measured on jax 0.10.2: `x[arange, labels]`
gathers, `jax.ops.segment_sum` over the batch, `argsort` along it, reshapes that split it,
and the gradient of `x @ w` contracting the batch all raise `ShardingTypeError`) unless each
names an `out_sharding`. `jax.shard_map(..., mesh=mesh)` works on this mesh for per-device
programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def make_data_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
  """A mesh with one Auto axis, 'data', over `devices` (default: all devices of all processes)."""
  devices = list(jax.devices() if devices is None else devices)
  if not devices:
    raise ValueError("make_data_mesh needs at least one device")
  return jax.make_mesh((len(devices),), (DATA_AXIS,), axis_types=(AxisType.Auto,), devices=devices)


def data_sharding(mesh: Mesh) -> NamedSharding:
  """Leading (batch) dimension split over 'data', the rest whole."""
  return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
  """A whole copy on every device of the mesh (parameters, optimiser state)."""
  return NamedSharding(mesh, PartitionSpec())


def shard_batch(batch: Any, mesh: Mesh) -> Any:
  """Host-local numpy batch (a pytree) -> global jax arrays sharded on 'data'.

  Every process passes its own rows (the pipeline's local batch); the global batch is the
  concatenation over processes, in process order, and each device holds a contiguous slice.
  """
  sharding = data_sharding(mesh)
  local_devices = sum(d.process_index == jax.process_index() for d in mesh.devices.flat)
  if local_devices == 0:
    raise ValueError(f"the mesh has no device of process {jax.process_index()}")

  def place(array: Any) -> jax.Array:
    array = np.asarray(array)
    if array.ndim == 0:
      raise ValueError("shard_batch needs arrays with a leading batch dimension, got a scalar")
    if array.shape[0] % local_devices:
      raise ValueError(
        f"the local batch of {array.shape[0]} rows does not split evenly over this "
        f"process's {local_devices} device(s) of the '{DATA_AXIS}' axis ({mesh.size} devices "
        f"in all): make the global batch size a multiple of {mesh.size}"
      )
    return jax.make_array_from_process_local_data(sharding, array)

  return jax.tree.map(place, batch)


def initialize_distributed(
  *,
  coordinator_address: str | None = None,
  num_processes: int | None = None,
  process_id: int | None = None,
  local_device_ids: int | Sequence[int] | None = None,
  auto_detect: bool = False,
  initialization_timeout: int = 300,
) -> tuple[int, int]:
  """Joins a multi-process JAX run; returns (process_index, process_count).

  Call it before any other JAX call. A no-op for one process (nothing given, or
  `num_processes=1`) and when already initialised. `auto_detect=True` lets JAX find the
  cluster itself (Cloud TPU pods, Slurm, Open MPI); otherwise give `coordinator_address`
  ('host:port' of process 0), `num_processes` and `process_id`. On CPU the cross-process
  collectives are gloo (`jax_cpu_collectives_implementation`, JAX's default).
  """
  explicit = (coordinator_address, num_processes, process_id)
  if not jax.distributed.is_initialized():
    if auto_detect:
      if any(value is not None for value in explicit):
        raise ValueError(
          "auto_detect=True takes no coordinator_address, num_processes or "
          "process_id; JAX detects them"
        )
      jax.distributed.initialize(
        local_device_ids=local_device_ids, initialization_timeout=initialization_timeout
      )
    elif any(value is not None for value in explicit) and num_processes != 1:
      if any(value is None for value in explicit):
        raise ValueError(
          "a multi-process run needs coordinator_address, num_processes and process_id "
          f"together (got {coordinator_address=}, {num_processes=}, {process_id=}); or pass "
          "auto_detect=True on a TPU pod / Slurm / MPI cluster"
        )
      jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        local_device_ids=local_device_ids,
        initialization_timeout=initialization_timeout,
      )
  return jax.process_index(), jax.process_count()
