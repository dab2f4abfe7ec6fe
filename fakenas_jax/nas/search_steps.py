"""What one search step reads and does: in-dataset (FD-NAS Alg. 1) or cross-dataset (Alg. 2).

Both kinds own their input pipelines (so their positions are checkpointed), compile their steps
for a supernet, run one step, and hand out the batches the estimation indicator is measured on
(Ē on search batches, Ê on held-out validation batches, FD-NAS Eq. 4–5):

* `InDatasetSteps` — the training split halved by video (Alg. 1 line 1): an architecture step
  on a batch of D_S (after the warm-up), then a weight step on a batch of D_Eval (lines 4–5).
* `speech_steps.SpeechSteps` — the in-dataset steps on a speech corpus (`modality='speech'`):
  LFCC computed from the audio inside the compiled steps, the `dev` split held out.
* `CrossDatasetSteps` — K corpora; each step a target drawn at random (seeded by the step
  number, so a resumed run draws the same ones), the others are sources, and
  `cross_dataset.meta_step` runs Alg. 2 lines 5–9. `samples_per_epoch` examples of every
  corpus take part in an epoch (FD-NAS §4.1: 2,000).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from fakenas_jax import parallel
from fakenas_jax.data import corpus
from fakenas_jax.data import pipeline as pipeline_lib
from fakenas_jax.nas import bilevel, cost, cross_dataset, network_loss


def corpus_sources(spec: str, config):
  """Train and validation sources of `spec`; a corpus that needs no download is built first."""
  builder = corpus.prepared_builder(spec, config.data_dir, dict(config.corpus_overrides))
  return builder.as_data_source("train"), builder.as_data_source("validation")


def arch_entropy(arch) -> jax.Array:
  """Mean entropy of softmax(α) over edges: how undecided the architecture still is."""
  p = jax.nn.softmax(arch["alpha"], axis=-1)
  return -(p * jnp.log(p + 1e-12)).sum(-1).mean()


class _Steps:
  """Pipelines by name, their iterators and checkpointable positions, batches on the mesh."""

  def __init__(self, config, mesh):
    self.config, self.mesh = config, mesh
    self.pipelines: dict[str, pipeline_lib.Pipeline] = {}
    self.iterators: dict = {}

  def _pipeline(self, source, seed, *, fold=None, table=None):
    config = self.config
    return pipeline_lib.make_pipeline(
      source=source,
      global_batch_size=config.batch_size,
      image_size=config.image_size,
      training=True,
      seed=seed,
      frames_per_video=config.frames_per_video,
      table=table,
      video_fold=fold,
      num_threads=config.data_threads,
    )

  @property
  def input_shape(self) -> tuple[int, ...]:
    """The shape of the network's input batch (what the supernet is initialised on)."""
    size = self.config.image_size
    return (self.config.batch_size, size, size, 3)

  def start(self, positions: dict) -> None:
    """Opens the iterators, at the checkpointed `positions` where given."""
    self.iterators = {name: iter(pipe) for name, pipe in self.pipelines.items()}
    for name, position in positions.items():
      if name in self.iterators:
        self.iterators[name].set_state(position)

  def positions(self) -> dict:
    return {name: it.get_state() for name, it in self.iterators.items()}

  def batch(self, name: str):
    batch = next(self.iterators[name])
    return parallel.shard_batch({"image": batch["image"], "label": batch["label"]}, self.mesh)

  def _loss_fn(self, network, inputs):
    loss_fn = network_loss.make_loss_fn(network, inputs, self.config.class_weights or None)
    return cost.with_penalty(self.config, loss_fn, inputs)  # λ_cost·E_α[cost] when configured


