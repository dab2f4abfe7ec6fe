"""Training a detector, resumable: `train_and_evaluate(config, workdir)`.

    result = train_and_evaluate(config, workdir)     # what `python -m fakenas_jax.train` calls

The network is `models.factory.build_model(config.model)`; the loss (`losses.loss_for`) has the
terms its outputs and `config.loss` ask for, and the input pipeline decodes the masks those
terms read (ADD's face hull, BiG-Arts' intrinsic / extrinsic masks). One step is one optimiser
update on a global batch sharded over the `data` mesh (state replicated; batch statistics and
gradients over the global batch). After each epoch the validation split is predicted (frame
and video AUC, accuracy; FD-NAS §4.1 reports AUC) and a checkpoint is written.

What is read comes from a data adapter: `FaceData` (frames of a face corpus) or, with
`config.modality = 'speech'`, `speech_data.SpeechData` (utterances of a speech corpus, the LFCC
computed inside the step, validation by EER and the best checkpoint the one of lowest
`val/eer`).

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

import dataclasses
import json
import pathlib
import shutil
import signal
import threading
import time
from typing import Any

import jax
import ml_collections
import numpy as np
import tqdm

from fakenas_jax import checkpoints, errors, metrics_log, parallel
from fakenas_jax.data import pipeline as pipeline_lib
from fakenas_jax.data import degradations, forgery_augmentation, preprocess
from fakenas_jax.metrics import detection as eval_metrics
from fakenas_jax.metrics import video_level
from fakenas_jax.models import factory
from fakenas_jax.data import corpus
from fakenas_jax.training import curves, inference, losses, optimizer, speech_data, steps
from fakenas_jax.training import train_state as train_state_lib

BEST_METRIC = "val/auc"
AUGMENTATIONS = {"none": None, "flip": preprocess.random_horizontal_flip,
                 "jpeg": degradations.random_jpeg}  # jpeg: BiG-Arts' quality in [75, 100]


NonFiniteLossError = errors.NonFiniteLossError


Interrupted = errors.Interrupted


@dataclasses.dataclass
class TrainRun:
  """The bookkeeping of a run that a checkpoint's `meta` holds."""

  epoch: int = 0  # epochs completed
  step_in_epoch: int = 0  # steps of the current epoch done (non-zero after an interruption)
  sums: dict = dataclasses.field(default_factory=dict)  # metric sums of the current epoch
  iterator: dict | None = None  # the training iterator's state
  history: list = dataclasses.field(default_factory=list)


def resolved_model_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """`config.model` with every field of the network (its defaults filled in)."""
  return factory.resolve_config(config.model.to_dict())


def _frames(value) -> int | None:
  return int(value) if value else None


def _check_config(config, mesh) -> None:
  if config.epochs < 1 or config.batch_size < 1 or config.eval_batch_size < 1:
    raise ValueError(f"need epochs >= 1, batch_size >= 1 and eval_batch_size >= 1; got "
                     f"{config.epochs}, {config.batch_size}, {config.eval_batch_size}")
  for name in ("batch_size", "eval_batch_size"):
    if config[name] % mesh.size:
      raise ValueError(f"{name} ({config[name]}) must be a multiple of the {mesh.size} devices "
                       f"of the data mesh")
  if config.augment not in AUGMENTATIONS:
    raise ValueError(f"unknown augment {config.augment!r}; use one of {sorted(AUGMENTATIONS)}")


def _copy_genotype(model_config, workdir: pathlib.Path) -> None:
  """A genotype given as a file is copied beside the checkpoints, so evaluation finds it."""
  genotype = model_config.get("genotype", "")
  if genotype and pathlib.Path(genotype).is_file():
    target = workdir / "genotype.json"
    if pathlib.Path(genotype).resolve() != target.resolve():
      shutil.copyfile(genotype, target)
    model_config.genotype = str(target.resolve())


def validation_metrics(predictions: inference.SplitPredictions) -> dict[str, float]:
  """Frame AUC, accuracy and cross-entropy of P(fake), and video AUC, of a validation split."""
  labels, scores = predictions.labels, predictions.p_fake
  both_classes = 0 < labels.sum() < len(labels)
  result = {"val/accuracy": eval_metrics.accuracy(labels, scores)}
  p_label = np.clip(np.where(labels == 1, scores, 1.0 - scores), 1e-7, 1.0)
  result["val/loss"] = float(-np.log(p_label).mean())
  if both_classes:
    result["val/auc"] = eval_metrics.auc(labels, scores)
    videos = video_level.video_scores(predictions.frame_video_ids, labels, scores)
    if 0 < videos.labels.sum() < len(videos.labels):
      result["val/video_auc"] = eval_metrics.auc(videos.labels, videos.scores)
  return result


