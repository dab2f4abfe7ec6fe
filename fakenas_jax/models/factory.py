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
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import ml_collections

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
from fakenas_jax.audio import sinc
from fakenas_jax.nn import genotypes
from fakenas_jax.nn import registry

# Fields every network has. A network without an auxiliary head, a region head or drop path
# refuses `auxiliary`, `mask_head` or a non-zero `drop_path_prob`. `decoder_channels`: widths of
# the BiG-Arts decoder blocks, deepest first; () = 256, 128, 64, 32, 16, … (see bigarts_heads).
# `frontend` (speech): 'lfcc' (the network takes the LFCC image) or 'sinc' (it takes the
# waveform and starts with the sinc-filter layer of `sinc_frontend`, set by `sinc`, fields of
# `audio.sinc.SincConfig`).
_COMMON = {'name': '', 'num_classes': 2, 'genotype': '', 'drop_path_prob': 0.0,
           'auxiliary': False, 'mask_head': False, 'bigarts_heads': False,
           'decoder_channels': (), 'frontend': 'lfcc', 'sinc': {}}
FRONTENDS = ('lfcc', 'sinc')
# Fields of the networks built from genotypes. `reducing_skip`: '' = the genotype's own (see
# load_genotype), or 'factorized_reduce' / 'avg_pool'.
_CELL_NETWORK = {'channels': 16, 'stem_multiplier': 3, 'dropout_rate': 0.0, 'reducing_skip': ''}


@dataclasses.dataclass(frozen=True)
class _Network:
  defaults: dict[str, Any]
  needs_genotype: bool
  # (resolved config, (genotype, reducing skip) or None, expose_features) → module.
  build: Callable[[ml_collections.ConfigDict, Any, bool], nn.Module]
  description: str
  options: frozenset[str] = frozenset()  # of 'auxiliary', 'mask_head', 'drop_path'


def _build_meso(inception: bool):
  def build(config, genotype, expose_features):
    del genotype
    return meso.MesoNet(num_classes=config.num_classes, inception=inception,
                        dropout_rate=config.dropout_rate, expose_features=expose_features)
  return build


def _build_resnet18(config, genotype, expose_features):
  del genotype
  return resnet.resnet18(config.num_classes, expose_features=expose_features)


def _build_xception(config, genotype, expose_features):
  del genotype
  return xception.Xception(config.num_classes, expose_features=expose_features)


def _build_lcnn(config, genotype, expose_features):
  del genotype
  if expose_features:
    raise ValueError("model 'lcnn' exposes no feature pyramid; it cannot take BiG-Arts heads")
  return lcnn.LCNN(num_classes=config.num_classes, dropout_rate=config.dropout_rate)


def _reducing_skip(config, genotype_skip: str) -> str:
  skip = config.reducing_skip or genotype_skip
  if skip not in registry.REDUCING_SKIPS:
    raise ValueError(f"reducing_skip must be '' (the genotype's own) or one of "
                     f'{", ".join(registry.REDUCING_SKIPS)}, got {skip!r}')
  return skip


def _build_darts_eval(config, genotype, expose_features):
  genotype, skip = genotype
  return darts_eval.DartsEvalNetwork(
      genotype, num_classes=config.num_classes, channels=config.channels, layers=config.layers,
      auxiliary=config.auxiliary, drop_path_prob=config.drop_path_prob, stem=config.stem,
      stem_multiplier=config.stem_multiplier, dropout_rate=config.dropout_rate,
      reducing_skip=_reducing_skip(config, skip), expose_features=expose_features)


def _build_c2pn(config, genotype, expose_features):
  genotype, skip = genotype
  return c2pn.C2PN(
      genotype, num_classes=config.num_classes, channels=config.channels, layout=config.layout,
      fusion_channels=config.fusion_channels, drop_path_prob=config.drop_path_prob,
      stem_multiplier=config.stem_multiplier, dropout_rate=config.dropout_rate,
      reducing_skip=_reducing_skip(config, skip), expose_features=expose_features)


def _build_add(config, genotype, expose_features):
  genotype, skip = genotype
  return add_net.ADDNetwork(
      genotype, num_classes=config.num_classes, channels=config.channels, blocks=config.blocks,
      cells_per_block=config.cells_per_block, stem=config.stem,
      stem_multiplier=config.stem_multiplier, mask_head=config.mask_head,
      head_channels=config.head_channels, hidden_units=config.hidden_units,
      dropout_rate=config.dropout_rate, drop_path_prob=config.drop_path_prob,
      reducing_skip=_reducing_skip(config, skip), expose_features=expose_features)


