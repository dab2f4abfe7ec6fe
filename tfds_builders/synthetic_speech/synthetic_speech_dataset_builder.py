"""synthetic_speech: a spoofing corpus in the layout of ASVspoof 2019 LA, generated offline.

One example per utterance, in the data model of the speech corpora (WORKSPACE.md, Data model): `audio` (16 kHz
mono 16-bit PCM, variable length), `label` (0 bonafide, 1 spoof; a CM score is higher for bona
fide), `attack_id` ('-' for bona fide, 'A01'…), `speaker` and `utterance_id`. Splits `train`,
`dev` and `eval` as in ASVspoof: speaker-disjoint (speakers [0, n_train) train, the next n_dev
dev, the next n_eval eval), train and dev spoofed by A01–A06, eval by A07–A12, of which
A07–A10 are unseen in training (`fakenas_jax.data.synthetic_speech.attacks`). Every speaker has
`bonafide_per_speaker` bona fide utterances and `spoofs_per_attack` spoofed ones per attack of
its split. Utterance k of speaker s with attack a (0 = bona fide) is drawn from
`np.random.default_rng((seed, split, s, a, k))`, so a build is byte-identical for a seed whatever
the order or the number of worker processes.

    python -m fakenas_jax.prepare --dataset=synthetic_speech --data_dir=~/tensorflow_datasets
    python -m fakenas_jax.prepare --dataset=synthetic_speech/tiny --data_dir=/tmp/tfds
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterator

import numpy as np
import tensorflow_datasets as tfds

from fakenas_jax.audio import waveform
from fakenas_jax.data import workers

SPLITS = ("train", "dev", "eval")
BONAFIDE = "-"
LABELS = ("bonafide", "spoof")  # ClassLabel order: bonafide = 0, spoof = 1


def speech_features() -> tfds.features.FeaturesDict:
  """The features of a speech corpus (shared with the ASVspoof 2019 LA builder)."""
  return tfds.features.FeaturesDict(
    {
      # Raw little-endian int16 bytes: compact, and readable without TensorFlow.
      "audio": tfds.features.Tensor(
        shape=(None,), dtype=np.int16, encoding="bytes", doc="16 kHz mono 16-bit PCM samples"
      ),
      "label": tfds.features.ClassLabel(names=list(LABELS)),
      "attack_id": tfds.features.Text(doc="'-' for bona fide, else the spoofing system, 'A01'…"),
      "speaker": tfds.features.Text(),
      "utterance_id": tfds.features.Text(),
    }
  )


@dataclasses.dataclass(kw_only=True)
class SyntheticSpeechConfig(tfds.core.BuilderConfig):
  """The size of each split of the synthetic spoofing corpus."""

  speakers: tuple[int, int, int] = (48, 12, 24)  # train, dev, eval
  bonafide_per_speaker: int = 4
  spoofs_per_attack: int = 2  # per speaker and attack of the split
  seconds: tuple[float, float] = (1.0, 4.0)  # utterance durations, uniform
  seed: int = 0

  def __post_init__(self):
    if len(self.speakers) != 3 or min(self.speakers) < 1:
      raise ValueError(
        f"speakers must be three counts >= 1 (train, dev, eval), got {self.speakers}"
      )
    if self.bonafide_per_speaker < 1 or self.spoofs_per_attack < 0:
      raise ValueError(
        f"need bonafide_per_speaker >= 1 and spoofs_per_attack >= 0, got "
        f"{self.bonafide_per_speaker}, {self.spoofs_per_attack}"
      )
    if len(self.seconds) != 2 or not 0.2 <= self.seconds[0] <= self.seconds[1] <= 30.0:
      raise ValueError(
        f"seconds must be (low, high) with 0.2 <= low <= high <= 30, got {self.seconds}"
      )


@dataclasses.dataclass(frozen=True)
class UtteranceSpec:
  """Everything that determines one utterance of a split."""

  split: str
  utterance_id: str
  speaker_index: int
  attack_id: str
  seed: tuple[int, ...]


def _generator():
  """The generator package, imported on first use: it needs scipy.signal (~1 s to import), and
  every corpus lookup imports every builder."""
  from fakenas_jax.data import synthetic_speech  # pylint: disable=import-outside-toplevel

  return synthetic_speech


def utterance_specs(config: SyntheticSpeechConfig, split: str) -> list[UtteranceSpec]:
  """The utterances of one split, in a fixed order (see the module docstring)."""
  if split not in SPLITS:
    raise ValueError(f"unknown split {split!r}; splits: {', '.join(SPLITS)}")
  split_index = SPLITS.index(split)
  first = sum(config.speakers[:split_index])
  attacks = (BONAFIDE,) + _generator().SPLIT_ATTACKS[split]
  letter = split[0].upper()
  specs = []
  for speaker in range(first, first + config.speakers[split_index]):
    for attack_index, attack_id in enumerate(attacks):
      count = config.bonafide_per_speaker if attack_id == BONAFIDE else config.spoofs_per_attack
      for k in range(count):
        specs.append(
          UtteranceSpec(
            split,
            f"SYN_{letter}_{len(specs):07d}",
            speaker,
            attack_id,
            (config.seed, split_index, speaker, attack_index, k),
          )
        )
  return specs


def generate_example(
  spec: UtteranceSpec, seconds: tuple[float, float], corpus_seed: int
) -> tuple[str, dict]:
  """One (key, example) pair; the audio as int16 PCM."""
  generator = _generator()
  speaker = generator.make_speaker(spec.speaker_index, corpus_seed)
  audio = generator.generate_utterance(speaker, spec.attack_id, spec.seed, seconds=seconds)
  return spec.utterance_id, {
    "audio": waveform.float_to_pcm16(audio),
    "label": LABELS.index("bonafide" if spec.attack_id == BONAFIDE else "spoof"),
    "attack_id": spec.attack_id,
    "speaker": speaker.name,
    "utterance_id": spec.utterance_id,
  }


def _default_config() -> SyntheticSpeechConfig:
  return SyntheticSpeechConfig(
    name="default", description="48/12/24 speakers, 4 bona fide + 2 per attack each, 1-4 s."
  )


def _tiny_config() -> SyntheticSpeechConfig:
  return SyntheticSpeechConfig(
    name="tiny",
    speakers=(2, 2, 2),
    bonafide_per_speaker=2,
    spoofs_per_attack=1,
    seconds=(1.0, 1.5),
    description="2 speakers a split, 2 bona fide + 1 per attack, 1-1.5 s.",
  )


class Builder(tfds.core.GeneratorBasedBuilder):
  """The built-in synthetic spoofing corpus; nothing to download."""

  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {
    "1.0.0": "First release.",
    "1.1.0": "Calibrated: 48/12/24 speakers (was 8/4/8), 4 bona fide + 2 per "
    "attack each (was 12 + 6); random-phase attacks A02/A06 (and A12) "
    "with 64 ms frames, A08's with 16 ms (swapped); see WORKSPACE.md, "
    "Calibration of the synthetic speech corpus.",
  }
  BUILDER_CONFIGS = [_default_config(), _tiny_config()]
  DEFAULT_CONFIG_NAME = "default"

  def __init__(self, *, num_workers: int | None = None, **kwargs):
    self._num_workers = num_workers if num_workers is not None else (os.cpu_count() or 1)
    self.skipped: list[dict[str, str]] = []  # generated corpora skip nothing
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
      builder=self,
      description=__doc__,
      features=speech_features(),
      supervised_keys=("audio", "label"),
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Generated, not downloaded.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    jobs = [(spec, tuple(config.seconds), config.seed) for spec in utterance_specs(config, split)]
    yield from workers.map_in_workers(
      generate_example,
      jobs,
      num_workers=self._num_workers,
      label="synthetic_speech",
      chunksize=8,
      unit="utterance",
    )
