"""What the trainer reads for a speech run (`modality = 'speech'`): audio in, LFCC in the step.

    data = SpeechData(config, builder, model)
    batch = data.device_batch(next(iter(data.train)))     # {'audio', 'label'}, host numpy
    images = data.network_input(batch, key)               # in the jitted step: (B, 60, T, 1)
    metrics = data.validate(variables, mesh)              # {'val/eer', …} of the dev split

The speech counterpart of the trainer's `FaceData`: the pipelines of a speech corpus
(`speech_pipeline`: every utterance cut or repeated to `config.num_samples`), the LFCC front end
with frequency masking (`config.mask`) as training augmentation (WORKSPACE.md, Speech), validation by the EER of the bona fide logit on
`config.validation_split` (ASVspoof: `dev`), and the best checkpoint the one of lowest EER.
"""

from __future__ import annotations

from typing import Any

import jax

from fakenas_jax import audio
from fakenas_jax.data import corpus, speech_pipeline
from fakenas_jax.models import factory
from fakenas_jax.training import speech_scoring

BEST_METRIC, BEST_MODE = "val/eer", "min"


def frontend(config) -> str:
  """'lfcc' or 'sinc' (`config.model.frontend`): what the network of a speech run takes."""
  return factory.resolve_config(config.model).frontend


def is_speech(config) -> bool:
  """Whether a training config is a speech run."""
  return config.modality == "speech"


class SpeechData:
  """Pipelines, device batches, step inputs and validation of a speech run (module docstring)."""

  best_metric, best_mode = BEST_METRIC, BEST_MODE

  @staticmethod
  def input_shape(config) -> tuple[int, ...]:
    """(60, T, 1): one example as the network sees it; (N,) for a sinc front end."""
    if frontend(config) == "sinc":
      return (config.num_samples,)
    return audio.feature_shape(config.num_samples)

  def __init__(self, config, builder, model):
    self.frontend = frontend(config)
    self.mask = bool(config.mask) and self.frontend == "lfcc"  # masking is of the LFCC
    common = dict(num_samples=config.num_samples, num_threads=config.data_threads)
    self.train = speech_pipeline.make_speech_pipeline(
      source=corpus.split_source(builder, "train"),
      global_batch_size=config.batch_size,
      training=True,
      seed=config.seed,
      **common,
    )
    self.validation = speech_pipeline.make_speech_pipeline(
      source=corpus.split_source(builder, config.validation_split),
      global_batch_size=config.eval_batch_size,
      training=False,
      **common,
    )
    self._score = jax.jit(speech_scoring.make_score_step(model, self.frontend))

  @staticmethod
  def device_batch(batch: dict[str, Any]) -> dict[str, Any]:
    return {"audio": batch["audio"], "label": batch["label"]}

  def network_input(self, batch, rng: jax.Array) -> jax.Array:
    """LFCC of `batch['audio']`, frequency-masked when configured (inside the step); the
    waveform itself for a sinc front end (the network's first layer)."""
    if self.frontend == "sinc":
      return batch["audio"]
    return audio.features(batch["audio"], rng, mask=self.mask)

  def validate(
    self, variables, mesh, *, max_batches: int | None = None, progress: bool = False
  ) -> dict[str, float]:
    return speech_scoring.validation_metrics(
      speech_scoring.score_split(
        self._score,
        variables,
        self.validation,
        mesh,
        max_batches=max_batches,
        progress=progress,
        description="validation",
      )
    )
