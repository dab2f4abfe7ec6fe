"""build_model: names, defaults, genotypes and errors; the BiG-Arts heads on any backbone."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fakenas_jax.models import bigarts_heads, factory, meso
from fakenas_jax.nn import genotypes

FDNAS_GENOTYPE = genotypes.Genotype(
  normal=(
    ("SepCDC_3x3_0.7", 0),
    ("DilCDC_3x3_0.5", 1),
    ("skip_connect", 0),
    ("max_pool_3x3", 2),
    ("SepCDC_3x3_0.0", 1),
    ("skip_connect", 3),
    ("DilCDC_3x3_0.8", 4),
    ("SepCDC_3x3_0.5", 0),
  ),
  normal_concat=(2, 3, 4, 5),
  reduce=(
    ("skip_connect", 0),
    ("SepCDC_3x3_0.7", 1),
    ("max_pool_3x3", 0),
    ("DilCDC_3x3_0.0", 2),
    ("skip_connect", 1),
    ("SepCDC_3x3_0.8", 3),
    ("max_pool_3x3", 4),
    ("skip_connect", 2),
  ),
  reduce_concat=(2, 3, 4, 5),
)


def _output_shapes(model, size=64, train=True):
  """Output shapes of a model initialised as a trainer does (params rng only, train=False)."""
  x = jnp.zeros((2, size, size, 3))
  variables = jax.eval_shape(lambda: model.init({"params": jax.random.key(0)}, x, train=False))
  outputs, _ = jax.eval_shape(
    lambda v: model.apply(
      v, x, train=train, rngs={"dropout": jax.random.key(1)}, mutable=["batch_stats"]
    ),
    variables,
  )
  return {name: value.shape for name, value in outputs.items()}


def test_every_named_model_builds_and_returns_the_documented_outputs():
  assert set(factory.MODEL_NAMES) >= {
    "meso4",
    "meso_inception4",
    "resnet18",
    "xception",
    "c2pn",
    "add",
    "darts_eval",
  }
  expected_extra = {"darts_eval": {"aux_logits"}, "add": {"region"}}
  for name in factory.MODEL_NAMES:
    config = {"name": name}
    if name in ("c2pn", "add"):  # no default genotype: a searched one is expected
      config["genotype"] = "DARTS_V2"
    if name in ("darts_eval", "c2pn", "add"):
      config["channels"] = 4  # shapes only, but keep tracing cheap
    shapes = _output_shapes(factory.build_model(config))
    # The LFCC-LCNN baseline has one (fake) logit, as the ASVspoof baseline's sigmoid output.
    assert shapes.pop("logits") == ((2, 1) if name == "lcnn" else (2, 2)), name
    assert set(shapes) == expected_extra.get(name, set()), name
    for dense in shapes.values():
      if len(dense) == 4:
        assert dense == (2, 64, 64, 1)


def test_defaults_and_overrides():
  defaults = factory.default_model_config("darts_eval")
  assert (
    defaults.genotype,
    defaults.channels,
    defaults.layers,
    defaults.auxiliary,
    defaults.drop_path_prob,
  ) == ("DARTS_V2", 36, 20, True, 0.2)
  model = factory.build_model(
    {"name": "darts_eval", "channels": 8, "layers": 5, "genotype": "PC_DARTS", "num_classes": 3}
  )
  assert (model.channels, model.layers, model.num_classes) == (8, 5, 3)
  assert model.genotype == genotypes.PUBLISHED["PC_DARTS"]
  c2pn_model = factory.build_model({"name": "c2pn", "genotype": "DARTS_V2", "layout": "NNRNNR"})
  assert c2pn_model.layout == "NNRNNR" and c2pn_model.reducing_skip == "factorized_reduce"
  assert factory.build_model({"name": "add", "genotype": "DARTS_V2"}).mask_head


@pytest.mark.parametrize(
  "config, message",
  [
    ({"name": "vgg16"}, "unknown model .*meso4.*c2pn"),
    ({}, "needs a name"),
    ({"name": "c2pn"}, "built from a genotype"),
    ({"name": "meso4", "genotype": "DARTS_V2"}, "takes no genotype"),
    ({"name": "add", "genotype": "no/such/genotype.json"}, "no genotype file"),
    ({"name": "meso4", "layers": 8}, "no field.*layers"),
    ({"name": "meso4", "auxiliary": True}, "no field auxiliary.*darts_eval"),
    ({"name": "c2pn", "genotype": "DARTS_V2", "mask_head": True}, "no field mask_head.*add"),
    ({"name": "resnet18", "drop_path_prob": 0.2}, "no field drop_path_prob.*c2pn"),
    ({"name": "resnet18", "num_classes": 0}, "num_classes"),
    ({"name": "c2pn", "genotype": "DARTS_V2", "reducing_skip": "max_pool"}, "reducing_skip"),
    ({"name": "c2pn", "genotype": "DARTS_V2", "layout": "NNX"}, "'N' \\(normal\\)"),
  ],
)
def test_bad_configs_are_refused_with_a_clear_message(config, message):
  with pytest.raises(ValueError, match=message):
    model = factory.build_model(config)
    _output_shapes(model, size=32, train=False)


def test_reducing_skip_follows_the_genotype_search_space(tmp_path):
  path = tmp_path / "genotype.json"
  darts_cells = genotypes.PUBLISHED["DARTS_V2"]
  genotypes.save(FDNAS_GENOTYPE, path, search_space="fdnas")
  assert factory.load_genotype(str(path)) == (FDNAS_GENOTYPE, "avg_pool")
  genotypes.save(darts_cells, path, search_space="darts")
  assert factory.load_genotype(str(path))[1] == "factorized_reduce"
  genotypes.save(FDNAS_GENOTYPE, path)  # no search_space: the CDC operations tell
  assert factory.load_genotype(str(path)) == (FDNAS_GENOTYPE, "avg_pool")
  assert factory.load_genotype("DARTS_V2")[1] == "factorized_reduce"
  model = factory.build_model({"name": "c2pn", "genotype": str(path)})
  assert model.reducing_skip == "avg_pool"
  forced = factory.build_model(
    {"name": "c2pn", "genotype": str(path), "reducing_skip": "factorized_reduce"}
  )
  assert forced.reducing_skip == "factorized_reduce"
  # The reduction cell's skip from c_{k-2} (op0) is a parameter-free pool in the FD-NAS space.
  x = jnp.zeros((1, 16, 16, 3))
  for built, has_params in ((model, False), (forced, True)):
    small = built.clone(channels=4, layout="R")
    params = jax.eval_shape(small.init, jax.random.key(0), x)["params"]
    assert ("op0" in params["cells"]["cell0"]) == has_params
  assert json.loads(path.read_text())["normal"][0] == ["SepCDC_3x3_0.7", 0]


# ---------------------------------------------------------------------------------------------
# BiG-Arts heads.


def test_decoder_plan_for_resnet18_is_the_papers_five_blocks():
  shapes = [(1, 32, 32, 64), (1, 16, 16, 64), (1, 8, 8, 128), (1, 4, 4, 256), (1, 2, 2, 512)]
  plan = bigarts_heads.decoder_plan(shapes, (64, 64))
  assert plan == [
    (3, (4, 4), 256),
    (2, (8, 8), 128),
    (1, (16, 16), 64),
    (0, (32, 32), 32),
    (None, (64, 64), 16),
  ]
  odd = bigarts_heads.decoder_plan([(1, 17, 17, 8), (1, 9, 9, 8)], (33, 33), (12, 6))
  assert odd == [(0, (17, 17), 12), (None, (33, 33), 6)]
  with pytest.raises(ValueError, match="one width per decoder block.*need 5"):
    bigarts_heads.decoder_plan(shapes, (64, 64), (8, 8))


def test_scse_is_the_sum_of_channel_and_spatial_recalibration():
  module = bigarts_heads.SpatialChannelSqueezeExcitation(reduction=4)
  x = jax.random.normal(jax.random.key(0), (2, 5, 6, 8))
  variables = module.init(jax.random.key(1), x)
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), variables["params"])
  xs = np.asarray(x, np.float64)
  sigmoid = lambda z: 1 / (1 + np.exp(-z))
  squeezed = xs.mean(axis=(1, 2))
  hidden = np.maximum(squeezed @ p["channel_reduce"]["kernel"] + p["channel_reduce"]["bias"], 0)
  channel = sigmoid(hidden @ p["channel_expand"]["kernel"] + p["channel_expand"]["bias"])
  spatial = sigmoid(xs @ p["spatial"]["kernel"][0, 0] + p["spatial"]["bias"])
  expected = xs * channel[:, None, None, :] + xs * spatial
  assert p["channel_reduce"]["kernel"].shape == (8, 2)
  np.testing.assert_allclose(module.apply(variables, x), expected, rtol=1e-5, atol=1e-6)


def test_bigarts_heads_attach_to_resnet18_and_c2pn():
  resnet_shapes = _output_shapes(factory.build_model({"name": "resnet18", "bigarts_heads": True}))
  assert resnet_shapes == {
    "logits": (2, 2),
    "intrinsic": (2, 64, 64, 1),
    "extrinsic": (2, 64, 64, 1),
  }
  model = factory.build_model(
    {
      "name": "c2pn",
      "genotype": "DARTS_V2",
      "channels": 4,
      "layout": "NRR",
      "fusion_channels": 8,
      "bigarts_heads": True,
      "decoder_channels": (8, 8),
      "drop_path_prob": 0.2,
    }
  )
  assert bigarts_heads.takes_drop_path(model)
  x = jax.random.normal(jax.random.key(0), (2, 16, 16, 3))

  @jax.jit
  def run(key):
    variables = model.init({"params": key}, x, train=False)
    evaluation = model.apply(variables, x)

    def loss(params):
      out, _ = model.apply(
        {**variables, "params": params},
        x,
        train=True,
        rngs={"dropout": key},
        mutable=["batch_stats"],
        drop_path_prob=jnp.float32(0.1),
      )
      return sum(jnp.mean(out[name] ** 2) for name in ("logits", "intrinsic", "extrinsic"))

    return variables, evaluation, jax.grad(loss)(variables["params"])

  variables, evaluation, grads = run(jax.random.key(0, impl="rbg"))
  assert {name: value.shape for name, value in evaluation.items()} == {
    "logits": (2, 2),
    "intrinsic": (2, 16, 16, 1),
    "extrinsic": (2, 16, 16, 1),
  }
  assert set(variables["params"]) == {"backbone", "intrinsic_decoder", "extrinsic_decoder"}
  assert not np.allclose(evaluation["intrinsic"], evaluation["extrinsic"])
  for head in ("intrinsic_decoder", "extrinsic_decoder", "backbone"):
    leaves = jax.tree_util.tree_leaves(grads[head])
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
    assert max(float(jnp.abs(g).max()) for g in leaves) > 0


def test_heads_need_a_backbone_that_exposes_features():
  model = bigarts_heads.WithArtifactHeads(backbone=meso.MesoNet(expose_features=False))
  with pytest.raises(ValueError, match="expose_features=True"):
    jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 16, 16, 3))))
