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

import dataclasses
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
from fakenas_jax.run import compile_ahead, loop
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


@dataclasses.dataclass
class Programs:
  """The programs of the supernet at one k (only a new k recompiles; WORKSPACE.md, Compile
  ahead): its initialisation (key → SearchState), its steps by name ('weight' and 'arch', or
  'meta') and the estimation errors of one batch (Eq. 4)."""

  k: int
  network: SearchNetwork
  init: compile_ahead.Program
  steps: dict[str, compile_ahead.Program]
  errors: compile_ahead.Program

  def all(self) -> list[compile_ahead.Program]:
    return [self.init, *self.steps.values(), self.errors]

  def by_name(self, name: str) -> compile_ahead.Program:
    return self.errors if name == "errors" else self.steps[name]


class SearchTask(loop.StateTask):
  """FD-NAS Alg. 1 / 2 as a `loop.Task`: the bilevel (or meta) step, then at the end of an
  epoch estimate (Eq. 4–5) → importance (Eq. 8) → genotype (Eq. 9) → prune and regrow."""

  name = "search"

  def __init__(self, config, mesh):
    self.config, self.mesh = config, mesh
    self.replicated = parallel.replicated_sharding(mesh)
    self.op_names, _ = search_space(config)
    self.modality = search_modality(config)
    self.corpora = search_steps.cross_dataset_corpora(config)
    self.cross = bool(self.corpora)
    if self.cross:
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
    self.network_batch = jax.jit(search_steps.make_network_batch(self.modality))
    self.use(self.make_programs(config.k))
    self.state = self.fresh_state(config.seed)
    self.rng = jax.random.key(config.seed + 17)
    self.next_programs: Programs | None = None  # the next k's, compiled during the epoch
    self.specs: dict | None = None  # abstract step arguments, from the first step
    self.switch_start = self.switch_seconds = None

  def initial_extra(self) -> dict:
    n_ops = len(self.op_names)
    return {
      "prunings": 0,
      "active": np.ones((2, genotypes.edges_per_cell(), n_ops), bool).tolist(),
      "estimation": np.zeros((2, genotypes.edges_per_cell(), n_ops)).tolist(),
    }

  def make_programs(self, k: int) -> Programs:
    """The jitted programs of the supernet at `k` (compiled on first use or ahead)."""
    config, chunk = self.config, self.config.estimation_chunk
    network = build_network(config, k)
    x = modality_lib.zeros_input(self.modality, config.batch_size)  # faces, LFCC, …

    def init(key):
      variables = network.init(key, x)
      return bilevel.init_state(
        variables["params"],
        variables["arch"],
        variables["batch_stats"],
        self.weight_tx,
        self.arch_tx,
      )

    loss = search_steps.make_search_loss(
      network,
      self.modality,
      class_weights=config.class_weights,
      penalty=functools.partial(cost.with_penalty, config),  # λ_cost·E_α[cost] when set
    )
    if self.cross:
      settings = config.cross_dataset
      steps = {
        "meta": jax.jit(
          search_steps.make_meta_step(
            loss,
            self.weight_tx,
            self.arch_tx,
            inner_learning_rate=settings.inner_learning_rate,
            second_order=settings.second_order,
          ),
          static_argnames="update_arch",
        )
      }
    else:
      steps = {
        "weight": jax.jit(search_steps.make_weight_step(loss, self.weight_tx)),
        "arch": jax.jit(
          search_steps.make_arch_step(
            loss, self.arch_tx, self.weight_tx, second_order=config.second_order
          )
        ),
      }

    def errors(state, batch, search_inputs):
      variables = {"params": state.params, "arch": state.arch, "batch_stats": state.model_state}
      return network_loss.override_errors(network, variables, search_inputs, batch, chunk=chunk)

    program = lambda fn, name: compile_ahead.Program(fn, f"{name} (k={k})")
    return Programs(
      k=k,
      network=network,
      # The rbg generator compiles far faster than threefry for the hundreds of parameter leaves.
      init=program(jax.jit(init), "initialisation"),
      steps={name: program(fn, f"{name} step") for name, fn in steps.items()},
      errors=program(jax.jit(errors), "estimation"),
    )

  def use(self, programs: Programs) -> None:
    self.programs, self.k, self.network = programs, programs.k, programs.network

  def fresh_state(self, seed: int, programs: Programs | None = None):
    return (programs or self.programs).init(jax.random.key(seed, impl="rbg"))

  # The loop's Task interface.
  def restore_target(self, meta: dict):
    k = pruning.channel_divisor(self.config.k, meta["extra"]["prunings"])
    if k != self.k:
      self.use(self.make_programs(k))
    self.state = self.fresh_state(self.config.seed)
    return super().restore_target(meta)

  def start(self, run) -> None:
    if not run.extra:
      run.extra = self.initial_extra()
    self.place_state()
    self.feed.start(run.positions)

  def prunes_after(self, epoch: int) -> bool:
    """Whether epoch `epoch` (epochs done) ends in a pruning (Alg. 1 line 9)."""
    config = self.config
    return config.warmup_epochs < epoch < config.epochs and pruning.is_pruning_epoch(
      epoch, config.prune_every
    )

  def new_k_after(self, epoch: int, prunings: int) -> int | None:
    """The k after epoch `epoch` (epochs done) when that epoch ends in a pruning that changes
    k (Alg. 1 line 9), else None."""
    if not self.prunes_after(epoch):
      return None
    k = pruning.channel_divisor(self.config.k, prunings + 1)
    return k if k != self.k else None

  def step_specs(self, programs: Programs, state_spec) -> dict[str, tuple[tuple, dict]]:
    """Abstract arguments (and static ones) of every program of `programs`."""
    s = self.specs
    batch, rng, inputs = s["batch"], s["rng"], s["inputs"]
    specs = {"errors": ((state_spec, s["network_batch"], inputs), {})}
    if self.cross:
      sources = (batch,) * (len(self.corpora) - 1)
      specs["meta"] = ((state_spec, sources, batch, rng, inputs), {"update_arch": True})
    else:
      train_batch = batch if self.config.second_order else None
      specs["weight"] = ((state_spec, batch, rng, inputs), {})
      specs["arch"] = ((state_spec, batch, train_batch, rng, inputs), {})
    return specs

  def compile_programs_ahead(self, run, batch, rng, now: str) -> None:
    """At the first step: the programs the main thread does not compile now (`now`) start
    compiling in the background, and the next k's if this epoch ends in a pruning. Called
    once: `self.specs` is None until then."""
    self.specs = compile_ahead.spec_of(
      dict(batch=batch, rng=rng, inputs=self.inputs, network_batch=self.network_batch(batch))
    )
    for name, (specs, static) in self.step_specs(
      self.programs, compile_ahead.spec_of(self.state)
    ).items():
      if name != now:
        self.programs.by_name(name).compile_ahead(*specs, **static)
    self.compile_next_ahead(run)

  def compile_next_ahead(self, run) -> None:
    """The next k's initialisation and steps, compiled while this epoch runs (no stall at the
    pruning that ends it)."""
    new_k = self.new_k_after(run.epoch + 1, run.extra["prunings"])
    if new_k is None or self.specs is None or self.next_programs is not None:
      return
    programs = self.make_programs(new_k)
    key = jax.random.key(0, impl="rbg")
    programs.init.compile_ahead(compile_ahead.spec_of(key))
    state_spec = compile_ahead.with_sharding(
      jax.eval_shape(programs.init.jitted, key), self.replicated
    )
    for name, (specs, static) in self.step_specs(programs, state_spec).items():
      programs.by_name(name).compile_ahead(*specs, **static)
    self.next_programs = programs

  def cancel_compiles(self) -> None:
    for programs in (self.programs, self.next_programs):
      for program in programs.all() if programs else []:
        program.cancel()

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
    inputs = network_loss.SearchInputs(
      active=np.asarray(run.extra["active"]),
      estimation=np.asarray(run.extra["estimation"], np.float32),
      use_estimation=np.asarray(
        bool(self.config.indicator) and run.epoch > self.config.warmup_epochs
      ),
    )
    return jax.device_put(inputs, self.replicated)

  def begin_epoch(self, run) -> None:
    self.inputs = self.search_inputs(run)
    if self.config.compile_ahead:
      self.compile_next_ahead(run)

  def step(self, run):
    metrics = self.search_step(run)
    if self.switch_start is not None:  # the first step after a new k: the switch's end
      jax.block_until_ready(metrics)
      self.switch_seconds = time.perf_counter() - self.switch_start
      self.switch_start = None
    return metrics

  def search_step(self, run):
    self.rng, rng = jax.random.split(self.rng)
    update_arch = run.epoch >= self.config.warmup_epochs
    steps, ahead = self.programs.steps, self.config.compile_ahead and self.specs is None
    if self.cross:  # Alg. 2: a random target corpus, the others are sources
      step_index = run.epoch * self.steps_per_epoch + run.step_in_epoch
      target = search_steps.cross_dataset_target(self.config.seed, step_index, len(self.corpora))
      sources = tuple(
        self.feed.batch(f"train/{spec}") for i, spec in enumerate(self.corpora) if i != target
      )
      target_batch = self.feed.batch(f"train/{self.corpora[target]}")
      if ahead:
        self.compile_programs_ahead(run, target_batch, rng, now="meta" if update_arch else "")
      self.state, metrics = steps["meta"](
        self.state, sources, target_batch, rng, self.inputs, update_arch=update_arch
      )
      return metrics
    arch_rng, weight_rng = jax.random.split(rng)  # Alg. 1: α on D_S, then w on D_Eval
    if update_arch:
      train_batch = self.feed.batch("weights") if self.config.second_order else None
      arch_batch = self.feed.batch("arch")
      if ahead:
        self.compile_programs_ahead(run, arch_batch, arch_rng, now="arch")
      self.state, _ = steps["arch"](self.state, arch_batch, train_batch, arch_rng, self.inputs)
    batch = self.feed.batch("weights")
    if ahead and self.specs is None:
      self.compile_programs_ahead(run, batch, weight_rng, now="weight")
    self.state, metrics = steps["weight"](self.state, batch, weight_rng, self.inputs)
    return metrics

  def end_epoch(self, run, metrics: dict) -> dict:
    config, extra = self.config, run.extra
    estimation_start = time.perf_counter()
    if config.indicator and run.epoch >= config.warmup_epochs:
      search_batches, held_out_batches = self.estimation_batches()
      errors_fn = self.programs.errors
      search_errors = [errors_fn(self.state, b, self.inputs) for b in search_batches]
      held_out_errors = [errors_fn(self.state, b, self.inputs) for b in held_out_batches]
      scores = estimation.estimation_scores(
        jnp.stack(search_errors, -1),
        jnp.stack(held_out_errors, -1),
        jnp.asarray(extra["active"]),
        form=config.indicator_form,
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
    if self.switch_seconds is not None:  # prune → grown state → first step at the new k
      metrics["time/switch_s"], self.switch_seconds = self.switch_seconds, None
    record = {
      "k": self.k,
      "alpha": np.asarray(jax.nn.softmax(arch["alpha"], -1)).round(5).tolist(),
      "beta": np.asarray(arch["beta"]).round(5).tolist(),
      "importance": np.where(np.isfinite(importance), importance, -1.0).round(5).tolist(),
      **({"estimation": np.round(extra["estimation"], 5).tolist()} if config.indicator else {}),
      "genotype": genotype.to_json(),
      **metrics,
    }
    if self.prunes_after(run.epoch):
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
      self.switch_start = time.perf_counter()
      programs = self.next_programs
      if programs is None or programs.k != new_k:
        programs = self.make_programs(new_k)
      self.next_programs = None
      fresh = self.fresh_state(self.config.seed + extra["prunings"], programs)
      self.state = jax.device_put(
        grow_like(jax.device_get(self.state), jax.device_get(fresh)), self.replicated
      )
      self.use(programs)
      if self.config.compile_ahead and self.specs is not None:  # its estimation, meanwhile
        specs, static = self.step_specs(programs, compile_ahead.spec_of(self.state))["errors"]
        programs.errors.compile_ahead(*specs, **static)

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
  if config.indicator_form not in estimation.FORMS:
    raise ValueError(
      f"unknown config.indicator_form {config.indicator_form!r}; use one of "
      f"{', '.join(estimation.FORMS)}"
    )
  search_hooks.capped_cells(dict(config.guards or {}))  # a bad value fails before any work
  workdir = pathlib.Path(workdir)
  with workdir_lib.claim(workdir, search_record(config)):
    task = SearchTask(config, parallel.make_data_mesh(devices))
    task.workdir = workdir
    try:
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
    finally:
      task.cancel_compiles()
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
