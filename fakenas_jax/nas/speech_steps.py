"""The search steps on a speech corpus: PC-DARTS on LFCC features (the anti-spoofing search).

The in-dataset steps (`search_steps.InDatasetSteps`: an architecture step on one half of the
training split, a weight step on the other) with speech inputs (WORKSPACE.md, Speech):

* the training protocol split into two halves by utterance, stratified by class and attack
  (`speech_pipeline.utterance_folds`): fold 0 updates the weights, fold 1 the architecture;
  the `dev` split is held out (the validation batches of the estimation indicator, when on);
* batches carry the fixed-length waveform (`audio`, 4 s at 16 kHz by default); the LFCC
  (60 × T, one channel: (B, 60, T, 1)) is computed inside the compiled steps, with frequency
  masking as training augmentation when `config.mask` is set (each step draws its own mask);
* the loss is the supernet's class-weighted cross-entropy (`config.class_weights`, the
  reference's bona fide : spoof weighting from `speech_pipeline.class_weights()`).

The supernet needs a stem for one channel and non-square inputs: `config.stem = 'imagenet'`.

`config.frontend = 'sinc'` searches on the raw waveform instead (Raw PC-DARTS): the step's
features are the sinc-filter front end of `config.sinc` (`audio.sinc`, fields of `SincConfig`)
with its initial (mel / inverse-mel / linear) bands held fixed during the search; the trained
network can learn them (`model.frontend = 'sinc'`). No frequency masking on sinc features.
"""

from __future__ import annotations

import jax

from fakenas_jax import audio, parallel
from fakenas_jax.data import corpus, speech_pipeline
from fakenas_jax.nas import search_steps

SPLITS = ("train", "dev")  # training protocol, held-out split


class SpeechSteps(search_steps.InDatasetSteps):
  """PC-DARTS / FD-NAS Alg. 1 on a speech corpus (module docstring)."""

  def _open_pipelines(self) -> dict:
    config = self.config
    builder = corpus.prepared_builder(
      config.dataset, config.data_dir, dict(config.corpus_overrides)
    )
    train, dev = (corpus.split_source(builder, split) for split in SPLITS)
    table = speech_pipeline.read_utterance_table(train)

    def pipeline(source, seed, fold=None, table=None):
      return speech_pipeline.make_speech_pipeline(
        source=source,
        global_batch_size=config.batch_size,
        training=True,
        seed=seed,
        num_samples=config.num_samples,
        utterance_fold=fold,
        table=table,
        num_threads=config.data_threads,
      )

    self._features = jax.jit(self.features)  # unmasked: the estimation batches
    return {
      "weights": pipeline(train, config.seed, (0, 2), table),
      "arch": pipeline(train, config.seed + 1, (1, 2), table),
      "held_out": pipeline(dev, config.seed + 2),
    }

  def features(self, waveforms, key=None, mask=False):
    """The step's input image: LFCC (optionally masked) or fixed sinc features."""
    if self.config.get("frontend", "lfcc") == "sinc":
      return audio.sinc.fixed_features(waveforms, audio.sinc.config_from(self.config.get("sinc")))
    return audio.features(waveforms, key, mask=mask)

  @property
  def input_shape(self) -> tuple[int, ...]:
    if self.config.get("frontend", "lfcc") == "sinc":
      return (self.config.batch_size,) + audio.sinc.feature_shape(
        self.config.num_samples, audio.sinc.config_from(self.config.get("sinc"))
      )
    return (self.config.batch_size,) + audio.feature_shape(self.config.num_samples)

  def batch(self, name: str):
    batch = next(self.iterators[name])
    return parallel.shard_batch({"audio": batch["audio"], "label": batch["label"]}, self.mesh)

  def _loss_fn(self, network, inputs):
    """The supernet's loss of `audio` batches: LFCC (+ frequency masking) first, in the step."""
    loss_fn = super()._loss_fn(network, inputs)
    mask = bool(self.config.mask)

    def speech_loss_fn(params, arch, batch_stats, batch, rng):
      mask_rng, rng = jax.random.split(rng)
      images = self.features(batch["audio"], mask_rng, mask=mask)
      return loss_fn(params, arch, batch_stats, {"image": images, "label": batch["label"]}, rng)

    return speech_loss_fn

  def estimation_batches(self):
    """Ē and Ê batches (FD-NAS Eq. 4) as LFCC images, without masking."""

    def to_images(batch):
      return {"image": self._features(batch["audio"]), "label": batch["label"]}

    search, held_out = super().estimation_batches()
    return [to_images(b) for b in search], [to_images(b) for b in held_out]