class FaceData:
  """Pipelines, device batches and validation of a face run (frames; the input is the image)."""

  best_metric, best_mode = BEST_METRIC, "max"
  network_input = None  # the step reads batch['image']

  @staticmethod
  def input_shape(config) -> int:
    return config.image_size

  def __init__(self, config, builder, model, masks: tuple[str, ...]):
    self.masks = masks
    train_source = corpus.split_source(builder, "train")
    # BiG-Arts §3.3: (Real, Real) / (Fake, Real) composites in every batch.
    sampler = (forgery_augmentation.ForgerySampler.from_config(train_source, config.get("forgery"))
               if config.get("forgery_augmentation", False) else None)
    self.train = pipeline_lib.make_pipeline(
        source=train_source, global_batch_size=config.batch_size,
        image_size=config.image_size, training=True, seed=config.seed,
        frames_per_video=_frames(config.frames_per_video), masks=masks,
        augment=AUGMENTATIONS[config.augment], num_threads=config.data_threads,
        sampler=sampler)
    self.validation = pipeline_lib.make_pipeline(
        source=corpus.split_source(builder, config.validation_split),
        global_batch_size=config.eval_batch_size, image_size=config.image_size, training=False,
        frames_per_video=_frames(config.eval_frames_per_video), num_threads=config.data_threads)
    self._predict = jax.jit(steps.make_predict_step(model))

  def device_batch(self, batch: dict[str, Any]) -> dict[str, Any]:
    return {name: batch[name] for name in ("image", "label") + self.masks}

  def validate(self, variables, mesh, *, max_batches: int | None = None,
               progress: bool = False) -> dict[str, float]:
    return validation_metrics(inference.predict_split(
        self._predict, variables, self.validation, mesh, max_batches=max_batches,
        progress=progress, description="validation"))


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str | pathlib.Path, *,
                       devices=None, stop_after_epochs: int | None = None) -> dict[str, Any]:
  """Trains (or resumes training of) the configured detector; returns its history and state.

  Returns a dict: `history` (per-epoch records), `best` (epoch, step and the best metric —
  `val/auc`, or `val/eer` for speech — of the best checkpoint), `state` (the final
  `TrainState`, replicated on the mesh), `output_names`, `masks`.
  """
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  mesh = parallel.make_data_mesh(devices)
  replicated = parallel.replicated_sharding(mesh)
  _check_config(config, mesh)
  model_config = resolved_model_config(config)
  _copy_genotype(model_config, workdir)
  model = factory.build_model(model_config)
  if jax.process_index() == 0:
    saved = ml_collections.ConfigDict(config.to_dict())
    saved.model = model_config
    (workdir / "config.json").write_text(saved.to_json_best_effort(indent=2))

  speech = speech_data.is_speech(config)
  input_shape = (speech_data.SpeechData if speech else FaceData).input_shape(config)
  variables = train_state_lib.init_variables(model, input_shape, config.seed)
  names = train_state_lib.output_names(model, variables, input_shape)
  loss = losses.loss_for(config, names)

  builder = corpus.prepared_builder(config.dataset, config.data_dir,
                                    config.corpus_overrides.to_dict())
  data = (speech_data.SpeechData(config, builder, model) if speech
          else FaceData(config, builder, model, loss.masks))
  train_pipe = data.train
  steps_per_epoch = train_pipe.steps_per_epoch
  if config.steps_per_epoch:
    steps_per_epoch = min(steps_per_epoch, config.steps_per_epoch)
  tx, schedule = optimizer.make_optimizer(config.optimizer, steps_per_epoch=steps_per_epoch,
                                          epochs=config.epochs)

  state = train_state_lib.create_train_state(variables, tx)
  rng = jax.random.key(config.seed + 1)
  run = TrainRun()
  ckpt = checkpoints.Checkpointer(workdir / "checkpoints", keep=config.checkpoint_keep,
                                  best_metric=data.best_metric, best_mode=data.best_mode)
  if ckpt.latest_step() is not None:
    target = checkpoints.abstract_like({"state": state, "rng": jax.random.key_data(rng)},
                                       replicated)
    restored, meta = ckpt.restore(target, "latest")
    state, rng = restored["state"], jax.random.wrap_key_data(restored["rng"])
    run = TrainRun(**{f.name: meta[f.name] for f in dataclasses.fields(TrainRun)})
  state = jax.device_put(state, replicated)

  train_step = jax.jit(steps.make_train_step(model, loss, tx, network_input=data.network_input),
                       donate_argnums=_donated(mesh))
  max_drop_path = float(model_config.get("drop_path_prob", 0.0) or 0.0)
  log = metrics_log.MetricsLog(workdir)
  # SIGTERM sets a flag from here on (before the data threads start); the step loop then
  # checkpoints and stops at its next step.
  stop = {"signal": False}
  in_main_thread = threading.current_thread() is threading.main_thread()
  previous = (signal.signal(signal.SIGTERM, lambda *_: stop.update(signal=True))
              if in_main_thread else None)

  def save(with_metrics: dict[str, float] | None = None):
    if ckpt.latest_step() == int(state.step):
      return
    run.iterator = train_iterator.get_state()
    finite = {k: v for k, v in (with_metrics or {}).items() if np.isfinite(v)}
    ckpt.save(int(state.step), {"state": state, "rng": jax.random.key_data(rng)},
              dataclasses.asdict(run), metrics=finite or None)

  last_epoch = config.epochs if stop_after_epochs is None else min(
      config.epochs, run.epoch + stop_after_epochs)
  first_step_s, first_step_recorded = None, False
  try:
    train_iterator = iter(train_pipe)
    if run.iterator is not None:
      train_iterator.set_state(run.iterator)
    while run.epoch < last_epoch:
      drop_path_prob = np.float32(max_drop_path * run.epoch / config.epochs)
      bar = tqdm.tqdm(range(run.step_in_epoch, steps_per_epoch), initial=run.step_in_epoch,
                      total=steps_per_epoch, desc=f"epoch {run.epoch + 1}/{config.epochs}",
                      disable=not config.progress, leave=False)
      epoch_start = time.perf_counter()
      steady_start, steady_images = None, 0
      for _ in bar:
        if stop["signal"]:
          raise Interrupted
        batch = next(train_iterator)
        placed = parallel.shard_batch(data.device_batch(batch), mesh)
        step_start = time.perf_counter()
        new_state, step_metrics = train_step(state, placed, rng, drop_path_prob)
        step_metrics = jax.device_get(step_metrics)
        if not np.isfinite(step_metrics["loss"]):
          raise NonFiniteLossError(
              f"non-finite loss ({step_metrics['loss']}) at epoch {run.epoch + 1}, step "
              f"{run.step_in_epoch + 1}; the last good checkpoint is kept in {ckpt.directory}. "
              "Lower optimizer.learning_rate or set optimizer.grad_clip_norm")
        state = new_state
        if first_step_s is None:
          first_step_s = time.perf_counter() - step_start
        elif steady_start is None:
          steady_start = step_start
        else:
          steady_images += config.batch_size
        run.step_in_epoch += 1
        for name, value in step_metrics.items():
          run.sums[name] = run.sums.get(name, 0.0) + float(value)
        bar.set_postfix(loss=f"{step_metrics['loss']:.3f}",
                        acc=f"{step_metrics['accuracy']:.2f}")
      bar.close()
      elapsed = time.perf_counter() - epoch_start
      record = {"epoch": run.epoch + 1, "step": int(state.step)}
      record.update({f"train/{name}": value / max(run.step_in_epoch, 1)
                     for name, value in run.sums.items()})
      record["train/learning_rate"] = float(schedule(int(state.step) - 1))
      record["train/drop_path_prob"] = float(drop_path_prob)
      record["time/epoch_s"] = elapsed
      if first_step_s is not None and not first_step_recorded:
        record["time/first_step_s"] = first_step_s  # compile included; once a process
        first_step_recorded = True
      if steady_start is not None and steady_images:
        record["time/images_per_s"] = steady_images / (time.perf_counter() - steady_start)
      val_start = time.perf_counter()
      record.update(data.validate(state.variables, mesh,
                                  max_batches=config.validation_batches or None,
                                  progress=config.progress))
      record["time/validation_s"] = time.perf_counter() - val_start
      run.epoch += 1
      run.step_in_epoch, run.sums = 0, {}
      run.history.append(record)
      log.write(run.epoch, {k: v for k, v in record.items() if k not in ("epoch", "step")})
      save({data.best_metric: record.get(data.best_metric, float("nan"))})
      _write_history(workdir, run.history, config)
      if config.progress:
        shown = ("train/loss", "train/accuracy", "val/loss", "val/accuracy", "val/auc",
                 "val/video_auc", "val/eer", "time/epoch_s")
        print(f"epoch {run.epoch}/{config.epochs}: " + ", ".join(
            f"{name} {record[name]:.4f}" for name in shown if name in record), flush=True)
  except Interrupted:
    save()
    raise
  finally:
    if in_main_thread:
      signal.signal(signal.SIGTERM, previous)
    log.close()
    best_step = ckpt.best_step()
    best_meta = ckpt.read_meta(best_step) if best_step is not None else None
    ckpt.close()

  best = None
  if best_meta is not None:
    best = {"step": best_step, "epoch": best_meta["epoch"],
            data.best_metric: best_meta["metrics"][data.best_metric]}
  return {"history": run.history, "best": best, "state": state, "output_names": sorted(names),
          "masks": loss.masks, "steps_per_epoch": steps_per_epoch}


def _donated(mesh) -> tuple[int, ...]:
  """Donating the state halves its memory on accelerators; XLA:CPU cannot use donated buffers."""
  return (0,) if mesh.devices.flat[0].platform != "cpu" else ()


def _write_history(workdir: pathlib.Path, history: list[dict], config) -> None:
  if jax.process_index() != 0:
    return
  (workdir / "history.json").write_text(json.dumps(history, indent=1))
  curves.save_training_curves(history, workdir / "training_curves.png",
                              title=f"{config.model.name} on {config.dataset}")
