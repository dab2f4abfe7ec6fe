"""Finding corpora: the TFDS builders in `tfds_builders/` and their configs, by name.

A corpus is named `NAME[/CONFIG]` (e.g. `synthetic_faces/celeb`). Builders are discovered, not
listed by hand: every package in `tfds_builders/` that defines a `Builder` class is a corpus.
Config fields can be overridden (e.g. a tiny `synthetic_faces` for tests); an overridden config
gets its own name, derived from the overrides, so it is stored apart from the original.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import json
import pkgutil
from typing import Any

import tensorflow_datasets as tfds

import tfds_builders


class UnknownCorpusError(ValueError):
  """A corpus name or config that does not exist; the message lists what does."""


@functools.cache
def builder_classes() -> dict[str, type[tfds.core.DatasetBuilder]]:
  """Every builder in `tfds_builders/`, by corpus name."""
  classes = {}
  for module in pkgutil.iter_modules(tfds_builders.__path__):
    if module.ispkg:
      package = importlib.import_module(f"tfds_builders.{module.name}")
      if hasattr(package, "Builder"):
        classes[module.name] = package.Builder
  return classes


def config_names(name: str) -> list[str]:
  """The named configs of corpus `name` (empty for a builder without configs)."""
  return [config.name for config in (builder_class(name).BUILDER_CONFIGS or [])]


def builder_class(name: str) -> type[tfds.core.DatasetBuilder]:
  classes = builder_classes()
  if name not in classes:
    raise UnknownCorpusError(
      f"Unknown dataset {name!r}. Known datasets: {', '.join(sorted(classes)) or 'none'}"
    )
  return classes[name]


def parse_spec(spec: str) -> tuple[str, str | None]:
  """'name/config' -> ('name', 'config'); 'name' -> ('name', None)."""
  name, _, config = spec.strip().partition("/")
  return name, (config or None)


def resolve_config(spec: str, **overrides: Any) -> tfds.core.BuilderConfig | None:
  """The builder config a spec names, with `overrides` applied to its fields."""
  name, config_name = parse_spec(spec)
  cls = builder_class(name)
  configs = {config.name: config for config in (cls.BUILDER_CONFIGS or [])}
  if not configs:
    if config_name or overrides:
      raise UnknownCorpusError(f"Dataset {name!r} has no configs.")
    return None
  config_name = config_name or cls.DEFAULT_CONFIG_NAME or next(iter(configs))
  if config_name not in configs:
    raise UnknownCorpusError(
      f"Unknown config {config_name!r} of dataset {name!r}. Known configs: {', '.join(configs)}"
    )
  config = configs[config_name]
  if not overrides:
    return config
  fields = {field.name for field in dataclasses.fields(config)}
  unknown = sorted(set(overrides) - fields)
  if unknown:
    raise UnknownCorpusError(
      f"Config {name}/{config_name} has no field(s) {', '.join(unknown)}. "
      f"Fields: {', '.join(sorted(fields - {'name', 'version', 'release_notes', 'supported_versions', 'tags'}))}"
    )
  digest = hashlib.sha1(json.dumps(overrides, sort_keys=True, default=str).encode()).hexdigest()
  return dataclasses.replace(
    config,
    name=f"{config_name}_{digest[:10]}",
    **overrides,
    description=f"{config.description} Overrides: {json.dumps(overrides, sort_keys=True, default=str)}",
  )


def load_builder(
  spec: str, data_dir: str, builder_kwargs: dict | None = None, **overrides: Any
) -> tfds.core.DatasetBuilder:
  """The TFDS builder of corpus `spec` writing to / reading from `data_dir`."""
  name, _ = parse_spec(spec)
  config = resolve_config(spec, **overrides)
  kwargs = dict(builder_kwargs or {})
  if config is not None:
    kwargs["config"] = config
  return builder_class(name)(data_dir=data_dir, **kwargs)


def raw_source(builder: tfds.core.DatasetBuilder, split: str):
  """A split's data source whose image features stay encoded bytes (cheap to read)."""
  skip = {
    name: tfds.decode.SkipDecoding()
    for name, feature in builder.info.features.items()
    if isinstance(feature, tfds.features.Image)
  }
  return builder.as_data_source(split=split, decoders=skip)


def catalogue() -> str:
  """A human-readable list of every corpus and its configs."""
  lines = []
  for name in sorted(builder_classes()):
    configs = config_names(name)
    lines.append(f"  {name}" + (f": {', '.join(configs)}" if configs else ""))
  return "\n".join(lines)
