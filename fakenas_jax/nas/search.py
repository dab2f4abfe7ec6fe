"""The architecture search (FD-NAS Alg. 1 and 2; DARTS / PC-DARTS as special cases), resumable.

    state = run_search(config, workdir)      # what `python -m fakenas_jax.search` calls

One epoch: `steps_per_epoch` steps of `search_steps` — in-dataset, an architecture update on a
batch of the search half D_S of the training split (after `warmup_epochs`) then a weight update
on a batch of the other half D_Eval (Alg. 1 lines 1–5); cross-dataset, the meta-step of Alg. 2
over K corpora. After the epoch (Alg. 1 lines 6–8) the estimation errors are measured
(`network_loss.override_errors`) on `estimation_batches` search batches (Ē) and validation
batches (Ê, never trained on), E (Eq. 4) and H (Eq. 8) are updated and the genotype is
derived (Eq. 9). When pruning is due (lines 9–11) each edge drops its two lowest-H operations
and the channel divisor k halves; the network is rebuilt with the grown parameters
(`grow_like`) and the search goes on.

Everything a resumed run needs is checkpointed every epoch (Orbax, numbered by steps done):
weights, α/β, both optimiser states, batch statistics, the surviving operations, k, E, the data
iterators' positions, the step within the epoch and the RNG. Re-running with the same workdir
resumes; SIGTERM checkpoints after the step in flight and exits (the resumed run goes on inside
that epoch); a non-finite loss stops the run and keeps the last good checkpoint.
"""

from __future__ import annotations

import functools
import json
import pathlib
import time
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from fakenas_jax import errors, parallel
from fakenas_jax.data import modality as modality_lib
from fakenas_jax.nas import (
  arch_plots,
  bilevel,
  cell_diagram,
  cost,
  estimation,
  network_loss,
  optimizers,
  pruning,
  search_hooks,
  search_steps,
)
from fakenas_jax.nas.supernet import SearchNetwork
from fakenas_jax.nn import genotypes, registry
from fakenas_jax.run import loop
from fakenas_jax.run import workdir as workdir_lib

NonFiniteLossError = errors.NonFiniteLossError


Interrupted = errors.Interrupted


def search_space(config) -> tuple[tuple[str, ...], str]:
  """(operation names, reducing skip) of the configured space or explicit operation list."""
  if config.ops:
    names = tuple(config.ops)
    for name in names:
      registry.parse_op_name(name)
    return names, config.reducing_skip or "factorized_reduce"
  if config.space not in registry.SEARCH_SPACES:
    raise ValueError(
      f"unknown search space {config.space!r}; known: {', '.join(registry.SEARCH_SPACES)}"
    )
  return (
    registry.SEARCH_SPACES[config.space],
    config.reducing_skip or registry.SPACE_REDUCING_SKIP[config.space],
  )


def build_network(config, k: int) -> SearchNetwork:
  op_names, reducing_skip = search_space(config)
  return SearchNetwork(
    op_names,
    layout=config.layout,
    channels=config.channels,
    k=k,
    num_classes=config.num_classes,
    stem_multiplier=config.stem_multiplier,
    reducing_skip=reducing_skip,
    indicator_lambda=config.indicator_lambda,
    stem=config.stem,
  )


def grow_like(old, fresh):
  """`fresh` with every leaf's leading block replaced by the matching leaf of `old`.

  After k halves, a candidate's kernels see twice the channels: the channels it saw before
  keep their trained values, the new ones start from `fresh`'s initialisation (zeros for
  optimiser moments when `fresh` is a new optimiser state).
  """

  def grow(o, f):
    o, f = np.asarray(o), np.asarray(f)
    if o.shape == f.shape:
      return o
    if o.ndim != f.ndim or any(a > b for a, b in zip(o.shape, f.shape)):
      raise ValueError(f"cannot grow a leaf of shape {o.shape} into {f.shape}")
    out = f.copy()
    out[tuple(slice(0, n) for n in o.shape)] = o
    return out

  return jax.tree.map(grow, old, fresh)


def search_record(config: ml_collections.ConfigDict) -> dict:
  """The config as `config.json` stores it (what a resume is checked against)."""
  return workdir_lib.as_dict(config)


