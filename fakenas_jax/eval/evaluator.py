"""Evaluating trained detectors: `evaluate_run(config, workdirs)`, restored from Orbax checkpoints.

    report = evaluate_run(config, "runs/t1")                      # python -m fakenas_jax.evaluate
    report = evaluate_run(config, ["runs/t_studio", "runs/t_celeb"],
                          corpora=["synthetic_faces/studio", "synthetic_faces/celeb"])

For every training workdir the network is rebuilt from its `config.json`, and the checkpoint
(`best` by validation AUC, `latest`, or a step number) is restored against abstract targets
shaped by that network and placed (replicated) on the current device mesh — a run trained on
4 devices evaluates on 1 and the reverse; a checkpoint that does not fit the network is a
`CheckpointMismatchError` naming the first leaf that differs.

Each test corpus (`NAME[/CONFIG][:SPLIT]`, the split defaulting to `config.split`) is read
once, every frame (`frames_per_video` evenly spaced per video; FD-NAS tests on 10), and scored
with P(fake). Per (run, corpus): frame-level and video-level (mean frame probability per
video) AUC, ACC, EER, AP, precision, recall, F1 (`eval.metrics.detection_report`), and the
frame AUC of each manipulation method against all real frames.

Written into `config.output_dir` (default `<first workdir>/eval`): `eval_report.json`,
`eval_report.md` (the table), `roc.png`, and, with several runs or corpora, the cross-dataset
matrices (`cross_dataset.md`, `cross_dataset_auc.png`: training corpus × test corpus, frame
AUC); `samples_<corpus>.png` per (run, corpus): a few real and fake frames with P(fake) and the
predicted region / intrinsic / extrinsic maps beside the ground truth when the model has them.
"""

from __future__ import annotations

import json
import pathlib
import re
import warnings
from collections.abc import Sequence
from typing import Any

import jax
import ml_collections
import numpy as np

from fakenas_jax import checkpoints, parallel
from fakenas_jax.data import corpus
from fakenas_jax.data import pipeline as pipeline_lib
from fakenas_jax.eval import plots, report
from fakenas_jax.metrics import detection as metrics
from fakenas_jax.metrics import video_level
from fakenas_jax.models import factory
from fakenas_jax.training import inference, optimizer, steps, train_state, trainer


def load_training_config(workdir: str | pathlib.Path) -> ml_collections.ConfigDict:
  """The config a training run wrote into its workdir (`config.json`)."""
  workdir = pathlib.Path(workdir)
  path = workdir / "config.json"
  if not path.is_file() or not (workdir / "checkpoints").is_dir():
    raise FileNotFoundError(
      f"{workdir} holds no training run (needs config.json and checkpoints/); train one "
      f"with: python -m fakenas_jax.train --workdir={workdir}"
    )
  config = ml_collections.ConfigDict(json.loads(path.read_text()))
  genotype = config.model.get("genotype", "")
  if genotype and not pathlib.Path(genotype).exists() and (workdir / "genotype.json").is_file():
    config.model.genotype = str(workdir / "genotype.json")  # the workdir was moved
  return config


def run_modality(workdir: str | pathlib.Path):
  """The modality (`data.modality`: faces or speech) of the training run in `workdir`."""
  return trainer.train_modality(load_training_config(workdir))


def parse_corpus(entry: str, default_split: str) -> tuple[str, str]:
  """'NAME[/CONFIG][:SPLIT]' → (spec, split)."""
  spec, _, split = entry.strip().partition(":")
  if not spec:
    raise ValueError(f"empty corpus name in {entry!r}; write NAME[/CONFIG][:SPLIT]")
  return spec, split or default_split


def _slug(text: str) -> str:
  return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def restore_run(workdir: str | pathlib.Path, mesh, checkpoint: str | int = "best"):
  """(training config, model, variables on `mesh`, checkpoint meta + step) of a training run.

  'best' is the checkpoint of highest validation AUC, or of lowest EER for a speech run.
  """
  train_config = load_training_config(workdir)
  model = factory.build_model(train_config.model)
  tx, _ = optimizer.make_optimizer(train_config.optimizer, steps_per_epoch=1, epochs=1)
  modality = trainer.train_modality(train_config)
  abstract_state = train_state.abstract_train_state(model, tx, image_size=modality.example_shape)
  abstract_rng = jax.eval_shape(lambda: jax.random.key_data(jax.random.key(0)))
  replicated = parallel.replicated_sharding(mesh)
  target = checkpoints.abstract_like({"state": abstract_state, "rng": abstract_rng}, replicated)
  ckpt = checkpoints.Checkpointer(
    pathlib.Path(workdir) / "checkpoints",
    best_metric=modality.best_metric,
    best_mode=modality.best_mode,
  )
  try:
    step = ckpt.resolve_step(checkpoint)
    restored, meta = ckpt.restore(target, step)
  finally:
    ckpt.close()
  return train_config, model, restored["state"].variables, {**meta, "step": step}


