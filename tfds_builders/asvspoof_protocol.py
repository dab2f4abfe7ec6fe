"""What the ASVspoof 2021 and ASVspoof 5 builders share: protocol layouts, parsing, the builder.

A protocol (key) file lists one utterance a line, whitespace-separated, in a fixed column layout
(`ProtocolLayout`): ASVspoof 2021 LA's `trial_metadata.txt` (8 columns), 2021 DF's (13 columns)
and ASVspoof 5's `ASVspoof5.{train,dev.track_1,eval.track_1}.tsv` (10 columns). A line with
another number of columns, or a key that is not bonafide/spoof, stops the build with the file,
the line and the expected columns. Every listed utterance becomes one example with the fields of
the speech corpora (`speech_features`: audio, label, attack_id — '-' for bona fide —, speaker,
utterance_id) and the layout's metadata columns as text features (codec, transmission, source,
…), so a run can be scored per condition (`eval.speech_evaluator`). Audio files that are
missing, empty, unreadable, not mono or not 16 kHz, or that resolve (symlinks followed) outside
the manual directory (`face_corpus.outside_manual_dir`), are skipped and reported, as in
`asvspoof2019_la`. This module is not a builder (no package), so `data.corpora` ignores it.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Iterator

import tensorflow_datasets as tfds

from fakenas_jax.data import face_corpus
from tfds_builders.asvspoof2019_la.asvspoof2019_la_dataset_builder import ManualDirError, read_audio
from tfds_builders.synthetic_speech.synthetic_speech_dataset_builder import (
  BONAFIDE,
  LABELS,
  speech_features,
)

BONAFIDE_NAMES = ("-", "bonafide")  # how protocols name the attack of bona fide speech


class ProtocolError(ValueError):
  """A protocol line that does not have the layout's columns."""


@dataclasses.dataclass(frozen=True)
class ProtocolLayout:
  """The columns of a protocol file and which of them are the speech fields."""

  name: str
  columns: tuple[str, ...]
  speaker: str
  utterance: str
  attack: str
  key: str
  metadata: tuple[str, ...]  # columns kept as text features (feature name = column, lower case)

  def expected(self) -> str:
    return " ".join(self.columns)


@dataclasses.dataclass(frozen=True)
class ProtocolEntry:
  speaker: str
  utterance_id: str
  attack_id: str  # '-' for bona fide
  label: int  # index into LABELS
  metadata: dict[str, str]


def metadata_feature(column: str) -> str:
  return column.lower()


def read_protocol(path: pathlib.Path, layout: ProtocolLayout) -> list[ProtocolEntry]:
  """A protocol file → its entries in file order; a header line naming the columns is skipped.

  Raises:
    ProtocolError: a line with another number of columns than the layout's or a key that is not
      bonafide/spoof; the message names the file, the line and the expected columns.
  """
  index = {name: i for i, name in enumerate(layout.columns)}
  entries = []
  for number, line in enumerate(path.read_text().splitlines(), 1):
    fields = line.split()
    if not fields or (number == 1 and fields[0].upper() == layout.columns[0]):
      continue
    if len(fields) != len(layout.columns):
      raise ProtocolError(
        f"{path}, line {number}: unknown column layout ({len(fields)} columns); the "
        f"{layout.name} protocol has {len(layout.columns)} columns: {layout.expected()}; "
        f"got {line!r}"
      )
    key = fields[index[layout.key]]
    if key not in LABELS:
      raise ProtocolError(
        f"{path}, line {number}: {layout.key} is {key!r}, expected bonafide or spoof (columns: "
        f"{layout.expected()})"
      )
    attack = fields[index[layout.attack]]
    if key == "bonafide":
      attack = BONAFIDE
    elif attack in BONAFIDE_NAMES:
      raise ProtocolError(
        f"{path}, line {number}: a spoof needs its attack id in "
        f"{layout.attack} (columns: {layout.expected()}); got {line!r}"
      )
    entries.append(
      ProtocolEntry(
        speaker=fields[index[layout.speaker]],
        utterance_id=fields[index[layout.utterance]],
        attack_id=attack,
        label=LABELS.index(key),
        metadata={metadata_feature(c): fields[index[c]] for c in layout.metadata},
      )
    )
  return entries


