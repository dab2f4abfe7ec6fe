"""The profile breakdown: module paths from HLO metadata, and a real trace of a small step."""

import jax
import jax.numpy as jnp
import pytest

from fakenas_jax import profiling


@pytest.mark.parametrize(
  "op_name, module",
  [
    (
      "jit(weight_step)/jvp(SearchNetwork)/cell3/edges_in/sep_conv_3x3_d1/"
      "sep_conv_3x3_d1._depthwise_grouped/stack",
      "cell*/edges_in/sep_conv_3x3_d1._depthwise_grouped",
    ),
    (
      "jit(weight_step)/jvp(SearchNetwork)/cell1/edges_in/dil_conv_3x3_d2/"
      "dil_conv_3x3_d2._depthwise/bhivc,ivocm->bhocm/dot_general",
      "cell*/edges_in/dil_conv_3x3_d2._depthwise",
    ),
    ("jit(weight_step)/transpose(jvp(SearchNetwork))/cell0/while/body/closed_call", "cell*"),
    ("jit(step)/add", "(top level)"),
  ],
)
def test_module_of(op_name, module):
  assert profiling.module_of(op_name) == module


def test_breakdown_of_a_traced_step(tmp_path):
  def loss(w, x):
    with jax.named_scope("layer"):
      return jnp.sum(jnp.sin(x @ w) ** 2)

  step = jax.jit(jax.grad(loss))
  args = (jnp.ones((64, 64)), jnp.ones((128, 64)))
  compiled = step.lower(*args).compile()
  result = profiling.breakdown(compiled, args, steps=2, trace_dir=tmp_path / "trace")
  assert result["wall_ms"] > 0 and result["thunk_ms"] > 0
  for table in ("by_kind", "by_module", "by_pass", "top"):
    rows = result[table]
    assert rows and sum(share for _, _, share in rows) == pytest.approx(1.0)
    assert [ms for _, ms, _ in rows] == sorted((ms for _, ms, _ in rows), reverse=True)
  hlo = compiled.as_text()
  assert all(f"{name} = " in hlo for name, _, _ in result["top"])  # events are instructions
  assert "backward" in dict((name, ms) for name, ms, _ in result["by_pass"])
  text = profiling.format_breakdown(result, rows=3)
  assert text.startswith("profile: ") and "by kind:" in text
