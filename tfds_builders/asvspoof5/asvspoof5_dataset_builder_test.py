"""The asvspoof5 builder, built for real from FLAC files and its three protocol files."""

import numpy as np
import pytest

from fakenas_jax.data import corpora, preparation, speech_pipeline
from tfds_builders import asvspoof_protocol
from tfds_builders.asvspoof5 import asvspoof5_dataset_builder as five

ROWS = [
  ("train", "T_4850 T_0000000000 F - - - AC3 A05 spoof -".split(), "ok"),
  ("train", "T_4850 T_0000000001 F - - - bonafide bonafide bonafide -".split(), "ok"),
  ("train", "T_1000 T_0000000002 M - - - AC1 A01 spoof -".split(), "44k"),
  ("dev", "D_0062 D_0000000001 M - - - AC2 A11 spoof -".split(), "ok"),
  ("dev", "D_0062 D_0000000002 M - - - bonafide bonafide bonafide -".split(), "ok"),
  ("eval", "E_0001 E_0000000001 F C05 3 2 AC3 A20 spoof -".split(), "ok"),
  ("eval", "E_0001 E_0000000002 F - 0 0 bonafide bonafide bonafide -".split(), "ok"),
  ("eval", "E_0002 E_0000000003 M C11 7 1 AC1 A32 spoof -".split(), "ok"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  manual_dir = tmp_path_factory.mktemp("asvspoof5")
  written = asvspoof_protocol.write_dummy_corpus(manual_dir, five.Builder, ROWS)
  data_dir = tmp_path_factory.mktemp("tfds")
  summary = preparation.prepare("asvspoof5", data_dir, manual_dir=str(manual_dir))
  return summary, corpora.load_builder("asvspoof5", str(data_dir)), written


def test_splits_attacks_and_metadata(built):
  summary, builder, written = built
  assert {split: (c.examples, c.real, c.fake) for split, c in summary.splits.items()} == {
    "train": (2, 1, 1),
    "dev": (2, 1, 1),
    "eval": (3, 1, 2),
  }
  assert "44100" in summary.skipped[0]["reason"]
  source = builder.as_data_source("eval")
  examples = {source[i]["utterance_id"].decode(): source[i] for i in range(len(source))}
  coded = examples["E_0000000001"]
  assert (
    coded["attack_id"],
    coded["codec"],
    coded["codec_q"],
    coded["attack_tag"],
    coded["speaker_gender"],
  ) == (b"A20", b"C05", b"3", b"AC3", b"F")
  assert examples["E_0000000002"]["attack_id"] == b"-"
  np.testing.assert_array_equal(examples["E_0000000003"]["audio"], written["E_0000000003"])
  # The speech pipeline reads it as any speech corpus: attack ids for per-attack tables.
  table = speech_pipeline.read_utterance_table(source)
  assert table.attack_names == ("-", "A20", "A32")


def test_a_header_line_is_skipped_and_unknown_layouts_are_refused(tmp_path):
  path = tmp_path / "ASVspoof5.train.tsv"
  path.write_text(" ".join(five.LAYOUT.columns) + "\nT_1 T_01 F - - - AC3 A05 spoof -\n")
  assert [e.utterance_id for e in asvspoof_protocol.read_protocol(path, five.LAYOUT)] == ["T_01"]
  path.write_text("T_1 T_01 F - - - AC3 A05 spoof\n")  # the 9 columns of an older release
  with pytest.raises(
    asvspoof_protocol.ProtocolError,
    match=r"line 1: unknown column layout \(9 columns\); the ASVspoof 5 protocol "
    r"has 10 columns: SPEAKER_ID FLAC_FILE_NAME SPEAKER_GENDER CODEC "
    r"CODEC_Q CODEC_SEED ATTACK_TAG ATTACK_LABEL KEY TMP",
  ):
    asvspoof_protocol.read_protocol(path, five.LAYOUT)


def test_missing_folders_are_named(tmp_path):
  (tmp_path / "manual" / "flac_T").mkdir(parents=True)
  with pytest.raises(asvspoof_protocol.ManualDirError) as error:
    preparation.prepare("asvspoof5", tmp_path / "tfds", manual_dir=str(tmp_path / "manual"))
  message = str(error.value).split("Expected layout")[0]
  assert "flac_D" in message and "ASVspoof5.eval.track_1.tsv" in message
  assert "flac_T\n" not in message
