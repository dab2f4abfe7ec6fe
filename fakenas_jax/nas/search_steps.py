"""What one search step reads and does: in-dataset (FD-NAS Alg. 1) or cross-dataset (Alg. 2).

    loss = make_search_loss(network, modality, class_weights=None)     # inputs → loss_fn
    weight_step = jax.jit(make_weight_step(loss, weight_tx))           # Alg. 1 line 5
    arch_step = jax.jit(make_arch_step(loss, arch_tx, weight_tx))      # Alg. 1 line 4
    meta_step = jax.jit(make_meta_step(loss, weight_tx, arch_tx, …))   # Alg. 2 lines 5–9
    feed = in_dataset_feed(config, modality, mesh)                     # the named pipelines

The steps are pure functions of (state, batches, rng, `SearchInputs`); the network's input is
made from a batch by the modality inside the step (`data.modality`: the image of a face batch,
the LFCC of a speech batch), so face and speech searches share every step. A `Feed` holds the
pipelines by name, their iterators (checkpointed positions) and places batches on the mesh:

* in-dataset — the training split halved by video or utterance (Alg. 1 line 1): 'arch' (D_S)
  for the architecture step after the warm-up, 'weights' (D_Eval) for the weight step;
  'held_out' the validation split (Ê of the estimation indicator, FD-NAS Eq. 4–5);
* cross-dataset — 'train/<corpus>' and 'held_out/<corpus>' of K corpora; each step a target
  drawn at random (`cross_dataset_target`, seeded by the step number, so a resumed run draws
  the same ones), the others are sources. `samples_per_epoch` examples of every corpus take
  part in an epoch (FD-NAS §4.1: 2,000).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from fakenas_jax import parallel
from fakenas_jax.data import corpus
from fakenas_jax.data import modality as modality_lib
from fakenas_jax.nas import bilevel, cross_dataset, network_loss

# inputs (network_loss.SearchInputs) → loss_fn(params, arch, batch_stats, batch, rng)
SearchLoss = Callable[[network_loss.SearchInputs], Callable]


def arch_entropy(arch) -> jax.Array:
  """Mean entropy of softmax(α) over edges: how undecided the architecture still is."""
  p = jax.nn.softmax(arch["alpha"], axis=-1)
  return -(p * jnp.log(p + 1e-12)).sum(-1).mean()


def make_search_loss(
  network, modality: modality_lib.Modality, *, class_weights=None, penalty=None
) -> SearchLoss:
  """The supernet's (class-weighted) cross-entropy of a batch of the modality, its network
  input made in the step (`modality.network_input`, training augmentation on), plus
  `penalty(loss_fn, inputs)` when given (λ_cost·E_α[cost], `cost.with_penalty`)."""

  def search_loss(inputs: network_loss.SearchInputs):
    loss_fn = network_loss.make_loss_fn(network, inputs, class_weights or None)
    if penalty is not None:
      loss_fn = penalty(loss_fn, inputs)

    def modal_loss_fn(params, arch, batch_stats, batch, rng):
      input_rng, rng = jax.random.split(rng)
      images = modality.network_input(batch, input_rng, train=True)
      return loss_fn(params, arch, batch_stats, {"image": images, "label": batch["label"]}, rng)

    return modal_loss_fn

  return search_loss


def make_weight_step(search_loss: SearchLoss, weight_tx):
  """weight_step(state, batch, rng, inputs) → (state, metrics): Alg. 1 line 5."""

  def weight_step(state, batch, rng, inputs):
    state, metrics = bilevel.weight_step(
      state, batch, rng, loss_fn=search_loss(inputs), weight_tx=weight_tx
    )
    return state, {**metrics, "arch_entropy": arch_entropy(state.arch)}

  return weight_step


def make_arch_step(search_loss: SearchLoss, arch_tx, weight_tx, *, second_order: bool = False):
  """arch_step(state, val_batch, train_batch, rng, inputs) → (state, metrics): Alg. 1 line 4
  (DARTS' second-order gradient when `second_order`; `train_batch` None otherwise)."""

  def arch_step(state, val_batch, train_batch, rng, inputs):
    return bilevel.arch_step(
      state,
      val_batch,
      rng,
      loss_fn=search_loss(inputs),
      arch_tx=arch_tx,
      second_order=second_order,
      train_batch=train_batch,
      weight_tx=weight_tx,
    )

  return arch_step


def make_meta_step(
  search_loss: SearchLoss,
  weight_tx,
  arch_tx,
  *,
  inner_learning_rate: float,
  second_order: bool = False,
):
  """meta_step(state, sources, target, rng, inputs, update_arch) → (state, metrics): Alg. 2
  lines 5–9 with the source batches stacked (`update_arch` static)."""

  def meta_step(state, sources, target, rng, inputs, update_arch):
    sources = jax.tree.map(lambda *x: jnp.stack(x), *sources)
    state, metrics = cross_dataset.meta_step(
      state,
      sources,
      target,
      rng,
      loss_fn=search_loss(inputs),
      weight_tx=weight_tx,
      arch_tx=arch_tx,
      inner_learning_rate=inner_learning_rate,
      second_order=second_order,
      update_arch=update_arch,
    )
    return state, {**metrics, "arch_entropy": arch_entropy(state.arch)}

  return meta_step


def make_network_batch(modality: modality_lib.Modality):
  """batch → {'image', 'label'}: what the estimation and the Hessian read (no augmentation)."""

  def network_batch(batch):
    return {"image": modality.network_input(batch, train=False), "label": batch["label"]}

  return network_batch


def cross_dataset_target(seed: int, step_index: int, count: int) -> int:
  """The target corpus of a step (Alg. 2 line 3): uniform, reproducible from the step."""
  return int(np.random.default_rng((seed, step_index)).integers(count))


class Feed:
  """Pipelines by name, their iterators and checkpointable positions, batches on the mesh."""

  def __init__(self, pipelines: dict, modality: modality_lib.Modality, mesh):
    self.pipelines, self.modality, self.mesh = pipelines, modality, mesh
    self.iterators: dict = {}

  def start(self, positions: dict) -> None:
    """Opens the iterators, at the checkpointed `positions` where given."""
    self.iterators = {name: iter(pipe) for name, pipe in self.pipelines.items()}
    for name, position in positions.items():
      if name in self.iterators:
        self.iterators[name].set_state(position)

  def positions(self) -> dict:
    return {name: it.get_state() for name, it in self.iterators.items()}

  def batch(self, name: str) -> dict:
    return parallel.shard_batch(self.modality.device_batch(next(self.iterators[name])), self.mesh)

  def steps_per_epoch(self, *names: str) -> int:
    return min(self.pipelines[name].steps_per_epoch for name in names)


def _training_pipeline(config, modality, source, seed, fold=None, table=None):
  return modality.pipeline(
    source, batch_size=config.batch_size, training=True, seed=seed, fold=fold, table=table
  )


def _sources(spec: str, config, held_out_split: str):
  builder = corpus.prepared_builder(spec, config.data_dir, dict(config.corpus_overrides))
  return corpus.split_source(builder, "train"), corpus.split_source(builder, held_out_split)


def in_dataset_feed(config, modality: modality_lib.Modality, mesh) -> Feed:
  """'weights' (D_Eval) and 'arch' (D_S): the two halves of the training split (Alg. 1 line 1);
  'held_out': `config.held_out_split` (a face corpus's `validation`, ASVspoof's `dev`)."""
  train, held_out = _sources(config.dataset, config, config.held_out_split)
  table = modality.fold_table(train)
  return Feed(
    {
      "weights": _training_pipeline(config, modality, train, config.seed, (0, 2), table),
      "arch": _training_pipeline(config, modality, train, config.seed + 1, (1, 2), table),
      "held_out": _training_pipeline(config, modality, held_out, config.seed + 2),
    },
    modality,
    mesh,
  )


def cross_dataset_corpora(config) -> tuple[str, ...]:
  """`config.cross_dataset.datasets` as corpus names; a command line's 'a,b' (one string in the
  tuple) is split at its commas."""
  return tuple(
    name.strip()
    for entry in config.cross_dataset.datasets
    for name in str(entry).split(",")
    if name.strip()
  )


def cross_dataset_feed(config, modality: modality_lib.Modality, mesh) -> Feed:
  """'train/<corpus>' and 'held_out/<corpus>' of each of `config.cross_dataset.datasets`."""
  corpora = cross_dataset_corpora(config)
  if len(corpora) < 2 or len(set(corpora)) != len(corpora):
    raise ValueError(f"cross-dataset search needs at least two distinct corpora, got {corpora}")
  pipelines = {}
  for index, spec in enumerate(corpora):
    train, held_out = _sources(spec, config, config.held_out_split)
    pipelines[f"train/{spec}"] = _training_pipeline(
      config, modality, train, config.seed + 3 * index
    )
    pipelines[f"held_out/{spec}"] = _training_pipeline(
      config, modality, held_out, config.seed + 3 * index + 1
    )
  return Feed(pipelines, modality, mesh)