class SearchTask(loop.StateTask):
  """FD-NAS Alg. 1 / 2 as a `loop.Task`: the bilevel (or meta) step, then at the end of an
  epoch estimate (Eq. 4–5) → importance (Eq. 8) → genotype (Eq. 9) → prune and regrow."""

  name = "search"

  def __init__(self, config, mesh):
    self.config, self.mesh = config, mesh
    self.replicated = parallel.replicated_sharding(mesh)
    self.op_names, _ = search_space(config)
    self.modality = search_modality(config)
    self.cross = bool(config.cross_dataset.datasets)
    if self.cross:
      self.corpora = tuple(config.cross_dataset.datasets)
      self.feed = search_steps.cross_dataset_feed(config, self.modality, mesh)
      self.steps_per_epoch = min(
        max(1, config.cross_dataset.samples_per_epoch // config.batch_size),
        self.feed.steps_per_epoch(*(f"train/{spec}" for spec in self.corpora)),
      )
    else:
      self.feed = search_steps.in_dataset_feed(config, self.modality, mesh)
      self.steps_per_epoch = self.feed.steps_per_epoch("weights", "arch")
    if config.steps_per_epoch:
      self.steps_per_epoch = min(self.steps_per_epoch, config.steps_per_epoch)
    opt_config = optimizers.OptimizerConfig(**dict(config.optimizer))
    self.weight_tx, self.arch_tx = optimizers.bilevel_optimizers(
      opt_config, self.steps_per_epoch * config.epochs
    )
    self.k = config.k
    self.network, self.state = self.fresh_state(self.k, config.seed)
    self.rng = jax.random.key(config.seed + 17)
    self.errors_fn = None

  def initial_extra(self) -> dict:
    n_ops = len(self.op_names)
    return {
      "prunings": 0,
      "active": np.ones((2, genotypes.edges_per_cell(), n_ops), bool).tolist(),
      "estimation": np.zeros((2, genotypes.edges_per_cell(), n_ops)).tolist(),
    }

  def fresh_state(self, k_now: int, seed: int):
    network = build_network(self.config, k_now)
    x = modality_lib.zeros_input(self.modality, self.config.batch_size)  # faces, LFCC, …
    # The rbg generator compiles far faster than threefry for the hundreds of parameter leaves.
    variables = jax.jit(lambda key: network.init(key, x))(jax.random.key(seed, impl="rbg"))
    state = bilevel.init_state(
      variables["params"], variables["arch"], variables["batch_stats"], self.weight_tx, self.arch_tx
    )
    return network, state

  # The loop's Task interface.
  def restore_target(self, meta: dict):
    self.k = pruning.channel_divisor(self.config.k, meta["extra"]["prunings"])
    self.network, self.state = self.fresh_state(self.k, self.config.seed)
    return super().restore_target(meta)

  def start(self, run) -> None:
    if not run.extra:
      run.extra = self.initial_extra()
    self.place_state()
    self.feed.start(run.positions)
    self.compile()

  def compile(self) -> None:
    """The steps and the errors function of Eq. 4 for the current network."""
    config, network, chunk = self.config, self.network, self.config.estimation_chunk
    loss = search_steps.make_search_loss(
      network,
      self.modality,
      class_weights=config.class_weights,
      penalty=functools.partial(cost.with_penalty, config),  # λ_cost·E_α[cost] when set
    )
    if self.cross:
      settings = config.cross_dataset
      self.meta_step = jax.jit(
        search_steps.make_meta_step(
          loss,
          self.weight_tx,
          self.arch_tx,
          inner_learning_rate=settings.inner_learning_rate,
          second_order=settings.second_order,
        ),
        static_argnames="update_arch",
      )
    else:
      self.weight_step = jax.jit(search_steps.make_weight_step(loss, self.weight_tx))
      self.arch_step = jax.jit(
        search_steps.make_arch_step(
          loss, self.arch_tx, self.weight_tx, second_order=config.second_order
        )
      )
    self.network_batch = jax.jit(search_steps.make_network_batch(self.modality))

    @jax.jit
    def errors_fn(state, batch, search_inputs):
      variables = {"params": state.params, "arch": state.arch, "batch_stats": state.model_state}
      return network_loss.override_errors(network, variables, search_inputs, batch, chunk=chunk)

    self.errors_fn = errors_fn

  def positions(self) -> dict:
    return self.feed.positions()

  def estimation_batches(self) -> tuple[list, list]:
    """Ē and Ê batches (FD-NAS Eq. 4) as network inputs: `estimation_batches` of the search
    half (in-dataset) or of each corpus's training split (cross-dataset), and as many held out."""
    count, batch = self.config.estimation_batches, self.feed.batch
    names = [("arch", "held_out")]
    if self.cross:
      names = [(f"train/{spec}", f"held_out/{spec}") for spec in self.corpora]
    search_batches = [self.network_batch(batch(s)) for s, _ in names for _ in range(count)]
    held_out = [self.network_batch(batch(h)) for _, h in names for _ in range(count)]
    return search_batches, held_out

  def search_inputs(self, run):
    return network_loss.SearchInputs(
      active=jnp.asarray(run.extra["active"]),
      estimation=jnp.asarray(run.extra["estimation"], jnp.float32),
      use_estimation=jnp.asarray(
        bool(self.config.indicator) and run.epoch > self.config.warmup_epochs
      ),
    )

  def begin_epoch(self, run) -> None:
    self.inputs = self.search_inputs(run)

  def step(self, run):
    self.rng, rng = jax.random.split(self.rng)
    update_arch = run.epoch >= self.config.warmup_epochs
    if self.cross:  # Alg. 2: a random target corpus, the others are sources
      step_index = run.epoch * self.steps_per_epoch + run.step_in_epoch
      target = search_steps.cross_dataset_target(self.config.seed, step_index, len(self.corpora))
      sources = tuple(
        self.feed.batch(f"train/{spec}") for i, spec in enumerate(self.corpora) if i != target
      )
      target_batch = self.feed.batch(f"train/{self.corpora[target]}")
      self.state, metrics = self.meta_step(
        self.state, sources, target_batch, rng, self.inputs, update_arch=update_arch
      )
      return metrics
    arch_rng, weight_rng = jax.random.split(rng)  # Alg. 1: α on D_S, then w on D_Eval
    if update_arch:
      train_batch = self.feed.batch("weights") if self.config.second_order else None
      self.state, _ = self.arch_step(
        self.state, self.feed.batch("arch"), train_batch, arch_rng, self.inputs
      )
    self.state, metrics = self.weight_step(
      self.state, self.feed.batch("weights"), weight_rng, self.inputs
    )
    return metrics

  def end_epoch(self, run, metrics: dict) -> dict:
    config, extra = self.config, run.extra
    estimation_start = time.perf_counter()
    if config.indicator and run.epoch >= config.warmup_epochs:
      search_batches, held_out_batches = self.estimation_batches()
      search_errors = [self.errors_fn(self.state, b, self.inputs) for b in search_batches]
      held_out_errors = [self.errors_fn(self.state, b, self.inputs) for b in held_out_batches]
      scores = estimation.estimation_scores(
        jnp.stack(search_errors, -1), jnp.stack(held_out_errors, -1), jnp.asarray(extra["active"])
      )
      extra["estimation"] = np.asarray(scores).tolist()
      metrics["time/estimation_s"] = time.perf_counter() - estimation_start
    arch = self.state.arch
    importance = np.asarray(
      jnp.stack(
        [
          estimation.importance(
            arch["alpha"][t],
            arch["beta"][t],
            jnp.asarray(extra["estimation"][t]) if config.indicator else None,
            jnp.asarray(extra["active"][t]),
            config.indicator_lambda,
          )
          for t in (0, 1)
        ]
      )
    )
    genotype = genotypes.derive(importance[0], importance[1], self.op_names)
    genotype, guard_metrics = search_hooks.end_of_epoch(  # collapse guards (nas/collapse.py)
      config,
      genotype,
      importance,
      self.op_names,
      network=self.network,
      state=self.state,
      estimation_batches=self.estimation_batches,
      inputs=self.inputs,
      epoch=run.epoch,
    )
    metrics.update(guard_metrics)
    record = {
      "k": self.k,
      "alpha": np.asarray(jax.nn.softmax(arch["alpha"], -1)).round(5).tolist(),
      "beta": np.asarray(arch["beta"]).round(5).tolist(),
      "importance": np.where(np.isfinite(importance), importance, -1.0).round(5).tolist(),
      "genotype": genotype.to_json(),
      **metrics,
    }
    if (
      run.epoch > config.warmup_epochs
      and run.epoch < config.epochs
      and pruning.is_pruning_epoch(run.epoch, config.prune_every)
    ):
      self.prune(extra, importance)
    return record

  def prune(self, extra: dict, importance: np.ndarray) -> None:
    """Alg. 1 lines 9–11: two operations fewer per edge, k halved, grown weights kept."""
    never_last = np.array([name == "none" for name in self.op_names])
    extra["active"] = np.stack(
      [
        pruning.prune(
          importance[t], np.asarray(extra["active"][t]), self.config.prune_drop, never_last
        )
        for t in (0, 1)
      ]
    ).tolist()
    extra["prunings"] += 1
    new_k = pruning.channel_divisor(self.config.k, extra["prunings"])
    if new_k != self.k:
      self.k = new_k
      self.network, fresh = self.fresh_state(self.k, self.config.seed + extra["prunings"])
      self.state = jax.device_put(
        grow_like(jax.device_get(self.state), jax.device_get(fresh)), self.replicated
      )
      self.compile()

  def should_stop(self, run) -> bool:
    """DARTS+ early stopping and the other guards' stop rules (`search_hooks.stop_reason`)."""
    return bool(search_hooks.stop_reason(self.config, run.history))

  def checkpoint_metrics(self, record):
    return None

  def write_results(self, run) -> None:
    (self.workdir / "history.json").write_text(json.dumps(run.history))

  def describe(self, record: dict) -> str:
    return f"k={record['k']}: " + ", ".join(
      f"{name.split('/')[-1]} {value:.3f}"
      for name, value in record.items()
      if "/" in name and isinstance(value, float)
    )


def run_search(
  config: ml_collections.ConfigDict,
  workdir: str | pathlib.Path,
  *,
  devices=None,
  stop_after_epochs: int | None = None,
) -> dict[str, Any]:
  """Runs (or resumes) the search; returns the final genotype, α, β, H and history."""
  if config.epochs < 1 or config.warmup_epochs < 0 or config.batch_size < 1:
    raise ValueError(
      f"need epochs >= 1, warmup_epochs >= 0, batch_size >= 1; got "
      f"{config.epochs}, {config.warmup_epochs}, {config.batch_size}"
    )
  workdir = pathlib.Path(workdir)
  with workdir_lib.claim(workdir, search_record(config)):
    task = SearchTask(config, parallel.make_data_mesh(devices))
    task.workdir = workdir
    run = loop.run_epochs(
      task,
      workdir,
      name="search",
      epochs=config.epochs,
      steps_per_epoch=task.steps_per_epoch,
      progress=config.progress,
      log_every=config.log_every,
      stop_after_epochs=stop_after_epochs,
    )
    return finish(config, workdir, run, task.state, task.op_names)


def finish(config, workdir, run: loop.RunState, state, op_names) -> dict[str, Any]:
  """Writes the genotype (JSON + diagram) and the α/β/H history plot; returns the summary."""
  last = run.history[-1]
  genotype = genotypes.Genotype.from_json(last["genotype"])
  if jax.process_index() == 0:
    genotypes.save(
      genotype,
      workdir / "genotype.json",
      search_space=config.space,
      ops=list(op_names),
      **search_hooks.genotype_metadata(config, run.history, genotype),
    )
    search_hooks.write_plots(config, workdir, run.history)
    cell_diagram.save_genotype_diagram(genotype, workdir / "genotype.png", title="searched")
    arch_plots.save_history_plot(run.history, op_names, workdir / "arch_history.png")
  return {
    "genotype": genotype,
    "alpha": np.asarray(jax.device_get(state.arch["alpha"])),
    "beta": np.asarray(jax.device_get(state.arch["beta"])),
    "history": run.history,
    "active": np.asarray(run.extra["active"]),
  }


def search_modality(config) -> modality_lib.Modality:
  """The modality of a search: faces, or speech with the LFCC or the fixed sinc front end
  (`config.frontend`, Raw PC-DARTS) as the network's input."""
  return modality_lib.modality_of(
    config, speech_features=config.frontend, sinc=config.sinc.to_dict()
  )
