"""Operation names, search spaces and the op factory."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from fakenas_jax.nn import ops, registry


def test_named_spaces_have_the_papers_operations():
  spaces = registry.SEARCH_SPACES
  assert len(spaces["fdnas"]) == 11 and len(spaces["add"]) == 11 and len(spaces["darts"]) == 8
  assert set(spaces["fdnas"]) == {
    "max_pool_3x3",
    "skip_connect",
    "none",
    *(
      f"{kind}_3x3_{theta}"
      for kind in ("SepCDC", "DilCDC")
      for theta in ("0.0", "0.5", "0.7", "0.8")
    ),
  }
  assert set(spaces["darts"]) == {
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
  }
  assert {"conv_3x3", "conv_5x5", "conv_7x7", "dil_sep_conv_3x3", "dil_sep_conv_5x5"} <= set(
    spaces["add"]
  )
  for name, names in spaces.items():
    space = registry.search_space(name)
    assert space.ops == names and len(space) == len(names) and list(space) == list(names)


@pytest.mark.parametrize(
  "name,kind,kernel_size,dilation,theta",
  [
    ("SepCDC_3x3_0.7", "sep_conv", 3, 1, 0.7),
    ("DilCDC_3x3_0.5", "dil_conv", 3, 2, 0.5),
    ("DilCDC_3x3_1", "dil_conv", 3, 2, 1.0),
    ("SepCDC_5x5_0.25", "sep_conv", 5, 1, 0.25),
    ("sep_conv_7x7", "sep_conv", 7, 1, 0.0),
    ("dil_sep_conv_5x5", "sep_conv", 5, 2, 0.0),
    ("dil_conv_5x5", "dil_conv", 5, 2, 0.0),
    ("conv_1x1", "conv", 1, 1, 0.0),
    ("conv_7x1_1x7", "conv_7x1_1x7", 7, 1, 0.0),
    ("avg_pool_3x3", "avg_pool", 3, 1, 0.0),
  ],
)
def test_parse_op_name(name, kind, kernel_size, dilation, theta):
  spec = registry.parse_op_name(name)
  assert (spec.kind, spec.kernel_size, spec.dilation) == (kind, kernel_size, dilation)
  assert spec.theta == pytest.approx(theta)


@pytest.mark.parametrize(
  "name",
  [
    "sep_conv_4x4",
    "SepCDC_3x3_1.5",
    "SepCDC_3x3",
    "conv_3x5",
    "Sep_conv_3x3",
    "max_pool_5x5",
    "identity",
    "",
  ],
)
def test_unknown_names_raise_with_the_known_names(name):
  with pytest.raises(ValueError) as error:
    registry.parse_op_name(name)
  message = str(error.value)
  for known in (
    "none",
    "skip_connect",
    "max_pool_3x3",
    "avg_pool_3x3",
    "conv_7x1_1x7",
    "sep_conv_<k>x<k>",
    "SepCDC_<k>x<k>_<θ>",
    "DilCDC_<k>x<k>_<θ>",
    "dil_conv_3x3",
  ):
    assert known in message
  with pytest.raises(ValueError, match="unknown operation"):
    registry.make_op(name, 4, 1, affine=False)


def test_make_op_builds_the_documented_modules():
  assert isinstance(registry.make_op("skip_connect", 4, 1, affine=True), ops.Identity)
  assert isinstance(registry.make_op("skip_connect", 4, 2, affine=True), ops.FactorizedReduce)
  avg = registry.make_op("skip_connect", 4, 2, affine=True, reducing_skip="avg_pool")
  assert isinstance(avg, ops.Pool) and avg.kind == "avg" and not avg.with_batch_norm
  sep = registry.make_op("SepCDC_3x3_0.8", 4, 2, affine=False)
  assert isinstance(sep, ops.SepConv) and sep.theta == 0.8 and sep.stride == 2
  dil = registry.make_op("DilCDC_3x3_0.7", 4, 1, affine=False)
  assert isinstance(dil, ops.DilConv) and dil.theta == 0.7 and dil.dilation == 2
  named = registry.make_op("none", 4, 2, affine=False, module_name="op_3")
  assert isinstance(named, nn.Module) and named.name == "op_3"
  with pytest.raises(ValueError, match="stride"):
    registry.make_op("none", 4, 3, affine=False)
  with pytest.raises(ValueError, match="reducing_skip"):
    registry.make_op("skip_connect", 4, 2, affine=False, reducing_skip="identity")


def test_search_space_reducing_skip():
  assert registry.search_space("fdnas").reducing_skip == "avg_pool"
  assert registry.search_space("darts").reducing_skip == "factorized_reduce"
  assert registry.search_space("add").reducing_skip == "factorized_reduce"
  fdnas_skip = registry.search_space("fdnas").make_op("skip_connect", 4, 2, affine=True)
  assert isinstance(fdnas_skip, ops.Pool)
  darts_skip = registry.search_space("darts").make_op("skip_connect", 4, 2, affine=True)
  assert isinstance(darts_skip, ops.FactorizedReduce)
  overridden = registry.search_space("fdnas", reducing_skip="factorized_reduce")
  assert overridden.reducing_skip == "factorized_reduce"


def test_search_space_from_a_list_is_validated():
  space = registry.search_space(["none", "skip_connect", "SepCDC_3x3_0.6", "dil_conv_3x3"])
  assert space.name == "custom" and space.index("SepCDC_3x3_0.6") == 2
  op = space.make_op("SepCDC_3x3_0.6", 4, 1, affine=False)
  x = jnp.ones((1, 5, 5, 4))
  assert (
    op.apply(op.init(jax.random.key(0), x, True), x, True, mutable=["batch_stats"])[0].shape
    == x.shape
  )
  with pytest.raises(ValueError, match="not in search space"):
    space.make_op("max_pool_3x3", 4, 1, affine=False)
  with pytest.raises(ValueError, match="unknown operation"):
    registry.search_space(["none", "sep_conv_3x3", "bogus_op"])
  with pytest.raises(ValueError, match="duplicate"):
    registry.search_space(["none", "none"])
  with pytest.raises(ValueError, match="unknown search space"):
    registry.search_space("nasnet")
