"""The asvspoof2021_la builder, built for real from FLAC files and a trial_metadata.txt."""

import numpy as np
import pytest

from fakenas_jax.data import corpora, preparation
from tfds_builders import asvspoof_protocol
from tfds_builders.asvspoof2021_la import asvspoof2021_la_dataset_builder as la21

ROWS = [
  ("eval", "LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval".split(), "ok"),
  ("eval", "LA_0009 LA_E_5464494 alaw ita_tx bonafide bonafide notrim eval".split(), "ok"),
  ("eval", "LA_0010 LA_E_1000003 none - A19 spoof notrim progress".split(), "ok"),
  ("eval", "LA_0010 LA_E_1000004 none - - bonafide trim hidden_track".split(), "ok"),
  ("eval", "LA_0010 LA_E_1000005 gsm loc_tx A10 spoof notrim eval".split(), "corrupt"),
  ("eval", "LA_0011 LA_E_1000006 g722 sin_tx A11 spoof notrim eval".split(), "missing"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  manual_dir = tmp_path_factory.mktemp("asvspoof2021_la")
  written = asvspoof_protocol.write_dummy_corpus(manual_dir, la21.Builder, ROWS)
  data_dir = tmp_path_factory.mktemp("tfds")
  summary = preparation.prepare("asvspoof2021_la", data_dir, manual_dir=str(manual_dir))
  return summary, corpora.load_builder("asvspoof2021_la", str(data_dir)), written


def test_examples_hold_audio_keys_and_conditions(built):
  summary, builder, written = built
  assert (summary.splits["eval"].examples, summary.splits["eval"].real) == (4, 2)
  reasons = {item["item"]: item["reason"] for item in summary.skipped}
  assert reasons["LA_E_1000006"] == "file not found"
  assert reasons["LA_E_1000005"].startswith("unreadable")
  source = builder.as_data_source("eval")
  examples = {source[i]["utterance_id"].decode(): source[i] for i in range(len(source))}
  assert set(examples) == set(written)
  spoof = examples["LA_E_9332881"]
  assert (spoof["attack_id"], spoof["codec"], spoof["transmission"], spoof["subset"]) == (
    b"A07",
    b"alaw",
    b"ita_tx",
    b"eval",
  )
  assert int(spoof["label"]) == 1 and spoof["speaker"] == b"LA_0009"
  # Bona fide speech is '-' whether the protocol says 'bonafide' or '-'.
  assert examples["LA_E_5464494"]["attack_id"] == examples["LA_E_1000004"]["attack_id"] == b"-"
  assert examples["LA_E_1000004"]["trim"] == b"trim"
  for name, samples in written.items():
    np.testing.assert_array_equal(examples[name]["audio"], samples)


def test_an_unknown_column_layout_names_the_expected_columns(tmp_path):
  path = tmp_path / "trial_metadata.txt"
  # A 2019-style line in a 2021 key file.
  path.write_text("LA_0009 LA_E_1 alaw ita_tx A07 spoof notrim eval\nLA_0079 LA_E_2 - A01 spoof\n")
  with pytest.raises(
    asvspoof_protocol.ProtocolError,
    match=r"line 2: unknown column layout \(5 columns\).*8 columns: SPEAKER TRIAL "
    r"CODEC TRANSMISSION ATTACK KEY TRIM SUBSET",
  ):
    asvspoof_protocol.read_protocol(path, la21.LAYOUT)
  path.write_text("LA_0009 LA_E_1 alaw ita_tx A07 fake notrim eval\n")
  with pytest.raises(asvspoof_protocol.ProtocolError, match="KEY is 'fake'"):
    asvspoof_protocol.read_protocol(path, la21.LAYOUT)
  path.write_text("LA_0009 LA_E_1 alaw ita_tx - spoof notrim eval\n")
  with pytest.raises(asvspoof_protocol.ProtocolError, match="attack id in ATTACK"):
    asvspoof_protocol.read_protocol(path, la21.LAYOUT)


def test_missing_keys_are_named(tmp_path):
  (tmp_path / "manual" / "ASVspoof2021_LA_eval" / "flac").mkdir(parents=True)
  with pytest.raises(asvspoof_protocol.ManualDirError, match="keys/LA/CM/trial_metadata.txt"):
    preparation.prepare("asvspoof2021_la", tmp_path / "tfds", manual_dir=str(tmp_path / "manual"))
