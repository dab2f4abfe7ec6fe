"""Training a detector, resumable: `train_and_evaluate(config, workdir)`.

    result = train_and_evaluate(config, workdir)     # what `python -m fakenas_jax.train` calls

The network is `models.factory.build_model(config.model)`; the loss (`losses.loss_for`) has the
terms its outputs and `config.loss` ask for, and the input pipeline decodes the masks those
terms read (ADD's face hull, BiG-Arts' intrinsic / extrinsic masks). One step is one optimiser
update on a global batch sharded over the `data` mesh (state replicated; batch statistics and
gradients over the global batch). After each epoch the validation split is predicted (frame
and video AUC, accuracy; FD-NAS §4.1 reports AUC) and a checkpoint is written.

What is read and how it is validated comes from the run's modality (`train_modality`,
`data.modality`): frames of a face corpus, validated by AUC, or with `config.modality =
'speech'` utterances of a speech corpus (the LFCC computed inside the step, validation by EER
and the best checkpoint the one of lowest `val/eer`; `training.validation`).

Checkpoints (Orbax, `<workdir>/checkpoints`, step = optimiser steps done): the `TrainState`
(weights, batch statistics, optimiser state) and the RNG as arrays; the epoch, the position in
the epoch, the training iterator's state and the history as JSON. The newest `checkpoint_keep`
are kept, and the one with the best validation frame AUC (`val/auc`). Re-running with the same
workdir resumes exactly: the same batches, dropout masks and updates as an uninterrupted run.
SIGTERM writes a checkpoint at the next step and raises `Interrupted`; a non-finite loss raises
`NonFiniteLossError` and keeps the last good checkpoint.

Written into the workdir: `config.json` (the config, the model's resolved), `metrics.jsonl` and
TensorBoard events, `history.json` (one record per epoch) and `training_curves.png`.

DARTS-style networks with drop path get the probability `model.drop_path_prob · e / epochs` in
epoch e = 0, 1, … (DARTS's evaluation schedule, linear in the epoch), as a call argument, so the
schedule changes values, not the compiled program.
"""

from __future__ import annotations

import functools
import json
import pathlib
import shutil
import time
from typing import Any

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils

from fakenas_jax import errors, parallel
from fakenas_jax.data import corpus, degradations, forgery_augmentation, preprocess
from fakenas_jax.data import modality as modality_lib
from fakenas_jax.models import factory
from fakenas_jax.run import loop
from fakenas_jax.run import workdir as workdir_lib
from fakenas_jax.training import curves, losses, optimizer, steps, validation
from fakenas_jax.training import train_state as train_state_lib

BEST_METRIC = "val/auc"
AUGMENTATIONS = {
  "none": None,
  "flip": preprocess.random_horizontal_flip,
  "jpeg": degradations.random_jpeg,
}  # jpeg: BiG-Arts' quality in [75, 100]


NonFiniteLossError = errors.NonFiniteLossError


Interrupted = errors.Interrupted


def resolved_model_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """`config.model` with every field of the network (its defaults filled in)."""
  return factory.resolve_config(config.model.to_dict())


def _check_config(config, mesh) -> None:
  if config.epochs < 1 or config.batch_size < 1 or config.eval_batch_size < 1:
    raise ValueError(
      f"need epochs >= 1, batch_size >= 1 and eval_batch_size >= 1; got "
      f"{config.epochs}, {config.batch_size}, {config.eval_batch_size}"
    )
  for name in ("batch_size", "eval_batch_size"):
    if config[name] % mesh.size:
      raise ValueError(
        f"{name} ({config[name]}) must be a multiple of the {mesh.size} devices of the data mesh"
      )
  if config.augment not in AUGMENTATIONS:
    raise ValueError(f"unknown augment {config.augment!r}; use one of {sorted(AUGMENTATIONS)}")


def _copy_genotype(model_config, workdir: pathlib.Path) -> None:
  """A genotype given as a file is copied beside the checkpoints (process 0), so evaluation
  finds it; `model_config.genotype` then names the copy, as `config.json` does."""
  genotype = model_config.get("genotype", "")
  if genotype and pathlib.Path(genotype).is_file():
    target = workdir / "genotype.json"
    if pathlib.Path(genotype).resolve() != target.resolve() and jax.process_index() == 0:
      shutil.copyfile(genotype, target)
    model_config.genotype = str(target.resolve())


