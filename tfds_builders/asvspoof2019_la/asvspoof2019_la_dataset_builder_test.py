"""The asvspoof2019_la builder, built for real from FLAC files and protocols written here."""

import pathlib

import numpy as np
import pytest
import soundfile

from fakenas_jax.data import corpora, preparation
from tfds_builders.asvspoof2019_la import asvspoof2019_la_dataset_builder as la

# (split, speaker, file, system, key, what is on disk)
LINES = [
  ("train", "LA_0079", "LA_T_1000001", "-", "bonafide", "ok"),
  ("train", "LA_0079", "LA_T_1000002", "A01", "spoof", "ok"),
  ("train", "LA_0080", "LA_T_1000003", "A06", "spoof", "ok"),
  ("train", "LA_0080", "LA_T_1000004", "A02", "spoof", "missing"),
  ("train", "LA_0080", "LA_T_1000005", "-", "bonafide", "empty"),
  ("dev", "LA_0069", "LA_D_1000001", "-", "bonafide", "ok"),
  ("dev", "LA_0069", "LA_D_1000002", "A03", "spoof", "corrupt"),
  ("dev", "LA_0069", "LA_D_1000003", "A04", "spoof", "44k"),
  ("dev", "LA_0070", "LA_D_1000004", "A05", "spoof", "ok"),
  ("eval", "LA_0039", "LA_E_1000001", "A16", "spoof", "ok"),
  ("eval", "LA_0039", "LA_E_1000002", "-", "bonafide", "ok"),
  ("eval", "LA_0040", "LA_E_1000003", "A19", "spoof", "ok"),
  ("eval", "LA_0040", "LA_E_1000003", "A19", "spoof", "ok"),  # listed twice
]


def _write_corpus(manual_dir: pathlib.Path) -> dict[str, np.ndarray]:
  """The dummy corpus below `manual_dir/LA`; returns the samples written for each file."""
  root = manual_dir / "LA"
  rng = np.random.default_rng(0)
  written = {}
  protocols = {split: [] for split in la.SPLITS}
  for split in la.SPLITS:
    la.audio_dir(root, split).mkdir(parents=True)
  (root / la.PROTOCOL_DIR).mkdir()
  for split, speaker, name, system, key, state in LINES:
    protocols[split].append(f"{speaker} {name} - {system} {key}")
    path = la.audio_dir(root, split) / f"{name}.flac"
    samples = rng.integers(-20000, 20000, int(rng.integers(3000, 9000))).astype(np.int16)
    if state == "ok":
      soundfile.write(str(path), samples, la.SAMPLE_RATE, subtype="PCM_16")
      written[name] = samples
    elif state == "empty":
      path.write_bytes(b"")
    elif state == "corrupt":
      path.write_bytes(b"fLaC not really a flac file" * 10)
    elif state == "44k":
      soundfile.write(str(path), samples, 44100, subtype="PCM_16")
  for split in la.SPLITS:
    la.protocol_path(root, split).write_text("\n".join(protocols[split]) + "\n")
  return written


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  manual_dir = tmp_path_factory.mktemp("asvspoof")
  written = _write_corpus(manual_dir)
  data_dir = tmp_path_factory.mktemp("tfds")
  summary = preparation.prepare("asvspoof2019_la", data_dir, manual_dir=str(manual_dir))
  return summary, corpora.load_builder("asvspoof2019_la", str(data_dir)), written, manual_dir


def test_counts_labels_and_skips(built):
  summary, _, _, _ = built
  assert {split: (c.examples, c.real, c.fake) for split, c in summary.splits.items()} == {
    "train": (3, 1, 2),
    "dev": (2, 1, 1),
    "eval": (3, 1, 2),
  }
  reasons = {(item["split"], item["item"]): item["reason"] for item in summary.skipped}
  assert reasons.keys() == {
    ("train", "LA_T_1000004"),
    ("train", "LA_T_1000005"),
    ("dev", "LA_D_1000002"),
    ("dev", "LA_D_1000003"),
    ("eval", "LA_E_1000003"),
  }
  assert reasons["train", "LA_T_1000004"] == "file not found"
  assert reasons["train", "LA_T_1000005"] == "empty file"
  assert reasons["dev", "LA_D_1000002"].startswith("unreadable")
  assert "44100" in reasons["dev", "LA_D_1000003"]
  assert reasons["eval", "LA_E_1000003"] == "listed twice"
  assert "skipped 5 item(s)" in summary.render()


def test_examples_hold_the_audio_and_the_protocol_fields(built):
  _, builder, written, _ = built
  expected = {name: (speaker, system, key) for _, speaker, name, system, key, _ in LINES}
  seen = set()
  for split in la.SPLITS:
    source = builder.as_data_source(split)
    for index in range(len(source)):
      example = source[index]
      name = example["utterance_id"].decode()
      speaker, system, key = expected[name]
      assert example["speaker"].decode() == speaker
      assert example["attack_id"].decode() == system
      assert int(example["label"]) == la.LABELS.index(key) == (0 if key == "bonafide" else 1)
      assert example["audio"].dtype == np.int16
      np.testing.assert_array_equal(example["audio"], written[name])
      seen.add(name)
  assert seen == set(written)


def test_missing_folders_are_named(tmp_path):
  manual_dir = tmp_path / "manual"
  (manual_dir / "LA" / la.PROTOCOL_DIR).mkdir(parents=True)
  la.audio_dir(manual_dir / "LA", "dev").mkdir(parents=True)
  with pytest.raises(la.ManualDirError) as error:
    preparation.prepare("asvspoof2019_la", tmp_path / "tfds", manual_dir=str(manual_dir))
  message = str(error.value)
  assert "ASVspoof2019_LA_train/flac" in message and "ASVspoof2019_LA_eval/flac" in message
  assert "ASVspoof2019.LA.cm.train.trn.txt" in message
  assert "ASVspoof2019_LA_dev/flac" not in message.split("Expected layout")[0]


def test_the_la_directory_itself_is_accepted(tmp_path):
  (tmp_path / la.PROTOCOL_DIR).mkdir()
  assert la.corpus_root(tmp_path) == tmp_path
  assert la.corpus_root(tmp_path.parent) == tmp_path.parent / "LA"


def test_malformed_protocol_lines_name_file_and_line(tmp_path):
  path = tmp_path / "protocol.txt"
  path.write_text("LA_0079 LA_T_1 - - bonafide\nLA_0079 LA_T_2 - - spoof\n")
  with pytest.raises(la.ProtocolError, match=r"protocol.txt, line 2"):
    la.read_protocol(path)
  path.write_text("LA_0079 LA_T_1 - A01\n")
  with pytest.raises(la.ProtocolError, match="line 1"):
    la.read_protocol(path)
