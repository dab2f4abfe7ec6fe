"""asvspoof2019_la: the ASVspoof 2019 logical-access (LA) spoofing corpus, from its FLAC files.

The countermeasure (CM) protocol of each partition lists one utterance a line:
`SPEAKER FILE - SYSTEM KEY`, e.g. `LA_0079 LA_T_1138215 - - bonafide` or
`LA_0079 LA_T_1004644 - A01 spoof`: SYSTEM is '-' for bona fide speech and the spoofing system
(A01–A06 in train and dev, A07–A19 in eval) otherwise. Every listed utterance becomes one
example in the data model of the speech corpora (WORKSPACE.md, Data model): `audio` (16 kHz mono 16-bit PCM,
read losslessly from the FLAC file), `label` (0 bonafide, 1 spoof; a CM score is higher for
bona fide), `attack_id` (SYSTEM), `speaker` and `utterance_id` (FILE). Splits `train`, `dev`
and `eval` are the three partitions (train: 2,580 bona fide + 22,800 spoofed utterances).

A listed utterance whose file resolves (symlinks followed) outside the manual directory
(`face_corpus.outside_manual_dir`: a FILE field with `..` or a symlink out), is missing, empty, unreadable, not mono or not 16 kHz is skipped
and reported (`skipped`, printed by `prepare`); a malformed protocol line stops the build with
its file and line number.

    python -m fakenas_jax.prepare --dataset=asvspoof2019_la --manual_dir=~/data/ASVspoof2019 \
        --data_dir=~/tensorflow_datasets
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Iterator

import numpy as np
import soundfile
import tensorflow_datasets as tfds

from fakenas_jax.data import face_corpus, preparation
from tfds_builders.synthetic_speech.synthetic_speech_dataset_builder import (
  LABELS,
  SPLITS,
  speech_features,
)

SAMPLE_RATE = 16000
PROTOCOL_DIR = "ASVspoof2019_LA_cm_protocols"
PROTOCOL_FILES = {
  "train": "ASVspoof2019.LA.cm.train.trn.txt",
  "dev": "ASVspoof2019.LA.cm.dev.trl.txt",
  "eval": "ASVspoof2019.LA.cm.eval.trl.txt",
}

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download LA.zip of the ASVspoof 2019 database (https://doi.org/10.7488/ds/2555, free after
accepting the licence) and extract it, keeping its layout:

  <manual_dir>/LA/ASVspoof2019_LA_train/flac/LA_T_1000137.flac ...
  <manual_dir>/LA/ASVspoof2019_LA_dev/flac/LA_D_1000265.flac ...
  <manual_dir>/LA/ASVspoof2019_LA_eval/flac/LA_E_1000147.flac ...
  <manual_dir>/LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.train.trn.txt
  <manual_dir>/LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.dev.trl.txt
  <manual_dir>/LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.eval.trl.txt

(--manual_dir may also name the LA directory itself.)
"""

_SYSTEM = re.compile(r"^(-|A\d\d)$")


class ManualDirError(preparation.DataDirError):
  """The manual directory is missing or lacks the protocols or audio folders of the corpus."""


class ProtocolError(ValueError):
  """A protocol line that is not `SPEAKER FILE - SYSTEM KEY`."""


@dataclasses.dataclass(frozen=True)
class ProtocolEntry:
  speaker: str
  utterance_id: str
  attack_id: str  # '-' for bona fide
  label: int  # index into LABELS


def audio_dir(root: pathlib.Path, split: str) -> pathlib.Path:
  return root / f"ASVspoof2019_LA_{split}" / "flac"


def protocol_path(root: pathlib.Path, split: str) -> pathlib.Path:
  return root / PROTOCOL_DIR / PROTOCOL_FILES[split]


def read_protocol(path: pathlib.Path) -> list[ProtocolEntry]:
  """A CM protocol file -> its entries, in file order."""
  entries = []
  for number, line in enumerate(path.read_text().splitlines(), 1):
    fields = line.split()
    if not fields:
      continue
    if (
      len(fields) != 5
      or fields[4] not in LABELS
      or not _SYSTEM.match(fields[3])
      or (fields[3] == "-") != (fields[4] == "bonafide")
    ):
      raise ProtocolError(
        f"{path}, line {number}: expected 'SPEAKER FILE - SYSTEM KEY' with SYSTEM '-' for "
        f"bonafide and A01..A19 for spoof, got {line!r}"
      )
    entries.append(
      ProtocolEntry(
        speaker=fields[0],
        utterance_id=fields[1],
        attack_id=fields[3],
        label=LABELS.index(fields[4]),
      )
    )
  return entries


