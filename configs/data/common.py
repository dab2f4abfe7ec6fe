"""What the data configs share: where corpora live, and the commands that build them.

A data config (`configs/data/*.py`) holds data fields only, for train / evaluate / search
configs to take over (`config.update(data_config.get_config())`):

* `dataset` — the training corpus, NAME/CONFIG;
* `data_dir` — the TFDS data directory every corpus is built into;
* `manual_dir` — where the training corpus was downloaded (the gated corpora);
* `corpus_overrides` — builder-config fields every corpus of the config is built with, where
  they differ from the builders' defaults (64-pixel crops, 20 / 10 / 10 frames per video): the
  same values must be given to `prepare`, since an overridden config is stored under its own
  name (so a protocol at the defaults reads the plainly named builds);
* `image_size` — the network input side (the pipeline resizes the stored crops);
* `eval_corpora` — the test corpora as NAME/CONFIG:SPLIT (the format of configs/eval): ':all' is
  the whole corpus (train+validation+test), for protocols that test on "entire videos";
* `manual_dirs` — corpus name -> download directory, for every corpus the config names.

`prepare_commands(config)` lists the `python -m fakenas_jax.prepare` commands that build every
corpus a config needs. Download directories default to ~/data/<name>; point them elsewhere with
`--config.manual_dirs.celeb_df=/path` or edit DEFAULT_MANUAL_DIRS.
"""

from __future__ import annotations

import dataclasses
import os

import ml_collections

from fakenas_jax.data import face_corpus

DATA_DIR = os.path.expanduser("~/tensorflow_datasets")
DEFAULT_MANUAL_DIRS = {
  "faceforensics": "~/data/FaceForensics++",
  "dfd": "~/data/FaceForensics++",  # DFD is part of the FaceForensics++ download
  "celeb_df": "~/data/Celeb-DF-v2",
  "wild_deepfake": "~/data/deepfake_in_the_wild",
  "dfdc_preview": "~/data/dfdc_preview",
  "uadfv": "~/data/UADFV",
  "df_timit": "~/data/DF-TIMIT",
}
FDNAS_CROP = 64  # FD-NAS §4.1: inputs resized to 64 x 64 (32 x 32 during search)
ADD_CROP = 256  # ADD §IV-A: face regions resized to 256 x 256
BIGARTS_CROP = 256  # BiG-Arts §4.1: input images 256 x 256


def corpus_name(spec: str) -> str:
  """'celeb_df/official:test' -> 'celeb_df'."""
  return spec.split(":")[0].split("/")[0]


def data_config(
  dataset: str, *, eval_corpora: tuple[str, ...] = (), crop_size: int, image_size: int, **overrides
) -> ml_collections.ConfigDict:
  """A data config: train on `dataset`, test on `eval_corpora`, crops of `crop_size` pixels."""
  config = ml_collections.ConfigDict()
  config.dataset = dataset
  config.data_dir = DATA_DIR
  names = dict.fromkeys(corpus_name(spec) for spec in (dataset, *eval_corpora))
  config.manual_dirs = ml_collections.ConfigDict(
    {name: os.path.expanduser(DEFAULT_MANUAL_DIRS[name]) for name in names}
  )
  config.manual_dir = config.manual_dirs.get_ref(corpus_name(dataset))  # follows manual_dirs
  defaults = {
    field.name: field.default for field in dataclasses.fields(face_corpus.FaceCorpusConfig)
  }
  config.corpus_overrides = ml_collections.ConfigDict(
    {
      key: value
      for key, value in dict(crop_size=crop_size, **overrides).items()
      if value != defaults[key]
    }
  )
  config.image_size = image_size
  config.eval_corpora = tuple(eval_corpora)
  return config


def prepare_commands(config: ml_collections.ConfigDict) -> list[str]:
  """The `prepare` commands that build every corpus `config` trains or tests on, in order."""
  specs = dict.fromkeys(spec.split(":")[0] for spec in (config.dataset, *config.eval_corpora))
  flags = "".join(
    f" --override={key}={','.join(map(str, value)) if isinstance(value, tuple) else value}"
    for key, value in sorted(config.corpus_overrides.items())
  )
  return [
    f"python -m fakenas_jax.prepare --dataset={spec} "
    f"--manual_dir={config.manual_dirs[corpus_name(spec)]} --data_dir={config.data_dir}"
    f"{flags}"
    for spec in specs
  ]
