"""The one epoch loop (`run.loop.run_epochs`) on a toy task: resume, NaN, divergence, logs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fakenas_jax import errors, metrics_log, parallel
from fakenas_jax.run import loop


class ToyTask(loop.StateTask):
  """state ← state · growth each step; the loss is the state's mean."""

  def __init__(self, growth=1.0, start=1.0):
    self.replicated = parallel.replicated_sharding(parallel.make_data_mesh(jax.devices()[:1]))
    self.state = {"w": jnp.full((3,), start, jnp.float32)}
    self.rng = jax.random.key(0)
    self.growth = growth
    self.step_fn = jax.jit(lambda state, g: ({"w": state["w"] * g}, {"loss": state["w"].mean()}))
    self.results = []

  def start(self, run):
    self.place_state()

  def positions(self):
    return {}

  def begin_epoch(self, run):
    pass

  def step(self, run):
    self.state, metrics = self.step_fn(self.state, self.growth)
    return metrics

  def end_epoch(self, run, metrics):
    return dict(metrics)

  def should_stop(self, run):
    return False

  def checkpoint_metrics(self, record):
    return None

  def write_results(self, run):
    self.results.append(len(run.history))

  def describe(self, record):
    return f"loss {record['train/loss']:.3f}"


def test_a_resumed_run_ends_as_an_uninterrupted_one(tmp_path):
  whole = loop.run_epochs(
    ToyTask(1.1),
    tmp_path / "whole",
    name="toy",
    epochs=3,
    steps_per_epoch=4,
    progress=False,
    log_every=3,
  )
  loop.run_epochs(
    ToyTask(1.1),
    tmp_path / "parts",
    name="toy",
    epochs=3,
    steps_per_epoch=4,
    progress=False,
    log_every=3,
    stop_after_epochs=1,
  )
  task = ToyTask(1.1)
  resumed = loop.run_epochs(
    task, tmp_path / "parts", name="toy", epochs=3, steps_per_epoch=4, progress=False, log_every=3
  )
  assert task.results[0] == 1, "the resumed run first rewrote the results of its checkpoint"
  strip = lambda history: [
    {k: v for k, v in r.items() if not k.startswith("time/")} for r in history
  ]
  assert strip(resumed.history) == strip(whole.history)
  # Means of the step losses, summed on the host in step order: 1, 1.1, …, 1.1^11.
  losses = 1.1 ** np.arange(12, dtype=np.float32)
  np.testing.assert_allclose(
    [r["train/loss"] for r in whole.history], losses.reshape(3, 4).mean(1), rtol=1e-6
  )
  assert [r["step"] for r in metrics_log.read(tmp_path / "parts")] == [1, 2, 3]


def test_a_loss_grown_a_thousandfold_warns_once(tmp_path, capsys):
  loop.run_epochs(
    ToyTask(10.0), tmp_path, name="toy", epochs=1, steps_per_epoch=6, progress=False, log_every=2
  )
  err = capsys.readouterr().err
  assert err.count("warning: the toy's loss grew from 1 to 1e+04") == 1


def test_a_nan_names_the_kept_checkpoint(tmp_path):
  loop.run_epochs(
    ToyTask(1.0),
    tmp_path,
    name="toy",
    epochs=2,
    steps_per_epoch=2,
    progress=False,
    stop_after_epochs=1,
  )
  task = ToyTask(1.0)
  task.growth = float("nan")
  with pytest.raises(
    errors.NonFiniteLossError,
    match=r"at epoch 2, step 2 of the toy; the last good checkpoint, step 2",
  ):
    loop.run_epochs(task, tmp_path, name="toy", epochs=2, steps_per_epoch=2, progress=False)
