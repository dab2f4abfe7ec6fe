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
import json
import pathlib
import signal
import time
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import tqdm

from fakenas_jax import checkpoints, metrics_log, parallel
from fakenas_jax.nas.supernet import SearchNetwork
from fakenas_jax.nas import arch_plots, bilevel, cell_diagram, estimation, network_loss, optimizers, pruning, search_steps, speech_steps
from fakenas_jax.nas import search_hooks
from fakenas_jax.nn import genotypes
from fakenas_jax.nn import registry


class NonFiniteLossError(FloatingPointError):
  """The loss became NaN or infinite; the last good checkpoint is kept."""


class Interrupted(Exception):
  """SIGTERM arrived; a checkpoint was written."""


def search_space(config) -> tuple[tuple[str, ...], str]:
  """(operation names, reducing skip) of the configured space or explicit operation list."""
  if config.ops:
    names = tuple(config.ops)
    for name in names:
      registry.parse_op_name(name)
    return names, config.reducing_skip or "factorized_reduce"
  if config.space not in registry.SEARCH_SPACES:
    raise ValueError(f"unknown search space {config.space!r}; known: "
                     f"{', '.join(registry.SEARCH_SPACES)}")
  return (registry.SEARCH_SPACES[config.space],
          config.reducing_skip or registry.SPACE_REDUCING_SKIP[config.space])


def build_network(config, k: int) -> SearchNetwork:
  op_names, reducing_skip = search_space(config)
  return SearchNetwork(op_names, layout=config.layout, channels=config.channels, k=k,
                       num_classes=config.num_classes, stem_multiplier=config.stem_multiplier,
                       reducing_skip=reducing_skip, indicator_lambda=config.indicator_lambda,
                       stem=config.get("stem", "cifar"))


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


@dataclasses.dataclass
class SearchRun:
  """The mutable bookkeeping of one search run (what `meta` of a checkpoint holds)."""

  epoch: int = 0  # epochs completed
  step_in_epoch: int = 0  # steps of the current epoch done (non-zero after SIGTERM)
  sums: dict = dataclasses.field(default_factory=dict)  # metric sums of the current epoch
  prunings: int = 0
  active: list | None = None
  estimation: list | None = None
  iterators: dict = dataclasses.field(default_factory=dict)
  history: list = dataclasses.field(default_factory=list)