def _per_method_auc(predictions: inference.SplitPredictions) -> dict[str, float]:
  """Frame AUC of each manipulation method's fakes against all real frames."""
  real = predictions.labels == 0
  result = {}
  for index, name in enumerate(predictions.method_names):
    fake = (predictions.method == index) & (predictions.labels == 1)
    if fake.any() and real.any():
      keep = real | fake
      result[name] = metrics.auc(predictions.labels[keep], predictions.p_fake[keep])
  return result


def score_predictions(
  predictions: inference.SplitPredictions, threshold: float = metrics.DEFAULT_THRESHOLD
) -> dict[str, Any]:
  """Frame- and video-level detection reports and per-method AUC of one split's predictions."""
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # one-class sets report NaN
    frame = metrics.detection_report(predictions.labels, predictions.p_fake, threshold)
    video = video_level.video_report(
      predictions.frame_video_ids, predictions.labels, predictions.p_fake, threshold=threshold
    )
  return {"frame": frame, "video": video, "per_method_auc": _per_method_auc(predictions)}


def _masks_to_read(
  model, variables, image_size: int, available: set[str], with_samples: bool
) -> tuple[str, ...]:
  """The ground-truth masks to read: those of the model's dense outputs the corpus has, and
  the manipulated region (`intrinsic`) to show beside sample predictions."""
  images = jax.ShapeDtypeStruct((1, image_size, image_size, 3), np.float32)
  names = jax.eval_shape(steps.make_predict_step(model), variables, images)
  wanted = [report.TRUE_MASK_OF_MAP[name] for name in report.TRUE_MASK_OF_MAP if name in names]
  if with_samples:
    wanted.append("intrinsic")
  return tuple(mask for mask in dict.fromkeys(wanted) if mask in available)


