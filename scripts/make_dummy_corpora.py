"""Writes tiny copies of the gated face corpora in their official layouts, made of real media.

    python scripts/make_dummy_corpora.py --out=/tmp/dummy_corpora
    python scripts/make_dummy_corpora.py --out=/tmp/dummy_corpora --corpus=celeb_df --corpus=dfd
    python -m fakenas_jax.prepare --dataset=celeb_df/official \
        --manual_dir=/tmp/dummy_corpora/celeb_df --data_dir=/tmp/tfds

Each corpus goes to OUT/<corpus>/, a manual directory `prepare` builds from: short OpenCV videos
(or frame folders) of real face photographs, face swaps of them, and the bad cases of a real
download (a corrupt file, a faceless video, a split entry naming a missing file). The writers
are `tfds_builders/<corpus>/dummy_data.py`; the builders' tests use the same ones.
"""

from __future__ import annotations

import importlib
import pathlib
import time

from absl import app, flags

from fakenas_jax.data import corpora

_OUT = flags.DEFINE_string("out", None, "Directory to write the corpora into.", required=True)
_CORPUS = flags.DEFINE_multi_string("corpus", [], "Corpus to write (repeatable; default: all).")


def dummy_writers() -> dict:
  """corpus name -> its `write_dummy_corpus`, for every builder that has dummy data."""
  writers = {}
  for name in sorted(corpora.builder_classes()):
    try:
      module = importlib.import_module(f"tfds_builders.{name}.dummy_data")
    except ModuleNotFoundError:
      continue
    writers[name] = module.write_dummy_corpus
  return writers


def main(argv):
  del argv
  writers = dummy_writers()
  unknown = sorted(set(_CORPUS.value) - set(writers))
  if unknown:
    raise app.UsageError(f"No dummy data for {', '.join(unknown)}; known: {', '.join(writers)}")
  for name in _CORPUS.value or writers:
    start = time.perf_counter()
    root = writers[name](pathlib.Path(_OUT.value).expanduser() / name)
    print(f"{name}: {root} ({time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
  app.run(main)
