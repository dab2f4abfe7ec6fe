"""Programs compiled ahead in the background thread: same results, no compile in the caller."""

import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax._src import dispatch, monitoring

from fakenas_jax.run import compile_ahead


class Lowerings:
  """(thread name, function name) of every jaxpr → MLIR lowering while it listens."""

  def __init__(self):
    self.seen, self.listening = [], False

  def __call__(self, event, duration, **kwargs):
    if self.listening and event == dispatch.JAXPR_TO_MLIR_MODULE_EVENT:
      self.seen.append((threading.current_thread().name, kwargs.get("fun_name")))

  def in_main_thread(self, name):
    return sum(1 for thread, fun in self.seen if thread == "MainThread" and fun == f"jit({name})")


@pytest.fixture(scope="module")
def lowerings():
  listener = Lowerings()
  monitoring.register_event_duration_secs_listener(listener)
  yield listener
  monitoring.unregister_event_duration_listener(listener)


def polynomial(x, w, shift):
  for _ in range(4):
    x = jnp.tanh(x @ w) + shift
  return x.sum()


def test_a_program_compiled_ahead_runs_without_lowering_in_the_caller(lowerings):
  x = jnp.asarray(np.random.default_rng(0).normal(size=(8, 8)), jnp.float32)
  w = jnp.asarray(np.random.default_rng(1).normal(size=(8, 8)), jnp.float32)
  program = compile_ahead.Program(jax.jit(polynomial, static_argnames="shift"), "polynomial")
  lowerings.seen.clear()
  lowerings.listening = True
  program.compile_ahead(*compile_ahead.spec_of((x, w)), shift=1.0).result()
  assert program.ready(shift=1.0) and not program.ready(shift=2.0)
  got = program(x, w, shift=1.0)
  lowerings.listening = False
  assert lowerings.in_main_thread("polynomial") == 0
  assert [fun for _, fun in lowerings.seen] == ["jit(polynomial)"]  # once, in the worker thread
  np.testing.assert_array_equal(got, jax.jit(polynomial, static_argnames="shift")(x, w, 1.0))
  assert program.fallbacks == 0
  # Another static value or other shapes go through the jitted function, correctly.
  np.testing.assert_allclose(program(x, w, shift=2.0), polynomial(x, w, 2.0), rtol=1e-6)
  x3 = jnp.ones((3, 8))
  program.compile_ahead(*compile_ahead.spec_of((x, w)), shift=3.0)
  np.testing.assert_allclose(program(x3, w, shift=3.0), polynomial(x3, w, 3.0), rtol=1e-6)
  assert program.fallbacks == 1


def test_a_failed_compile_is_raised_at_the_call():
  def broken(x):
    return x @ jnp.ones((5, 5))  # (8, 8) @ (5, 5): a shape error while tracing

  program = compile_ahead.Program(jax.jit(broken), "broken")
  program.compile_ahead(jax.ShapeDtypeStruct((8, 8), jnp.float32))
  with pytest.raises(TypeError, match="dot_general"):
    program(jnp.ones((8, 8)))


def test_specs_keep_shardings_and_with_sharding_replaces_them():
  mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("data",))
  replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
  tree = {"a": jax.device_put(jnp.zeros((2, 3)), replicated), "b": None}
  spec = compile_ahead.spec_of(tree)
  assert spec["a"].shape == (2, 3) and spec["a"].sharding == replicated and spec["b"] is None
  moved = compile_ahead.with_sharding(
    jax.eval_shape(lambda: jnp.zeros((4,), jnp.int32)), replicated
  )
  assert moved.shape == (4,) and moved.dtype == jnp.int32 and moved.sharding == replicated
