"""One adapter for what differs between face and speech runs (WORKSPACE.md, Modalities).

    modality = modality_of(config)                     # config.modality: 'face' | 'speech'
    pipe = modality.pipeline(source, batch_size=32, training=True, seed=0, fold=(0, 2))
    batch = modality.device_batch(next(iter(pipe)))    # the fields a step reads (host numpy)
    x = modality.network_input(batch, key, train=True) # inside the jitted step
    modality.example_shape                             # one example as the network sees it
    modality.best_metric, modality.best_mode           # 'val/auc', 'max' | 'val/eer', 'min'

Search, training and evaluation take a `Modality` and never ask which one it is:

* `Faces` — frames of a face corpus (`pipeline.make_pipeline`), the network reads the image;
  folds of the training split are by video (FD-NAS Alg. 1 line 1); validated by frame AUC.
* `Speech` — utterances of a speech corpus (`speech_pipeline.make_speech_pipeline`, every
  waveform cut or repeated to `num_samples`); the network input is made inside the step from
  `audio`: the LFCC (frequency-masked in training when `mask`), the fixed sinc-filter features
  of a search on the raw waveform (Raw PC-DARTS), or the waveform itself for a network whose
  first layer is a learnable sinc front end; folds by utterance, stratified by class and
  attack; validated by the EER of the bona fide score.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from fakenas_jax import audio
from fakenas_jax.data import pipeline as pipeline_lib
from fakenas_jax.data import speech_pipeline

MODALITIES = ("face", "speech")
SPEECH_INPUTS = ("lfcc", "sinc", "waveform")  # see `Speech`


@dataclasses.dataclass(frozen=True)
class Faces:
  """Face frames: `image_size`² RGB crops, at most `frames_per_video` frames a video."""

  image_size: int
  frames_per_video: int | None = None
  num_threads: int | None = None

  name = "face"
  best_metric, best_mode = "val/auc", "max"

  @property
  def example_shape(self) -> tuple[int, ...]:
    return (self.image_size, self.image_size, 3)

  def with_frames_per_video(self, count: int) -> Faces:
    """The same modality reading at most `count` frames a video (0 = all)."""
    return dataclasses.replace(self, frames_per_video=int(count) or None)

  def fold_table(self, source) -> pipeline_lib.FrameTable:
    """What folds of `source` are drawn from (its frames and their videos)."""
    return pipeline_lib.read_frame_table(source)

  def pipeline(
    self,
    source,
    *,
    batch_size: int,
    training: bool,
    seed: int = 0,
    fold: tuple[int, int] | None = None,
    table: pipeline_lib.FrameTable | None = None,
    **face_options: Any,
  ) -> pipeline_lib.Pipeline:
    """The pipeline of one split; `fold` (i, n): the i-th of n video-disjoint parts.
    `face_options` (masks, augment, sampler, …) go to `pipeline.make_pipeline`."""
    return pipeline_lib.make_pipeline(
      source=source,
      global_batch_size=batch_size,
      image_size=self.image_size,
      training=training,
      seed=seed,
      frames_per_video=self.frames_per_video,
      table=table,
      video_fold=fold,
      num_threads=self.num_threads,
      **face_options,
    )

  def device_batch(self, batch: Mapping[str, Any], extra: Sequence[str] = ()) -> dict:
    return {name: batch[name] for name in ("image", "label", *extra)}

  def network_input(self, batch: Mapping[str, jax.Array], key=None, *, train: bool) -> jax.Array:
    del key, train
    return batch["image"]


@dataclasses.dataclass(frozen=True)
class Speech:
  """Utterances of `num_samples` samples; `features` says what the network sees:

  'lfcc' — the LFCC image (F, T, 1), frequency-masked in training when `mask`;
  'sinc' — the sinc-filter features of `sinc` with their initial bands held fixed (a search
           on the raw waveform);
  'waveform' — the waveform itself (N,): the network's first layer is its front end.
  """

  num_samples: int
  features: str = "lfcc"
  mask: bool = False
  sinc: audio.sinc.SincConfig | None = None
  num_threads: int | None = None

  name = "speech"
  best_metric, best_mode = "val/eer", "min"

  def __post_init__(self):
    if self.features not in SPEECH_INPUTS:
      raise ValueError(
        f"unknown speech input {self.features!r}; use one of {', '.join(SPEECH_INPUTS)}"
      )
    if self.features == "sinc" and self.sinc is None:
      raise ValueError("speech input 'sinc' needs a sinc front end (audio.sinc.SincConfig)")

  @property
  def example_shape(self) -> tuple[int, ...]:
    if self.features == "waveform":
      return (self.num_samples,)
    if self.features == "sinc":
      return audio.sinc.feature_shape(self.num_samples, self.sinc)
    return audio.feature_shape(self.num_samples)

  def with_frames_per_video(self, count: int) -> Speech:
    del count  # utterances have no frames
    return self

  def fold_table(self, source) -> speech_pipeline.UtteranceTable:
    """What folds of `source` are drawn from (its utterances, classes and attacks)."""
    return speech_pipeline.read_utterance_table(source)

  def pipeline(
    self,
    source,
    *,
    batch_size: int,
    training: bool,
    seed: int = 0,
    fold: tuple[int, int] | None = None,
    table: speech_pipeline.UtteranceTable | None = None,
    masks: Sequence[str] = (),
    augment: Any = None,
    sampler: Any = None,
  ) -> speech_pipeline.SpeechPipeline:
    """The pipeline of one split; `fold` (i, n): the i-th of n stratified utterance parts.
    Dense masks, image augmentations and forgery composites are of faces only."""
    if masks or augment is not None or sampler is not None:
      raise ValueError(
        "dense masks, image augmentations and forgery augmentation apply to face corpora "
        "only; for speech set augment='none' and forgery_augmentation=False"
      )
    return speech_pipeline.make_speech_pipeline(
      source=source,
      global_batch_size=batch_size,
      training=training,
      seed=seed,
      num_samples=self.num_samples,
      utterance_fold=fold,
      table=table,
      num_threads=self.num_threads,
    )

  def device_batch(self, batch: Mapping[str, Any], extra: Sequence[str] = ()) -> dict:
    return {name: batch[name] for name in ("audio", "label", *extra)}

  def network_input(self, batch: Mapping[str, jax.Array], key=None, *, train: bool) -> jax.Array:
    """What the network takes, from `batch['audio']` (B, N), inside the step."""
    waveforms = batch["audio"]
    if self.features == "waveform":
      return waveforms
    if self.features == "sinc":
      return audio.sinc.fixed_features(waveforms, self.sinc)
    mask = train and self.mask
    return audio.features(waveforms, key, mask=mask)


Modality = Faces | Speech


def modality_of(
  config, *, speech_features: str = "lfcc", sinc: Mapping[str, Any] | None = None
) -> Modality:
  """The modality of a search or training config (`config.modality`).

  A face run reads `image_size`, `frames_per_video` (0 = all) and `data_threads`; a speech
  run `num_samples`, `mask` and `data_threads`, with the network input `speech_features`
  (`Speech`) and the sinc front end's fields `sinc` (`audio.sinc.SincConfig`).
  """
  if config.modality not in MODALITIES:
    raise ValueError(f"unknown modality {config.modality!r}; use one of {', '.join(MODALITIES)}")
  if config.modality == "face":
    return Faces(
      image_size=config.image_size,
      frames_per_video=int(config.frames_per_video or 0) or None,
      num_threads=config.data_threads,
    )
  return Speech(
    num_samples=config.num_samples,
    features=speech_features,
    mask=bool(config.mask) and speech_features == "lfcc",  # masking is of the LFCC
    sinc=audio.sinc.config_from(sinc) if speech_features == "sinc" else None,
    num_threads=config.data_threads,
  )


def zeros_input(modality: Modality, batch_size: int) -> jax.Array:
  """A batch of zeros shaped as the network's input (what a network is initialised on)."""
  return jnp.zeros((batch_size, *modality.example_shape), jnp.float32)