_NETWORKS: dict[str, _Network] = {
    'meso4': _Network({'dropout_rate': 0.5}, False, _build_meso(False),
                      'Meso-4 (Afchar et al. 2018)'),
    'meso_inception4': _Network({'dropout_rate': 0.5}, False, _build_meso(True),
                                'MesoInception-4 (Afchar et al. 2018)'),
    'resnet18': _Network({}, False, _build_resnet18, 'ResNet-18, torchvision layout'),
    'xception': _Network({}, False, _build_xception, 'Xception (Chollet 2017)'),
    # The ASVspoof 2021 LFCC-LCNN baseline (speech; one logit as the baseline's sigmoid).
    'lcnn': _Network({'num_classes': 1, 'dropout_rate': 0.7}, False, _build_lcnn,
                     'LFCC-LCNN (ASVspoof 2021 baseline)'),
    # DARTS' CIFAR evaluation network; stem='imagenet', channels=48, layers=14 is its ImageNet one.
    'darts_eval': _Network(
        dict(_CELL_NETWORK, genotype='DARTS_V2', channels=36, layers=20, stem='cifar',
             auxiliary=True, drop_path_prob=0.2),
        True, _build_darts_eval, 'the DARTS evaluation network',
        frozenset({'auxiliary', 'drop_path'})),
    'c2pn': _Network(
        dict(_CELL_NETWORK, layout='NNRNNRNNRNNR', fusion_channels=0),
        True, _build_c2pn, 'FD-NAS C2PN', frozenset({'drop_path'})),
    'add': _Network(
        dict(_CELL_NETWORK, blocks=3, cells_per_block=4, stem='cifar', mask_head=True,
             head_channels=256, hidden_units=256),
        True, _build_add, 'the ADD network', frozenset({'mask_head', 'drop_path'})),
}
MODEL_NAMES: tuple[str, ...] = tuple(_NETWORKS)


def _network(name: str) -> _Network:
  if name not in _NETWORKS:
    raise ValueError(f'unknown model {name!r}; known: {", ".join(MODEL_NAMES)}')
  return _NETWORKS[name]


def default_model_config(name: str) -> ml_collections.ConfigDict:
  """All fields of network ``name`` with their defaults (a config overrides a few of them)."""
  network = _network(name)
  return ml_collections.ConfigDict({**_COMMON, **network.defaults, 'name': name})


def resolve_config(config: ml_collections.ConfigDict | dict) -> ml_collections.ConfigDict:
  """``default_model_config(config.name)`` updated with ``config``; unknown fields raise."""
  config = dict(config)
  if not config.get('name'):
    raise ValueError(f'the model config needs a name, one of: {", ".join(MODEL_NAMES)}')
  resolved = default_model_config(config['name'])
  unknown = sorted(set(config) - set(resolved))
  if unknown:
    raise ValueError(f'model {config["name"]!r} has no field(s) {", ".join(unknown)}; '
                     f'its fields: {", ".join(sorted(resolved))}')
  resolved.update(config)
  if resolved.frontend not in FRONTENDS:
    raise ValueError(f'frontend must be one of {", ".join(FRONTENDS)}, got {resolved.frontend!r}')
  if int(resolved.num_classes) < 1:
    raise ValueError(f'num_classes must be >= 1, got {resolved.num_classes}')
  network = _NETWORKS[resolved.name]
  for field, option, value in (('auxiliary', 'auxiliary', resolved.auxiliary),
                               ('mask_head', 'mask_head', resolved.mask_head),
                               ('drop_path_prob', 'drop_path', resolved.drop_path_prob)):
    if value and option not in network.options:
      having = [n for n, e in _NETWORKS.items() if option in e.options]
      raise ValueError(f'model {resolved.name!r} ({network.description}) has no {field}; '
                       f'networks that have it: {", ".join(having)}')
  return resolved


def load_genotype(name_or_path: str) -> tuple[genotypes.Genotype, registry.ReducingSkip]:
  """A published genotype or a genotype JSON, and what its reducing ``skip_connect`` is.

  The reducing skip comes from the JSON's ``search_space`` (written by the search): the FD-NAS
  space's is a 3×3 average pool; otherwise (published DARTS cells, ADD) FactorizedReduce. A
  genotype without that field that uses central-difference operations is taken as FD-NAS.
  """
  genotype = genotypes.load(name_or_path)
  space = ''
  path = pathlib.Path(name_or_path)
  if str(name_or_path) not in genotypes.PUBLISHED and path.is_file():
    space = str(json.loads(path.read_text()).get('search_space', ''))
  if space in registry.SPACE_REDUCING_SKIP:
    return genotype, registry.SPACE_REDUCING_SKIP[space]
  if any('CDC' in op for op in genotype.operations()):
    return genotype, registry.SPACE_REDUCING_SKIP['fdnas']
  return genotype, 'factorized_reduce'


def build_model(config: ml_collections.ConfigDict | dict) -> nn.Module:
  """The detector the config names (module docstring for the call and the outputs)."""
  config = resolve_config(config)
  network = _NETWORKS[config.name]
  genotype = None
  if network.needs_genotype:
    if not config.genotype:
      raise ValueError(f'model {config.name!r} is built from a genotype: set genotype to a '
                       f'published name ({", ".join(genotypes.PUBLISHED)}) or a genotype JSON')
    genotype = load_genotype(config.genotype)
  elif config.genotype:
    raise ValueError(f'model {config.name!r} ({network.description}) takes no genotype, got '
                     f'{config.genotype!r}; networks built from genotypes: '
                     f'{", ".join(n for n, e in _NETWORKS.items() if e.needs_genotype)}')
  model = network.build(config, genotype, bool(config.bigarts_heads))
  if config.bigarts_heads:
    model = bigarts_heads.WithArtifactHeads(
        backbone=model, decoder_channels=tuple(int(c) for c in config.decoder_channels))
  if config.frontend == 'sinc':
    model = sinc_frontend.WithSincFrontend(backbone=model, config=sinc_config(config))
  return model


def sinc_config(config: ml_collections.ConfigDict | dict) -> sinc.SincConfig:
  """The `audio.sinc.SincConfig` of a model config's `sinc` block."""
  return sinc.config_from(dict(resolve_config(config).sinc))
