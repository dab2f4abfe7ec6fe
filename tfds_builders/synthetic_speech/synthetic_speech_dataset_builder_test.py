"""The synthetic_speech builder, built for real at its tiny size and read back."""

import collections

import numpy as np
import pytest

from fakenas_jax.data import corpora, preparation, synthetic_speech
from tfds_builders.synthetic_speech import synthetic_speech_dataset_builder as ssb

SPEC = "synthetic_speech/tiny"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  data_dir = tmp_path_factory.mktemp("tfds")
  summary = preparation.prepare(SPEC, data_dir, builder_kwargs={"num_workers": 1})
  return summary, corpora.load_builder(SPEC, str(data_dir))


def _records(builder, split):
  source = builder.as_data_source(split)
  return [source[i] for i in range(len(source))]


def test_counts_follow_the_plan(tiny):
  summary, builder = tiny
  config = builder.builder_config
  for split, speakers in zip(ssb.SPLITS, config.speakers):
    attacks = synthetic_speech.SPLIT_ATTACKS[split]
    counts = summary.splits[split]
    assert counts.real == speakers * config.bonafide_per_speaker
    assert counts.fake == speakers * config.spoofs_per_attack * len(attacks)
    assert counts.examples == len(ssb.utterance_specs(config, split))
  assert summary.skipped == []


def test_labels_attacks_and_speakers(tiny):
  _, builder = tiny
  config = builder.builder_config
  speakers = {}
  for split in ssb.SPLITS:
    records = _records(builder, split)
    attacks = collections.Counter(r["attack_id"].decode() for r in records)
    assert set(attacks) == {ssb.BONAFIDE, *synthetic_speech.SPLIT_ATTACKS[split]}
    for record in records:
      is_bonafide = record["attack_id"].decode() == ssb.BONAFIDE
      assert int(record["label"]) == (0 if is_bonafide else 1)
      audio = record["audio"]
      assert audio.dtype == np.int16 and audio.ndim == 1
      low, high = config.seconds
      assert low * 16000 - 80 <= audio.size <= high * 16000 + 80
      assert np.abs(audio).max() > 1000  # not silent
    speakers[split] = {r["speaker"].decode() for r in records}
    assert len({r["utterance_id"] for r in records}) == len(records)
  assert not speakers["train"] & speakers["dev"] and not speakers["train"] & speakers["eval"]
  assert not speakers["dev"] & speakers["eval"]
  assert ssb.BONAFIDE == synthetic_speech.BONAFIDE


def test_stored_audio_is_the_generator_output(tiny):
  _, builder = tiny
  config = builder.builder_config
  spec = ssb.utterance_specs(config, "eval")[-1]
  _, example = ssb.generate_example(spec, config.seconds, config.seed)
  stored = {r["utterance_id"].decode(): r for r in _records(builder, "eval")}[spec.utterance_id]
  np.testing.assert_array_equal(stored["audio"], example["audio"])
  assert stored["attack_id"].decode() == spec.attack_id


def test_same_bytes_whatever_the_workers(tiny, tmp_path):
  overrides = dict(speakers=(1, 1, 1), bonafide_per_speaker=1, spoofs_per_attack=1)
  preparation.prepare(
    SPEC, tmp_path / "one", overrides=overrides, builder_kwargs={"num_workers": 1}
  )
  preparation.prepare(
    SPEC, tmp_path / "two", overrides=overrides, builder_kwargs={"num_workers": 2}
  )
  one = corpora.load_builder(SPEC, str(tmp_path / "one"), **overrides)
  two = corpora.load_builder(SPEC, str(tmp_path / "two"), **overrides)
  for split in ssb.SPLITS:
    a = sorted((r["utterance_id"], r["audio"].tobytes()) for r in _records(one, split))
    b = sorted((r["utterance_id"], r["audio"].tobytes()) for r in _records(two, split))
    assert a == b


@pytest.mark.parametrize(
  "bad", [dict(speakers=(1, 0, 1)), dict(bonafide_per_speaker=0), dict(seconds=(3.0, 1.0))]
)
def test_bad_configs_are_refused(bad):
  with pytest.raises(ValueError):
    ssb.SyntheticSpeechConfig(name="bad", **bad)


def test_the_corpus_needs_no_download():
  """A builder without manual-download instructions is built on demand by the search."""
  assert not getattr(ssb.Builder, "MANUAL_DOWNLOAD_INSTRUCTIONS", None)
  assert "synthetic_speech" in corpora.builder_classes()
  assert corpora.config_names("synthetic_speech") == ["default", "tiny"]