def run_search(config: ml_collections.ConfigDict, workdir: str | pathlib.Path,
               *, devices=None, stop_after_epochs: int | None = None) -> dict[str, Any]:
  """Runs (or resumes) the search; returns the final genotype, α, β, H and history."""
  if config.epochs < 1 or config.warmup_epochs < 0 or config.batch_size < 1:
    raise ValueError(f"need epochs >= 1, warmup_epochs >= 0, batch_size >= 1; got "
                     f"{config.epochs}, {config.warmup_epochs}, {config.batch_size}")
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  (workdir / "config.json").write_text(config.to_json_best_effort(indent=2))
  mesh = parallel.make_data_mesh(devices)
  replicated = parallel.replicated_sharding(mesh)
  op_names, _ = search_space(config)
  n_ops = len(op_names)
  steps = make_steps(config, mesh)
  steps_per_epoch = steps.steps_per_epoch
  if config.steps_per_epoch:
    steps_per_epoch = min(steps_per_epoch, config.steps_per_epoch)
  total_steps = steps_per_epoch * config.epochs
  opt_config = optimizers.OptimizerConfig(**dict(config.optimizer))
  weight_tx, arch_tx = optimizers.bilevel_optimizers(opt_config, total_steps)

  run = SearchRun(active=np.ones((2, genotypes.edges_per_cell(), n_ops), bool).tolist(),
                  estimation=np.zeros((2, genotypes.edges_per_cell(), n_ops)).tolist())
  k = config.k

  def fresh_state(k_now, seed):
    network = build_network(config, k_now)
    x = jnp.zeros(steps.input_shape)  # what the steps feed the network (faces, LFCC, …)
    # The rbg generator compiles far faster than threefry for the hundreds of parameter leaves.
    variables = jax.jit(lambda key: network.init(key, x))(jax.random.key(seed, impl="rbg"))
    state = bilevel.init_state(variables["params"], variables["arch"], variables["batch_stats"],
                               weight_tx, arch_tx)
    return network, state

  network, state = fresh_state(k, config.seed)
  rng = jax.random.key(config.seed + 17)
  ckpt = checkpoints.Checkpointer(workdir / "checkpoints", keep=2)
  if ckpt.latest_step() is not None:
    meta = ckpt.read_meta(ckpt.latest_step())
    k = pruning.channel_divisor(config.k, meta["prunings"])
    network, state = fresh_state(k, config.seed)
    target = checkpoints.abstract_like({"state": state, "rng": jax.random.key_data(rng)}, replicated)
    restored, meta = ckpt.restore(target)
    state, rng = restored["state"], jax.random.wrap_key_data(restored["rng"])
    run = SearchRun(**{f.name: meta[f.name] for f in dataclasses.fields(SearchRun)})
  state = jax.device_put(state, replicated)

  steps.start(run.iterators)

  def compile_for(network):
    """Compiles the steps and returns the errors function of Eq. 4 for `network`."""
    steps.compile(network, weight_tx, arch_tx)

    @jax.jit
    def errors(state, batch, search_inputs):
      variables = {"params": state.params, "arch": state.arch, "batch_stats": state.model_state}
      return network_loss.override_errors(network, variables, search_inputs, batch,
                                          chunk=config.estimation_chunk)
    return errors

  errors_fn = compile_for(network)
  log = metrics_log.MetricsLog(workdir)
  stop = {"signal": False}
  previous = signal.signal(signal.SIGTERM, lambda *_: stop.update(signal=True))

  def search_inputs():
    return network_loss.SearchInputs(
        active=jnp.asarray(run.active), estimation=jnp.asarray(run.estimation, jnp.float32),
        use_estimation=jnp.asarray(bool(config.indicator) and run.epoch > config.warmup_epochs))

  def save():
    """Checkpoint numbered by steps done, so one taken mid-epoch (SIGTERM) sorts last."""
    run.iterators = steps.positions()
    ckpt.save(run.epoch * steps_per_epoch + run.step_in_epoch,
              {"state": state, "rng": jax.random.key_data(rng)}, dataclasses.asdict(run))

  last_epoch = config.epochs if stop_after_epochs is None else min(
      config.epochs, run.epoch + stop_after_epochs)
  try:
    while run.epoch < last_epoch and not search_hooks.stop_reason(config, run.history):
      inputs = search_inputs()
      bar = tqdm.tqdm(range(run.step_in_epoch, steps_per_epoch), initial=run.step_in_epoch,
                      total=steps_per_epoch, desc=f"epoch {run.epoch + 1}/{config.epochs}",
                      disable=not config.progress, leave=False)
      sums = run.sums
      epoch_start = time.perf_counter()
      for step_in_epoch in bar:
        if stop["signal"]:
          raise Interrupted
        rng, step_rng = jax.random.split(rng)
        new_state, metrics = steps.step(
            state, step_rng, inputs, update_arch=run.epoch >= config.warmup_epochs,
            step_index=run.epoch * steps_per_epoch + step_in_epoch)
        metrics = jax.device_get(metrics)
        if not np.isfinite(metrics["loss"]):
          raise NonFiniteLossError(
              f"non-finite loss at epoch {run.epoch + 1}; the last good checkpoint is kept in "
              f"{ckpt.directory}")
        state = new_state
        run.step_in_epoch = step_in_epoch + 1
        for name, value in metrics.items():
          sums[name] = sums.get(name, 0.0) + float(value)
        bar.set_postfix(loss=f"{metrics['loss']:.3f}", acc=f"{metrics['accuracy']:.2f}",
                        H=f"{metrics['arch_entropy']:.3f}")
      run.epoch, run.step_in_epoch, run.sums = run.epoch + 1, 0, {}
      epoch_metrics = {f"train/{name}": value / steps_per_epoch for name, value in sums.items()}
      epoch_metrics["time/epoch_s"] = time.perf_counter() - epoch_start
      estimation_start = time.perf_counter()

      if config.indicator and run.epoch >= config.warmup_epochs:
        search_batches, held_out_batches = steps.estimation_batches()
        search_errors = [errors_fn(state, batch, inputs) for batch in search_batches]
        held_out_errors = [errors_fn(state, batch, inputs) for batch in held_out_batches]
        scores = estimation.estimation_scores(jnp.stack(search_errors, -1),
                                              jnp.stack(held_out_errors, -1),
                                              jnp.asarray(run.active))
        run.estimation = np.asarray(scores).tolist()
        epoch_metrics["time/estimation_s"] = time.perf_counter() - estimation_start
      importance = np.asarray(jnp.stack([estimation.importance(
          state.arch["alpha"][t], state.arch["beta"][t],
          jnp.asarray(run.estimation[t]) if config.indicator else None,
          jnp.asarray(run.active[t]), config.indicator_lambda) for t in (0, 1)]))
      genotype = genotypes.derive(importance[0], importance[1], op_names)
      genotype, guard_metrics = search_hooks.end_of_epoch(  # collapse guards (nas/collapse.py)
          config, genotype, importance, op_names, network=network, state=state, steps=steps,
          inputs=inputs, epoch=run.epoch)
      epoch_metrics.update(guard_metrics)
      run.history.append({
          "epoch": run.epoch, "k": k,
          "alpha": np.asarray(jax.nn.softmax(state.arch["alpha"], -1)).round(5).tolist(),
          "beta": np.asarray(state.arch["beta"]).round(5).tolist(),
          "importance": np.where(np.isfinite(importance), importance, -1.0).round(5).tolist(),
          "genotype": genotype.to_json(), **epoch_metrics})
      log.write(run.epoch, epoch_metrics)
      if config.progress:
        print(f"epoch {run.epoch}/{config.epochs} k={k}: " + ", ".join(
            f"{name.split('/')[-1]} {value:.3f}" for name, value in epoch_metrics.items()),
            flush=True)

      if (run.epoch > config.warmup_epochs and run.epoch < config.epochs
          and pruning.is_pruning_epoch(run.epoch, config.prune_every)):
        never_last = np.array([name == "none" for name in op_names])
        run.active = np.stack([pruning.prune(importance[t], np.asarray(run.active[t]),
                                             config.prune_drop, never_last)
                               for t in (0, 1)]).tolist()
        run.prunings += 1
        new_k = pruning.channel_divisor(config.k, run.prunings)
        if new_k != k:
          k = new_k
          network, fresh = fresh_state(k, config.seed + run.prunings)
          state = jax.device_put(grow_like(jax.device_get(state), jax.device_get(fresh)), replicated)
          errors_fn = compile_for(network)
      save()
  except Interrupted:
    save()
    raise
  finally:
    signal.signal(signal.SIGTERM, previous)
    log.close()
    ckpt.close()

  return finish(config, workdir, run, state, op_names)


