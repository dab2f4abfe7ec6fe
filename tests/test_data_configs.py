"""The data configs of the papers' protocols: every corpus they name exists and builds alike."""

import importlib
import pathlib
import shlex

import pytest

from configs.data import common
from fakenas_jax.data import corpora, overrides

CONFIGS = [
  ("fdnas_ffpp", None),
  ("fdnas_ffpp", "c40"),
  ("fdnas_in_dataset", None),
  ("fdnas_in_dataset", "wild_deepfake"),
  ("fdnas_in_dataset", "dfdc_preview"),
  ("fdnas_cross_search", None),
  ("add_ffpp", None),
  ("add_ffpp", "deepfakes_c40"),
  ("add_ffpp", "neuraltextures_c23"),
  ("add_face2face_to_faceswap", None),
  ("add_celeb_df", None),
  ("bigarts_celeb_df", None),
]
SPLITS = ("train", "validation", "test", "all")


def _load(name, variant):
  module = importlib.import_module(f"configs.data.{name}")
  return module.get_config() if variant is None else module.get_config(variant)


def test_every_data_config_file_is_listed():
  folder = pathlib.Path(common.__file__).parent
  files = {p.stem for p in folder.glob("*.py")} - {"__init__", "common"}
  assert files == {name for name, _ in CONFIGS}


@pytest.mark.parametrize("name,variant", CONFIGS)
def test_corpora_resolve_with_the_overrides(name, variant):
  config = _load(name, variant)
  values = dict(config.corpus_overrides)
  specs = [config.dataset] + [spec for spec in config.eval_corpora]
  for spec in specs:
    corpus, _, split = spec.partition(":")
    assert split in ("",) + SPLITS
    resolved = corpora.resolve_config(corpus, **values)
    assert resolved.crop_size == values.get("crop_size", 64)
    assert corpora.builder_class(common.corpus_name(spec)).MANUAL_DOWNLOAD_INSTRUCTIONS
  assert config.manual_dir == config.manual_dirs[common.corpus_name(config.dataset)]
  assert set(config.manual_dirs) == {common.corpus_name(spec) for spec in specs}
  for corpus in config.get("cross_dataset", {}).get("datasets", ()):
    corpora.resolve_config(corpus, **values)


@pytest.mark.parametrize("name,variant", CONFIGS)
def test_prepare_commands_build_what_the_config_reads(name, variant):
  """The overrides a command passes give the config name the training side resolves."""
  config = _load(name, variant)
  commands = common.prepare_commands(config)
  assert len(commands) == len({s.split(":")[0] for s in (config.dataset, *config.eval_corpora)})
  for command in commands:
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "fakenas_jax.prepare"]
    flags = dict(word[2:].split("=", 1) for word in words[3:] if not word.startswith("--override="))
    pairs = [word[len("--override=") :] for word in words[3:] if word.startswith("--override=")]
    spec = flags["dataset"]
    parsed = overrides.parse(pairs, corpora.resolve_config(spec))
    assert (
      corpora.resolve_config(spec, **parsed).name
      == corpora.resolve_config(spec, **dict(config.corpus_overrides)).name
    )
    assert flags["manual_dir"] == config.manual_dirs[common.corpus_name(spec)]


@pytest.mark.parametrize("name,variant", [c for c in CONFIGS if c[0].startswith("fdnas")])
def test_fdnas_protocols_read_the_default_builds(name, variant):
  """FD-NAS's 64-pixel crops and 20 / 10 / 10 frames are the builders' defaults: no override, so
  these protocols read the plainly named configs (faceforensics/all_c23, ...)."""
  config = _load(name, variant)
  assert not config.corpus_overrides
  assert all("--override" not in command for command in common.prepare_commands(config))


def test_manual_dir_follows_manual_dirs():
  config = _load("add_celeb_df", None)
  config.manual_dirs.celeb_df = "/data/celeb"
  assert config.manual_dir == "/data/celeb"


@pytest.mark.parametrize(
  "name,variant",
  [("fdnas_ffpp", "c30"), ("fdnas_in_dataset", "dfd"), ("add_ffpp", "faceshifter_c23")],
)
def test_unknown_variants_are_refused(name, variant):
  with pytest.raises(ValueError, match="unknown variant"):
    _load(name, variant)