def train_modality(config: ml_collections.ConfigDict) -> modality_lib.Modality:
  """The modality of a training config; a speech network with the sinc front end
  (`model.frontend = 'sinc'`) takes the waveform itself, others the LFCC."""
  frontend = resolved_model_config(config).frontend
  return modality_lib.modality_of(
    config, speech_features="waveform" if frontend == "sinc" else "lfcc"
  )


def _stored_copy_name(workdir: pathlib.Path) -> str:
  """How this workdir's `config.json` names its genotype copy, when it names one at another
  place (the workdir was moved or copied): the same cells, so a resume is not refused."""
  path = workdir / workdir_lib.CONFIG_FILE
  if not path.is_file():
    return ""
  try:
    stored = json.loads(path.read_text()).get("model", {}).get("genotype", "")
  except (json.JSONDecodeError, AttributeError):
    return ""  # check_resume reports a damaged record
  moved = stored and pathlib.Path(stored).name == "genotype.json"
  return stored if moved and pathlib.Path(stored) != (workdir / "genotype.json").resolve() else ""


def saved_config(config: ml_collections.ConfigDict, workdir: pathlib.Path):
  """The config as `config.json` stores it: the model's fields resolved, a genotype file named
  by its copy in the workdir when that copy holds the same cells (`_copy_genotype`)."""
  model_config = resolved_model_config(config)
  saved_model = ml_collections.ConfigDict(model_config.to_dict())
  genotype = model_config.get("genotype", "")
  target = workdir / "genotype.json"
  if (
    genotype
    and pathlib.Path(genotype).is_file()
    and (not target.exists() or target.read_bytes() == pathlib.Path(genotype).read_bytes())
  ):
    saved_model.genotype = _stored_copy_name(workdir) or str(target.resolve())
  saved = ml_collections.ConfigDict(config.to_dict())
  saved.model = saved_model
  # `model_config` still names the source file, which `_copy_genotype` copies into the workdir.
  return saved, model_config


class TrainTask(loop.StateTask):
  """Training as a `loop.Task`: the train step, then validation after each epoch."""

  name = "training"

  def __init__(self, config, model_config, workdir: pathlib.Path, mesh):
    self.config, self.workdir, self.mesh = config, workdir, mesh
    self.replicated = parallel.replicated_sharding(mesh)
    self.model = factory.build_model(model_config)
    self.modality = modality = train_modality(config)
    variables = train_state_lib.init_variables(self.model, modality.example_shape, config.seed)
    self.names = train_state_lib.output_names(self.model, variables, modality.example_shape)
    self.loss = losses.loss_for(config, self.names)
    builder = corpus.prepared_builder(
      config.dataset, config.data_dir, config.corpus_overrides.to_dict()
    )
    train_source = corpus.split_source(builder, "train")
    # BiG-Arts §3.3: (Real, Real) / (Fake, Real) composites in every batch.
    sampler = (
      forgery_augmentation.ForgerySampler.from_config(train_source, config.forgery)
      if config.forgery_augmentation
      else None
    )
    self.train_pipeline = modality.pipeline(
      train_source,
      batch_size=config.batch_size,
      training=True,
      seed=config.seed,
      masks=self.loss.masks,
      augment=AUGMENTATIONS[config.augment],
      sampler=sampler,
    )
    self.validation_pipeline = modality.with_frames_per_video(
      config.eval_frames_per_video
    ).pipeline(
      corpus.split_source(builder, config.validation_split),
      batch_size=config.eval_batch_size,
      training=False,
    )
    self.validate = validation.make_validator(modality, self.model)
    self.steps_per_epoch = self.train_pipeline.steps_per_epoch
    if config.steps_per_epoch:
      self.steps_per_epoch = min(self.steps_per_epoch, config.steps_per_epoch)
    self.tx, self.schedule = optimizer.make_optimizer(
      config.optimizer, steps_per_epoch=self.steps_per_epoch, epochs=config.epochs
    )
    self.state = train_state_lib.create_train_state(variables, self.tx)
    self.rng = jax.random.key(config.seed + 1)
    self.max_drop_path = float(model_config.get("drop_path_prob", 0.0) or 0.0)
    self.train_step = jax.jit(
      steps.make_train_step(
        self.model,
        self.loss,
        self.tx,
        network_input=functools.partial(modality.network_input, train=True),
      ),
      donate_argnums=_donated(mesh),
    )

  def start(self, run) -> None:
    self.place_state()
    self.iterator = iter(self.train_pipeline)
    if run.positions:
      self.iterator.set_state(run.positions["train"])

  def positions(self) -> dict:
    return {"train": self.iterator.get_state()}

  def begin_epoch(self, run) -> None:
    self.drop_path_prob = np.float32(self.max_drop_path * run.epoch / self.config.epochs)

  def step(self, run):
    batch = next(self.iterator)
    batch = parallel.shard_batch(self.modality.device_batch(batch, self.loss.masks), self.mesh)
    self.state, metrics = self.train_step(self.state, batch, self.rng, self.drop_path_prob)
    return metrics

  def end_epoch(self, run, metrics: dict) -> dict:
    config = self.config
    record = {"step": int(self.state.step), **metrics}
    record["train/learning_rate"] = float(self.schedule(int(self.state.step) - 1))
    record["train/drop_path_prob"] = float(self.drop_path_prob)
    if "time/steps_per_s" in record:
      record["time/images_per_s"] = record.pop("time/steps_per_s") * config.batch_size
    val_start = time.perf_counter()
    record.update(
      self.validate(
        self.state.variables,
        self.validation_pipeline,
        self.mesh,
        max_batches=config.validation_batches or None,
        progress=config.progress,
      )
    )
    record["time/validation_s"] = time.perf_counter() - val_start
    return record

  def should_stop(self, run) -> bool:
    return False

  def checkpoint_metrics(self, record):
    best = self.modality.best_metric
    return {best: record.get(best, float("nan"))}

  def write_results(self, run) -> None:
    _write_history(self.workdir, run.history, self.config)

  def describe(self, record: dict) -> str:
    shown = (
      "train/loss",
      "train/accuracy",
      "val/loss",
      "val/accuracy",
      "val/auc",
      "val/video_auc",
      "val/eer",
      "time/epoch_s",
    )
    return ", ".join(f"{name} {record[name]:.4f}" for name in shown if name in record)


