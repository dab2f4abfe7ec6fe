"""Builds a corpus of `tfds_builders/` into a TFDS data directory (array_record, no TensorFlow).

    python -m fakenas_jax.prepare --dataset=synthetic_faces/studio --data_dir=~/tensorflow_datasets
    python -m fakenas_jax.prepare --dataset=synthetic_faces/wild --data_dir=/tmp/tfds \
        --override=resolution=128 --override=identities=20,4,4
    python -m fakenas_jax.prepare --list
    python -m fakenas_jax.prepare --dataset=synthetic_faces/studio --rebuild   # a damaged build
"""

from absl import flags

from fakenas_jax import cli
from fakenas_jax.data import corpora, overrides, preparation

_DATASET = flags.DEFINE_string("dataset", "synthetic_faces", "Corpus as NAME[/CONFIG].")
_DATA_DIR = flags.DEFINE_string("data_dir", "~/tensorflow_datasets", "TFDS data directory.")
_MANUAL_DIR = flags.DEFINE_string("manual_dir", None, "Where a gated corpus was downloaded to.")
_OVERRIDE = flags.DEFINE_multi_string(
  "override", [], "Config field override KEY=VALUE (repeatable); makes a separately stored config."
)
_LIST = flags.DEFINE_bool("list", False, "List the corpora and their configs, then exit.")
_REBUILD = flags.DEFINE_bool(
  "rebuild",
  False,
  "Delete a complete build of the corpus and build it again (e.g. one whose "
  "files fail their checksums).",
)


def main(argv):
  del argv
  if _LIST.value:
    print(corpora.catalogue())
    return 0
  config = corpora.resolve_config(_DATASET.value)
  summary = preparation.prepare(
    _DATASET.value,
    _DATA_DIR.value,
    manual_dir=_MANUAL_DIR.value,
    overrides=overrides.parse(_OVERRIDE.value, config),
    rebuild=_REBUILD.value,
  )
  print(summary.render())
  return 0


if __name__ == "__main__":
  cli.run(main, workdir_flag="data_dir")