def features(layout: ProtocolLayout) -> tfds.features.FeaturesDict:
  """`speech_features` plus the layout's metadata columns as text."""
  base = dict(speech_features())
  base.update(
    {metadata_feature(c): tfds.features.Text(doc=f"protocol column {c}") for c in layout.metadata}
  )
  return tfds.features.FeaturesDict(base)


class ProtocolBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """A corpus of FLAC folders and protocol files (subclasses set the class attributes)."""

  LAYOUT: ProtocolLayout
  # split → (protocol file, FLAC folder), relative to the manual directory.
  SPLIT_FILES: dict[str, tuple[str, str]]
  HOMEPAGE = "https://www.asvspoof.org/"

  def __init__(self, **kwargs):
    self.skipped: list[dict[str, str]] = []
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
      builder=self,
      description=self.__doc__,
      features=features(self.LAYOUT),
      supervised_keys=("audio", "label"),
      homepage=self.HOMEPAGE,
    )

  def checked_root(self, dl_manager) -> pathlib.Path:
    """The manual directory, after checking it holds every protocol and audio folder."""
    try:
      root = pathlib.Path(dl_manager.manual_dir)
    except AssertionError as error:  # TFDS's way to say: missing or empty.
      raise ManualDirError(f"{self.name}: {error}") from None
    missing = [
      root / path
      for files in self.SPLIT_FILES.values()
      for path in files
      if not (root / path).exists()
    ]
    if missing:
      lines = "\n".join(f"  {path}" for path in missing)
      raise ManualDirError(
        f"{self.name}: the manual directory {root} lacks files the corpus needs; missing:\n"
        f"{lines}\nExpected layout:\n{self.MANUAL_DOWNLOAD_INSTRUCTIONS}"
      )
    return root

  def _split_generators(self, dl_manager):
    root = self.checked_root(dl_manager)
    self._manual_dir = root
    self.skipped = []
    protocols = {
      split: read_protocol(root / protocol, self.LAYOUT)
      for split, (protocol, _) in self.SPLIT_FILES.items()
    }
    return {
      split: self._generate_examples(split, root / self.SPLIT_FILES[split][1], entries)
      for split, entries in protocols.items()
    }

  def _generate_examples(
    self, split: str, folder: pathlib.Path, entries: list[ProtocolEntry]
  ) -> Iterator[tuple[str, dict]]:
    seen: set[str] = set()
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
          **entry.metadata,
        },
      )

  def _skip(self, split: str, item: str, reason: str) -> None:
    self.skipped.append({"split": split, "item": item, "reason": reason})


def write_dummy_corpus(root: pathlib.Path, builder_class, rows, seed: int = 0) -> dict:
  """A dummy corpus in `builder_class`'s official layout below `root`, for tests.

  `rows` are (split, protocol fields, state) with state 'ok' (a real 16 kHz FLAC file of noise,
  written with soundfile as `asvspoof2019_la`'s dummy data), 'missing', 'empty', 'corrupt' or
  '44k'; returns the int16 samples written for each 'ok' utterance.
  """
  import numpy as np
  import soundfile

  layout = builder_class.LAYOUT
  utterance = layout.columns.index(layout.utterance)
  rng = np.random.default_rng(seed)
  written, lines = {}, {split: [] for split in builder_class.SPLIT_FILES}
  for protocol, folder in builder_class.SPLIT_FILES.values():
    (root / folder).mkdir(parents=True, exist_ok=True)
    (root / protocol).parent.mkdir(parents=True, exist_ok=True)
  for split, fields, state in rows:
    lines[split].append(" ".join(fields))
    name = fields[utterance]
    path = root / builder_class.SPLIT_FILES[split][1] / f"{name}.flac"
    samples = rng.integers(-20000, 20000, int(rng.integers(3000, 9000))).astype(np.int16)
    if state == "ok":
      soundfile.write(str(path), samples, 16000, subtype="PCM_16")
      written[name] = samples
    elif state == "empty":
      path.write_bytes(b"")
    elif state == "corrupt":
      path.write_bytes(b"fLaC not really a flac file" * 10)
    elif state == "44k":
      soundfile.write(str(path), samples, 44100, subtype="PCM_16")
  for split, (protocol, _) in builder_class.SPLIT_FILES.items():
    (root / protocol).write_text("\n".join(lines[split]) + "\n")
  return written
