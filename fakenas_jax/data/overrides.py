"""Parsing `KEY=VALUE` overrides of a dataclass config (e.g. a builder config) from the command line.

The type of each value is taken from the field's current value: ints, floats, bools, strings,
and tuples of those written comma-separated (`identities=20,4,4`).
"""

from __future__ import annotations

import dataclasses
from typing import Any


class OverrideError(ValueError):
  """An override that names no field or does not parse as the field's type."""


def _convert(text: str, like: Any) -> Any:
  if isinstance(like, bool):
    if text.lower() in ("1", "true", "yes"):
      return True
    if text.lower() in ("0", "false", "no"):
      return False
    raise ValueError(f"not a boolean: {text!r}")
  if isinstance(like, tuple):
    items = [item for item in text.split(",") if item.strip()]
    element = like[0] if like else ""
    return tuple(_convert(item.strip(), element) for item in items)
  if isinstance(like, (int, float)):
    return type(like)(text)
  return text


def parse(pairs: list[str], config: Any) -> dict[str, Any]:
  """`['a=1', 'b=x,y']` -> `{'a': 1, 'b': ('x', 'y')}`, typed after `config`'s fields."""
  if not pairs:
    return {}
  if config is None or not dataclasses.is_dataclass(config):
    raise OverrideError("this dataset has no config to override")
  values = {}
  for pair in pairs:
    key, sep, text = pair.partition("=")
    key = key.strip()
    if not sep or not hasattr(config, key):
      fields = sorted(field.name for field in dataclasses.fields(config))
      raise OverrideError(
        f"bad override {pair!r}: expected KEY=VALUE with KEY one of {', '.join(fields)}"
      )
    try:
      values[key] = _convert(text.strip(), getattr(config, key))
    except ValueError as error:
      raise OverrideError(f"bad override {pair!r}: {error}") from error
  return values