class InDatasetSteps(_Steps):
  """FD-NAS Alg. 1 (and DARTS / PC-DARTS): architecture on D_S, weights on D_Eval."""

  def __init__(self, config, mesh):
    super().__init__(config, mesh)
    self.pipelines = self._open_pipelines()
    self.steps_per_epoch = min(
      self.pipelines["weights"].steps_per_epoch, self.pipelines["arch"].steps_per_epoch
    )

  def _open_pipelines(self) -> dict:
    """'weights' (D_Eval) and 'arch' (D_S): the two halves of the training split (by video);
    'held_out': the validation split."""
    config = self.config
    train, validation = corpus_sources(config.dataset, config)
    table = pipeline_lib.read_frame_table(train)
    return {
      "weights": self._pipeline(train, config.seed, fold=(0, 2), table=table),
      "arch": self._pipeline(train, config.seed + 1, fold=(1, 2), table=table),
      "held_out": self._pipeline(validation, config.seed + 2),
    }

  def compile(self, network, weight_tx, arch_tx) -> None:
    config = self.config

    @jax.jit
    def weight_step(state, batch, rng, inputs):
      loss_fn = self._loss_fn(network, inputs)
      state, metrics = bilevel.weight_step(state, batch, rng, loss_fn=loss_fn, weight_tx=weight_tx)
      return state, {**metrics, "arch_entropy": arch_entropy(state.arch)}

    @jax.jit
    def arch_step(state, val_batch, train_batch, rng, inputs):
      return bilevel.arch_step(
        state,
        val_batch,
        rng,
        loss_fn=self._loss_fn(network, inputs),
        arch_tx=arch_tx,
        second_order=config.second_order,
        train_batch=train_batch,
        weight_tx=weight_tx,
      )

    self._weight_step, self._arch_step = weight_step, arch_step

  def step(self, state, rng, inputs, *, update_arch: bool, step_index: int):
    del step_index
    arch_rng, weight_rng = jax.random.split(rng)
    if update_arch:
      train_batch = self.batch("weights") if self.config.second_order else None
      state, _ = self._arch_step(state, self.batch("arch"), train_batch, arch_rng, inputs)
    return self._weight_step(state, self.batch("weights"), weight_rng, inputs)

  def estimation_batches(self):
    count = self.config.estimation_batches
    return (
      [self.batch("arch") for _ in range(count)],
      [self.batch("held_out") for _ in range(count)],
    )


class CrossDatasetSteps(_Steps):
  """FD-NAS Alg. 2 over the corpora of `config.cross_dataset.datasets`."""

  def __init__(self, config, mesh):
    super().__init__(config, mesh)
    self.corpora = tuple(config.cross_dataset.datasets)
    if len(self.corpora) < 2 or len(set(self.corpora)) != len(self.corpora):
      raise ValueError(
        f"cross-dataset search needs at least two distinct corpora, got {self.corpora}"
      )
    for index, spec in enumerate(self.corpora):
      train, validation = corpus_sources(spec, config)
      self.pipelines[f"train/{spec}"] = self._pipeline(train, config.seed + 3 * index)
      self.pipelines[f"held_out/{spec}"] = self._pipeline(validation, config.seed + 3 * index + 1)
    batches = max(1, config.cross_dataset.samples_per_epoch // config.batch_size)
    self.steps_per_epoch = min(
      [batches] + [self.pipelines[f"train/{spec}"].steps_per_epoch for spec in self.corpora]
    )

  def compile(self, network, weight_tx, arch_tx) -> None:
    settings = self.config.cross_dataset

    def meta_step(state, sources, target, rng, inputs, update_arch):
      sources = jax.tree.map(lambda *x: jnp.stack(x), *sources)
      state, metrics = cross_dataset.meta_step(
        state,
        sources,
        target,
        rng,
        loss_fn=self._loss_fn(network, inputs),
        weight_tx=weight_tx,
        arch_tx=arch_tx,
        inner_learning_rate=settings.inner_learning_rate,
        second_order=settings.second_order,
        update_arch=update_arch,
      )
      return state, {**metrics, "arch_entropy": arch_entropy(state.arch)}

    self._meta_step = jax.jit(meta_step, static_argnames="update_arch")

  def target_of(self, step_index: int) -> int:
    """The target corpus of a step (Alg. 2 line 3): uniform, reproducible from the step."""
    return int(np.random.default_rng((self.config.seed, step_index)).integers(len(self.corpora)))

  def step(self, state, rng, inputs, *, update_arch: bool, step_index: int):
    target = self.target_of(step_index)
    sources = tuple(
      self.batch(f"train/{spec}") for i, spec in enumerate(self.corpora) if i != target
    )
    return self._meta_step(
      state,
      sources,
      self.batch(f"train/{self.corpora[target]}"),
      rng,
      inputs,
      update_arch=update_arch,
    )

  def estimation_batches(self):
    count = self.config.estimation_batches
    return (
      [self.batch(f"train/{spec}") for spec in self.corpora for _ in range(count)],
      [self.batch(f"held_out/{spec}") for spec in self.corpora for _ in range(count)],
    )