def corpus_root(manual_dir: pathlib.Path) -> pathlib.Path:
  """The LA directory: `<manual_dir>/LA`, or `manual_dir` itself when it is the LA directory."""
  if not (manual_dir / "LA").is_dir() and (manual_dir / PROTOCOL_DIR).is_dir():
    return manual_dir
  return manual_dir / "LA"


def read_audio(path: pathlib.Path) -> np.ndarray | str:
  """int16 mono samples of a 16 kHz FLAC file, or the reason it cannot be used."""
  if not path.is_file():
    return "file not found"
  if path.stat().st_size == 0:
    return "empty file"
  try:
    samples, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
  except (soundfile.LibsndfileError, RuntimeError, OSError, ValueError) as error:
    return f"unreadable ({getattr(error, 'error_string', None) or type(error).__name__})"
  if samples.shape[0] == 0:
    return "no samples"
  if samples.shape[1] != 1:
    return f"{samples.shape[1]} channels, expected mono"
  if rate != SAMPLE_RATE:
    return f"sample rate {rate} Hz, expected {SAMPLE_RATE}"
  return np.ascontiguousarray(samples[:, 0])


class Builder(tfds.core.GeneratorBasedBuilder):
  """ASVspoof 2019 LA (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS

  def __init__(self, **kwargs):
    self.skipped: list[dict[str, str]] = []
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
      builder=self,
      description=__doc__,
      features=speech_features(),
      supervised_keys=("audio", "label"),
      homepage="https://www.asvspoof.org/",
    )

  def checked_root(self, dl_manager) -> pathlib.Path:
    """The LA directory, after checking it holds every protocol and audio folder."""
    try:
      manual_dir = pathlib.Path(dl_manager.manual_dir)
    except AssertionError as error:  # TFDS's way to say: missing or empty.
      raise ManualDirError(f"{self.name}: {error}") from None
    root = corpus_root(manual_dir)
    self._manual_dir = manual_dir
    missing = [
      path
      for split in SPLITS
      for path in (protocol_path(root, split), audio_dir(root, split))
      if not path.exists()
    ]
    if missing:
      lines = "\n".join(f"  {path}" for path in missing)
      raise ManualDirError(
        f"{self.name}: the manual directory {manual_dir} lacks files the corpus needs; "
        f"missing:\n{lines}\nExpected layout:\n{MANUAL_DOWNLOAD_INSTRUCTIONS}"
      )
    return root

  def _split_generators(self, dl_manager):
    root = self.checked_root(dl_manager)
    self.skipped = []
    protocols = {split: read_protocol(protocol_path(root, split)) for split in SPLITS}
    return {split: self._generate_examples(root, split, protocols[split]) for split in SPLITS}

  def _generate_examples(
    self, root: pathlib.Path, split: str, entries: list[ProtocolEntry]
  ) -> Iterator[tuple[str, dict]]:
    seen: set[str] = set()
    folder = audio_dir(root, split)
    for entry in entries:
      if entry.utterance_id in seen:
        self._skip(split, entry.utterance_id, "listed twice")
        continue
      seen.add(entry.utterance_id)
      path = folder / f"{entry.utterance_id}.flac"
      outside = face_corpus.outside_manual_dir(path, self._manual_dir)
      if outside:
        self._skip(split, entry.utterance_id, outside)
        continue
      audio = read_audio(path)
      if isinstance(audio, str):
        self._skip(split, entry.utterance_id, audio)
        continue
      yield (
        entry.utterance_id,
        {
          "audio": audio,
          "label": entry.label,
          "attack_id": entry.attack_id,
          "speaker": entry.speaker,
          "utterance_id": entry.utterance_id,
        },
      )

  def _skip(self, split: str, item: str, reason: str) -> None:
    self.skipped.append({"split": split, "item": item, "reason": reason})
