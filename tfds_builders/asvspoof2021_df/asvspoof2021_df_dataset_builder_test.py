"""The asvspoof2021_df builder, built for real from FLAC files and a trial_metadata.txt."""

import pytest

from fakenas_jax.data import corpora, preparation
from tfds_builders import asvspoof_protocol
from tfds_builders.asvspoof2021_df import asvspoof2021_df_dataset_builder as df21

ROWS = [
  (
    "eval",
    "LA_0043 DF_E_2000026 mp3m4a asvspoof A09 spoof notrim eval traditional_vocoder - - - -".split(),
    "ok",
  ),
  (
    "eval",
    "LA_0023 DF_E_2000011 nocodec asvspoof - bonafide notrim progress bonafide - - - -".split(),
    "ok",
  ),
  (
    "eval",
    "VCC2TF1 DF_E_2000100 ogg vcc2020 Task1-team20 spoof notrim eval neural_vocoder_autoregressive Task1 team20 F-F Eng".split(),
    "ok",
  ),
  (
    "eval",
    "VCC2TM1 DF_E_2000101 ogg vcc2018 - bonafide notrim eval bonafide - - - -".split(),
    "empty",
  ),
]


def test_examples_hold_audio_keys_and_conditions(tmp_path):
  written = asvspoof_protocol.write_dummy_corpus(tmp_path / "manual", df21.Builder, ROWS)
  summary = preparation.prepare(
    "asvspoof2021_df", tmp_path / "tfds", manual_dir=str(tmp_path / "manual")
  )
  assert (summary.splits["eval"].examples, summary.splits["eval"].fake) == (3, 2)
  assert [item["reason"] for item in summary.skipped] == ["empty file"]
  source = corpora.load_builder("asvspoof2021_df", str(tmp_path / "tfds")).as_data_source("eval")
  examples = {source[i]["utterance_id"].decode(): source[i] for i in range(len(source))}
  assert set(examples) == set(written)
  vcc = examples["DF_E_2000100"]
  assert (vcc["attack_id"], vcc["source"], vcc["codec"], vcc["vocoder"]) == (
    b"Task1-team20",
    b"vcc2020",
    b"ogg",
    b"neural_vocoder_autoregressive",
  )
  assert examples["DF_E_2000011"]["attack_id"] == b"-" and examples["DF_E_2000011"]["label"] == 0


def test_an_la_key_file_in_the_df_builder_names_the_expected_columns(tmp_path):
  path = tmp_path / "trial_metadata.txt"
  path.write_text("LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval\n")
  with pytest.raises(
    asvspoof_protocol.ProtocolError,
    match=r"line 1: unknown column layout \(8 columns\).*13 columns: SPEAKER TRIAL "
    r"CODEC SOURCE ATTACK KEY",
  ):
    asvspoof_protocol.read_protocol(path, df21.LAYOUT)
