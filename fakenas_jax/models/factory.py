"""Detectors by name: ``build_model(config)`` and the per-network default configs.

Every detector is a Flax Linen module called as

    outputs = model.apply(variables, images, train=False)                       # evaluation
    outputs, updates = model.apply(variables, images, train=True,
                                   rngs={'dropout': key}, mutable=['batch_stats'])

with ``images`` NHWC float32 (normalised), and returns a dict:

* ``'logits'`` [B, num_classes] — class 1 is fake: P(fake) = softmax(logits)[:, 1];
* ``'aux_logits'`` [B, num_classes] — DARTS' auxiliary head (``darts_eval``), only when
  ``train`` and ``auxiliary``;
* ``'region'`` [B, H, W, 1] — ADD's potential-manipulation-region map (``add`` with
  ``mask_head``), *probabilities* in [0, 1] at input size (see ``add_net``);
* ``'intrinsic'``, ``'extrinsic'`` [B, H, W, 1] — BiG-Arts per-pixel *logits* at input size
  (``bigarts_heads=True``; see ``bigarts_heads``).

Dropout and drop path draw from the ``'dropout'`` rng; with ``train=False`` no rng is needed.
The networks with drop path (``darts_eval``, ``c2pn``, ``add``, and any of them with BiG-Arts
heads) also take ``drop_path_prob=`` in the call — a float or a traced scalar that overrides the
configured rate, so a per-epoch schedule does not recompile.

A config names the network (``name``) and overrides a few fields of
``default_model_config(name)`` (``resolve_config`` fills in the rest); fields the network does
not have are refused.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

import flax.linen as nn
import ml_collections

from fakenas_jax.audio import sinc
from fakenas_jax.models import (
  add_net,
  bigarts_heads,
  c2pn,
  darts_eval,
  lcnn,
  meso,
  resnet,
  sinc_frontend,
  xception,
)
from fakenas_jax.nn import genotypes, registry

# The factory's own fields, beside the module's: how the genotype is read (`genotype`: a
# published name or a JSON; `reducing_skip`: '' = the genotype's own, see `load_genotype`) and
# whether the BiG-Arts heads are attached (`decoder_channels`: their widths, deepest first).
GENOTYPE_FIELDS = {"genotype": "", "reducing_skip": ""}
HEAD_FIELDS = {
  "bigarts_heads": False,
  "decoder_channels": bigarts_heads.WithArtifactHeads.decoder_channels,
}
# `frontend` (speech): 'lfcc' (the network takes the LFCC image) or 'sinc' (it takes the
# waveform and starts with the sinc-filter layer of `sinc_frontend`, set by `sinc`, fields of
# `audio.sinc.SincConfig`).
FRONTEND_FIELDS = {"frontend": "lfcc", "sinc": {}}
FRONTENDS = ("lfcc", "sinc")
_NOT_CONFIGURABLE = ("parent", "name", "genotype", "expose_features")


@dataclasses.dataclass(frozen=True)
class _Network:
  module: type[nn.Module]
  description: str
  preset: dict[str, Any] = dataclasses.field(default_factory=dict)  # fixed by the name

  @property
  def needs_genotype(self) -> bool:
    return "genotype" in self.module.__dataclass_fields__

  def fields(self) -> dict[str, Any]:
    """The module's own configurable fields with their defaults (the only defaults)."""
    fields = {}
    for field in dataclasses.fields(self.module):
      if field.name in _NOT_CONFIGURABLE or field.name in self.preset:
        continue
      if field.default is not dataclasses.MISSING:
        fields[field.name] = field.default
    return fields


def _reducing_skip(config, genotype_skip: str) -> str:
  skip = config.reducing_skip or genotype_skip
  if skip not in registry.REDUCING_SKIPS:
    raise ValueError(
      f"reducing_skip must be '' (the genotype's own) or one of "
      f"{', '.join(registry.REDUCING_SKIPS)}, got {skip!r}"
    )
  return skip


_NETWORKS: dict[str, _Network] = {
  "meso4": _Network(meso.MesoNet, "Meso-4 (Afchar et al. 2018)", {"inception": False}),
  "meso_inception4": _Network(
    meso.MesoNet, "MesoInception-4 (Afchar et al. 2018)", {"inception": True}
  ),
  "resnet18": _Network(
    resnet.ResNet, "ResNet-18, torchvision layout", {"stage_sizes": (2, 2, 2, 2)}
  ),
  "xception": _Network(xception.Xception, "Xception (Chollet 2017)"),
  # The ASVspoof 2021 LFCC-LCNN baseline (speech; one logit as the baseline's sigmoid).
  "lcnn": _Network(lcnn.LCNN, "LFCC-LCNN (ASVspoof 2021 baseline)"),
  # DARTS' CIFAR evaluation network; stem='imagenet', channels=48, layers=14 is its ImageNet one.
  "darts_eval": _Network(darts_eval.DartsEvalNetwork, "the DARTS evaluation network"),
  "c2pn": _Network(c2pn.C2PN, "FD-NAS C2PN"),
  "add": _Network(add_net.ADDNetwork, "the ADD network"),
}
MODEL_NAMES: tuple[str, ...] = tuple(_NETWORKS)


