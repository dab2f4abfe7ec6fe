"""A corpus ready to read: built on first use when it needs no download, a clear error otherwise.

builder = prepared_builder("synthetic_faces/celeb", "runs/tfds", {"resolution": 64})
source = builder.as_data_source("test")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
from jax.experimental import multihost_utils

from fakenas_jax.data import corpora, preparation


def prepared_builder(
  spec: str, data_dir: str, overrides: Mapping[str, Any] | None = None, *, verbose: bool = True
):
  """The TFDS builder of `spec` in `data_dir`, building a download-free corpus if needed."""
  overrides = dict(overrides or {})
  builder = corpora.load_builder(spec, data_dir, **overrides)
  if builder.is_prepared():
    return builder
  if getattr(builder, "MANUAL_DOWNLOAD_INSTRUCTIONS", None):
    flags = " ".join(f"--override={k}={v}" for k, v in overrides.items())
    raise FileNotFoundError(
      f"corpus {spec} is not built in {data_dir}; run: python -m fakenas_jax.prepare "
      f"--dataset={spec} --data_dir={data_dir} --manual_dir=<where you downloaded it> "
      f"{flags}".strip()
    )
  if jax.process_count() > 1:  # process 0 builds, the others wait for it
    if jax.process_index() == 0:
      summary = preparation.prepare(spec, data_dir, overrides=overrides)
    multihost_utils.sync_global_devices(f"prepared {spec}")
  else:
    summary = preparation.prepare(spec, data_dir, overrides=overrides)
  if verbose and jax.process_index() == 0:
    print(summary.render(), flush=True)
  return corpora.load_builder(spec, data_dir, **overrides)


def split_source(builder, split: str):
  """`builder.as_data_source(split)`, with the available splits named when it does not exist."""
  splits = sorted(builder.info.splits.keys())
  if split not in splits:
    raise ValueError(
      f"corpus {builder.info.full_name} has no split {split!r}; it has {', '.join(splits)}"
    )
  return builder.as_data_source(split)