def finish(config, workdir, run: SearchRun, state, op_names) -> dict[str, Any]:
  """Writes the genotype (JSON + diagram) and the α/β/H history plot; returns the summary."""
  last = run.history[-1]
  genotype = genotypes.Genotype.from_json(last["genotype"])
  genotypes.save(genotype, workdir / "genotype.json", search_space=config.space,
                 ops=list(op_names), **search_hooks.genotype_metadata(config, run.history, genotype))
  search_hooks.write_plots(config, workdir, run.history)
  cell_diagram.save_genotype_diagram(genotype, workdir / "genotype.png", title="searched")
  (workdir / "history.json").write_text(json.dumps(run.history))
  arch_plots.save_history_plot(run.history, op_names, workdir / "arch_history.png")
  return {"genotype": genotype, "alpha": np.asarray(state.arch["alpha"]),
          "beta": np.asarray(state.arch["beta"]), "history": run.history,
          "active": np.asarray(run.active)}


MODALITIES = ("face", "speech")


def make_steps(config, mesh) -> search_steps.InDatasetSteps:
  """Speech steps when `config.modality` is 'speech'; else cross-dataset steps when
  `config.cross_dataset.datasets` names corpora, else in-dataset."""
  modality = config.get("modality", "face")
  if modality not in MODALITIES:
    raise ValueError(f"unknown modality {modality!r}; use one of {', '.join(MODALITIES)}")
  if modality == "speech":
    return speech_steps.SpeechSteps(config, mesh)
  cross = config.get("cross_dataset")
  if cross is not None and cross.datasets:
    return search_steps.CrossDatasetSteps(config, mesh)
  return search_steps.InDatasetSteps(config, mesh)