def evaluate_run(
  config: ml_collections.ConfigDict,
  workdir: str | pathlib.Path | Sequence,
  checkpoint: str | int | None = None,
  corpora: Sequence[str] | None = None,
  *,
  devices=None,
) -> dict[str, Any]:
  """Evaluates one or several training runs on one or several corpora; writes the report.

  Args:
    config: an evaluation config (configs/eval/default.py).
    workdir: a training workdir, or a list of them (the rows of the cross-dataset matrix).
    checkpoint: 'best', 'latest' or a step; default `config.checkpoint`.
    corpora: test corpora `NAME[/CONFIG][:SPLIT]`; default `config.corpora`, and when that is
      empty, each run's own training corpus.
    devices: the devices of the data mesh (default: all).

  Returns:
    {'runs': {run: {'workdir', 'training_corpus', 'model', 'checkpoint_step', 'epoch',
    'corpora': {corpus: {'frame', 'video', 'per_method_auc'}}}}, 'cross_dataset': {'auc': …,
    'video_auc': …}, 'predictions': {(run, corpus): SplitPredictions}, 'paths': {…}}.
  """
  workdirs = [workdir] if isinstance(workdir, (str, pathlib.Path)) else list(workdir)
  if not workdirs:
    raise ValueError("evaluate_run needs at least one training workdir")
  checkpoint = config.checkpoint if checkpoint is None else checkpoint
  # `--config.corpora=a,b` arrives as one comma-separated string.
  corpora = [
    name.strip()
    for entry in (config.corpora if corpora is None else corpora)
    for name in str(entry).split(",")
    if name.strip()
  ]
  mesh = parallel.make_data_mesh(devices)
  if config.batch_size < 1 or config.batch_size % mesh.size:
    raise ValueError(
      f"batch_size ({config.batch_size}) must be a positive multiple of the "
      f"{mesh.size} devices of the data mesh"
    )
  output_dir = pathlib.Path(config.output_dir or pathlib.Path(workdirs[0]) / "eval")
  output_dir.mkdir(parents=True, exist_ok=True)
  frames_per_video = int(config.frames_per_video) or None
  predict_cache: dict[tuple[str, str], inference.SplitPredictions] = {}
  runs: dict[str, dict[str, Any]] = {}
  paths: dict[str, Any] = {"samples": []}

  # A run is named by its training corpus; runs trained on the same corpus also by their workdir.
  trained_on = [load_training_config(run_dir).dataset for run_dir in workdirs]
  for run_dir, dataset in zip(workdirs, trained_on):
    train_config, model, variables, meta = restore_run(run_dir, mesh, checkpoint)
    run_name = (
      dataset if trained_on.count(dataset) == 1 else (f"{dataset} ({pathlib.Path(run_dir).name})")
    )
    while run_name in runs:  # the same workdir listed twice
      run_name += "'"
    predict = jax.jit(steps.make_predict_step(model))
    results = {}
    for entry in corpora or [train_config.dataset]:
      spec, split = parse_corpus(entry, config.split)
      overrides = dict(config.corpus_overrides.to_dict())
      if not overrides and spec == train_config.dataset:
        overrides = train_config.corpus_overrides.to_dict()
      data_dir = config.data_dir or train_config.data_dir
      builder = corpus.prepared_builder(spec, data_dir, overrides, verbose=config.progress)
      masks = _masks_to_read(
        model,
        variables,
        train_config.image_size,
        set(builder.info.features.keys()),
        config.samples_per_class > 0,
      )
      pipe = pipeline_lib.make_pipeline(
        source=corpus.split_source(builder, split),
        global_batch_size=config.batch_size,
        image_size=train_config.image_size,
        training=False,
        frames_per_video=frames_per_video,
        masks=masks,
        num_threads=config.data_threads,
      )
      corpus_name = spec if split == config.split else f"{spec}:{split}"
      predictions = inference.predict_split(
        predict,
        variables,
        pipe,
        mesh,
        samples_per_class=config.samples_per_class,
        progress=config.progress,
        description=f"{run_name} → {corpus_name}",
      )
      predict_cache[(run_name, corpus_name)] = predictions
      results[corpus_name] = score_predictions(predictions, config.threshold)
      if config.samples_per_class and predictions.samples:
        prefix = f"{_slug(run_name)}_" if len(workdirs) > 1 else ""
        paths["samples"].append(
          report.save_sample_predictions(
            predictions.samples,
            output_dir / f"samples_{prefix}{_slug(corpus_name)}.png",
            title=f"trained on {run_name}, tested on {corpus_name} (step {meta['step']})",
          )
        )
    runs[run_name] = {
      "workdir": str(run_dir),
      "training_corpus": train_config.dataset,
      "model": train_config.model.name,
      "checkpoint": str(checkpoint),
      "checkpoint_step": int(meta["step"]),
      "epoch": int(meta.get("epoch", 0)),
      "corpora": results,
    }

  results_by_run = {name: run["corpora"] for name, run in runs.items()}
  cross = {
    key: {
      run: {c: r[level]["auc"] for c, r in corpora_results.items()}
      for run, corpora_results in results_by_run.items()
    }
    for key, level in (("auc", "frame"), ("video_auc", "video"))
  }
  summary = {
    "checkpoint": str(checkpoint),
    "split": config.split,
    "frames_per_video": frames_per_video,
    "runs": runs,
    "cross_dataset": cross,
  }
  paths["json"] = report.write_json(summary, output_dir / "eval_report.json")
  table = plots.markdown_table(report.summary_rows(results_by_run), row_header="run → corpus")
  paths["markdown"] = output_dir / "eval_report.md"
  paths["markdown"].write_text(table)
  roc_runs = {
    f"{run} → {c}" if len(runs) > 1 else c: (p.labels, p.p_fake)
    for (run, c), p in predict_cache.items()
    if 0 < p.labels.sum() < len(p.labels)
  }
  if roc_runs:
    paths["roc"] = plots.save_roc_plot(roc_runs, output_dir / "roc.png")
  if len(runs) > 1 or len(next(iter(results_by_run.values()))) > 1:
    text = [
      "## Frame AUC (rows: training corpus, columns: test corpus)\n",
      plots.markdown_table(cross["auc"], row_header="trained on"),
      "\n## Video AUC\n",
      plots.markdown_table(cross["video_auc"], row_header="trained on"),
    ]
    paths["cross_dataset_md"] = output_dir / "cross_dataset.md"
    paths["cross_dataset_md"].write_text("".join(text))
    paths["cross_dataset_png"] = plots.save_cross_dataset_heatmap(
      cross["auc"], output_dir / "cross_dataset_auc.png", metric="frame AUC"
    )
  return {"runs": runs, "cross_dataset": cross, "predictions": predict_cache, "paths": paths}