def _network(name: str) -> _Network:
  if name not in _NETWORKS:
    raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}")
  return _NETWORKS[name]


def default_model_config(name: str) -> ml_collections.ConfigDict:
  """All fields of network ``name`` with their defaults (a config overrides a few of them):
  the module's own fields, the genotype fields for cell networks, the BiG-Arts head fields."""
  network = _network(name)
  fields = {"name": name, **network.fields(), **HEAD_FIELDS, **FRONTEND_FIELDS}
  if network.needs_genotype:
    fields.update(GENOTYPE_FIELDS, genotype=getattr(network.module, "default_genotype", ""))
  return ml_collections.ConfigDict(fields)


def resolve_config(config: ml_collections.ConfigDict | dict) -> ml_collections.ConfigDict:
  """``default_model_config(config.name)`` updated with ``config``; unknown fields raise."""
  config = dict(config)
  if not config.get("name"):
    raise ValueError(f"the model config needs a name, one of: {', '.join(MODEL_NAMES)}")
  resolved = default_model_config(config["name"])
  network = _NETWORKS[config["name"]]
  for field in sorted(set(config) - set(resolved)):
    if field == "genotype":
      raise ValueError(
        f"model {config['name']!r} ({network.description}) takes no genotype, got "
        f"{config['genotype']!r}; networks built from genotypes: "
        f"{', '.join(n for n, e in _NETWORKS.items() if e.needs_genotype)}"
      )
    having = [n for n in MODEL_NAMES if field in default_model_config(n)]
    where = (
      f"; networks that have it: {', '.join(having)}"
      if having
      else f"; its fields: {', '.join(sorted(resolved))}"
    )
    raise ValueError(
      f"model {config['name']!r} ({network.description}) has no field {field}{where}"
    )
  resolved.update(config)
  if resolved.frontend not in FRONTENDS:
    raise ValueError(f"frontend must be one of {', '.join(FRONTENDS)}, got {resolved.frontend!r}")
  if int(resolved.num_classes) < 1:
    raise ValueError(f"num_classes must be >= 1, got {resolved.num_classes}")
  return resolved


def load_genotype(name_or_path: str) -> tuple[genotypes.Genotype, registry.ReducingSkip]:
  """A published genotype or a genotype JSON, and what its reducing ``skip_connect`` is.

  The reducing skip comes from the JSON's ``search_space`` (written by the search): the FD-NAS
  space's is a 3×3 average pool; otherwise (published DARTS cells, ADD) FactorizedReduce. A
  genotype without that field that uses central-difference operations is taken as FD-NAS.
  """
  genotype = genotypes.load(name_or_path)
  space = ""
  path = pathlib.Path(name_or_path)
  if str(name_or_path) not in genotypes.PUBLISHED and path.is_file():
    space = str(json.loads(path.read_text()).get("search_space", ""))
  if space in registry.SPACE_REDUCING_SKIP:
    return genotype, registry.SPACE_REDUCING_SKIP[space]
  if any("CDC" in op for op in genotype.operations()):
    return genotype, registry.SPACE_REDUCING_SKIP["fdnas"]
  return genotype, "factorized_reduce"


def build_model(config: ml_collections.ConfigDict | dict) -> nn.Module:
  """The detector the config names (module docstring for the call and the outputs)."""
  config = resolve_config(config)
  network = _NETWORKS[config.name]
  kwargs = {field: config[field] for field in network.fields()}
  kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
  if network.needs_genotype:
    if not config.genotype:
      raise ValueError(
        f"model {config.name!r} is built from a genotype: set genotype to a "
        f"published name ({', '.join(genotypes.PUBLISHED)}) or a genotype JSON"
      )
    genotype, skip = load_genotype(config.genotype)
    kwargs.update(genotype=genotype, reducing_skip=_reducing_skip(config, skip))
  if "expose_features" in network.module.__dataclass_fields__:
    kwargs["expose_features"] = bool(config.bigarts_heads)
  elif config.bigarts_heads:
    raise ValueError(
      f"model {config.name!r} exposes no feature pyramid; it cannot take BiG-Arts heads"
    )
  model = network.module(**network.preset, **kwargs)
  if config.bigarts_heads:
    model = bigarts_heads.WithArtifactHeads(
      backbone=model, decoder_channels=tuple(int(c) for c in config.decoder_channels)
    )
  if config.frontend == "sinc":
    model = sinc_frontend.WithSincFrontend(backbone=model, config=sinc_config(config))
  return model


def sinc_config(config: ml_collections.ConfigDict | dict) -> sinc.SincConfig:
  """The `audio.sinc.SincConfig` of a model config's `sinc` block."""
  return sinc.config_from(dict(resolve_config(config).sinc))