def train_and_evaluate(
  config: ml_collections.ConfigDict,
  workdir: str | pathlib.Path,
  *,
  devices=None,
  stop_after_epochs: int | None = None,
) -> dict[str, Any]:
  """Trains (or resumes training of) the configured detector; returns its history and state.

  Returns a dict: `history` (per-epoch records), `best` (epoch, step and the best metric —
  `val/auc`, or `val/eer` for speech — of the best checkpoint), `state` (the final
  `TrainState`, replicated on the mesh), `output_names`, `masks`.
  """
  workdir = pathlib.Path(workdir)
  mesh = parallel.make_data_mesh(devices)
  _check_config(config, mesh)
  saved, model_config = saved_config(config, workdir)
  with workdir_lib.claim(workdir, saved):
    _copy_genotype(model_config, workdir)
    if jax.process_count() > 1:  # the others build the model from process 0's copy
      multihost_utils.sync_global_devices("genotype copied")
    task = TrainTask(config, model_config, workdir, mesh)
    best_metric, best_mode = task.modality.best_metric, task.modality.best_mode
    run = loop.run_epochs(
      task,
      workdir,
      name="training",
      epochs=config.epochs,
      steps_per_epoch=task.steps_per_epoch,
      progress=config.progress,
      log_every=config.log_every,
      stop_after_epochs=stop_after_epochs,
      checkpoint_keep=config.checkpoint_keep,
      best_metric=best_metric,
      best_mode=best_mode,
    )
  return {
    "history": run.history,
    "best": loop.best_record(workdir, best_metric, best_mode),
    "state": task.state,
    "output_names": sorted(task.names),
    "masks": task.loss.masks,
    "steps_per_epoch": task.steps_per_epoch,
  }


def _donated(mesh) -> tuple[int, ...]:
  """Donating the state halves its memory on accelerators; XLA:CPU cannot use donated buffers."""
  return (0,) if mesh.devices.flat[0].platform != "cpu" else ()


def _write_history(workdir: pathlib.Path, history: list[dict], config) -> None:
  if jax.process_index() != 0:
    return
  (workdir / "history.json").write_text(json.dumps(history, indent=1))
  curves.save_training_curves(
    history, workdir / "training_curves.png", title=f"{config.model.name} on {config.dataset}"
  )
