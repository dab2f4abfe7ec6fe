"""Training end to end on the tiny corpus: artefacts, checkpoints, exact resume, errors."""

import importlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading

import jax
import ml_collections
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from configs.train import default
from fakenas_jax import checkpoints, metrics_log
from fakenas_jax.data import preprocess
from fakenas_jax.training import inference, optimizer, trainer, validation

DEVICES = jax.devices()[:1]


def tiny_config(tiny_corpus, **changes):
  spec, data_dir, overrides = tiny_corpus
  config = default.get_config()
  config.dataset, config.data_dir = spec, data_dir
  config.corpus_overrides = overrides
  config.image_size, config.batch_size, config.eval_batch_size = 32, 4, 4
  config.frames_per_video, config.eval_frames_per_video = 0, 0
  config.epochs, config.progress = 2, False
  config.update(changes)
  return config


@pytest.fixture(scope="module")
def uninterrupted(tiny_corpus, tmp_path_factory):
  workdir = tmp_path_factory.mktemp("train")
  return workdir, trainer.train_and_evaluate(tiny_config(tiny_corpus), workdir, devices=DEVICES)


def _assert_same_state(one, other):
  leaves_one, tree_one = jax.tree.flatten(jax.device_get(one))
  leaves_other, tree_other = jax.tree.flatten(jax.device_get(other))
  assert tree_one == tree_other
  for a, b in zip(leaves_one, leaves_other):
    np.testing.assert_array_equal(a, b)


def _training_part(history):
  return [{k: v for k, v in record.items() if not k.startswith("time/")} for record in history]


def test_training_writes_its_results(uninterrupted):
  workdir, result = uninterrupted
  history = result["history"]
  assert [record["epoch"] for record in history] == [1, 2]
  assert [record["step"] for record in history] == [6, 12]  # 27 frames // 4 = 6 steps an epoch
  assert json.loads((workdir / "history.json").read_text()) == history
  saved = json.loads((workdir / "config.json").read_text())
  assert saved["model"]["name"] == "meso4" and saved["model"]["dropout_rate"] == 0.5
  assert (workdir / "training_curves.png").read_bytes()[:4] == b"\x89PNG"
  rows = metrics_log.read(workdir)
  assert [row["step"] for row in rows] == [1, 2]
  assert all(np.isfinite(row["train/loss"]) and 0 <= row["val/auc"] <= 1 for row in rows)
  for record in history:
    assert record["train/loss"] == pytest.approx(record["train/classification"])  # CE only
    assert record["train/drop_path_prob"] == 0.0
  assert int(result["state"].step) == 12


def test_latest_and_best_checkpoints_are_kept(uninterrupted):
  workdir, result = uninterrupted
  ckpt = checkpoints.Checkpointer(workdir / "checkpoints", best_metric="val/auc")
  try:
    assert ckpt.latest_step() == 12
    best_auc = max(record["val/auc"] for record in result["history"])
    best = ckpt.best_step()
    assert ckpt.read_meta(best)["metrics"]["val/auc"] == pytest.approx(best_auc)
    assert result["best"]["val/auc"] == pytest.approx(best_auc)
    assert result["best"]["step"] == best
  finally:
    ckpt.close()


def test_validation_metrics_match_scikit_learn():
  rng = np.random.default_rng(0)
  labels = np.repeat([0, 1, 1, 0, 1], 4).astype(np.int32)
  scores = np.clip(0.3 * labels + rng.random(20) * 0.7, 0, 1).astype(np.float32)
  video = np.repeat(np.arange(5), 4).astype(np.int32)
  predictions = inference.SplitPredictions(
    p_fake=scores,
    labels=labels,
    video=video,
    frame_index=np.tile(np.arange(4), 5),
    method=np.zeros(20, np.int32),
    video_ids=tuple(f"v{i}" for i in range(5)),
    method_names=("m",),
    samples={},
  )
  result = validation.face_metrics(predictions)
  assert result["val/auc"] == pytest.approx(roc_auc_score(labels, scores))
  assert result["val/accuracy"] == pytest.approx(((scores > 0.5) == labels).mean())
  p_label = np.where(labels == 1, scores, 1 - scores)
  assert result["val/loss"] == pytest.approx(-np.log(p_label).mean(), rel=1e-5)
  video_scores = scores.reshape(5, 4).mean(1)
  assert result["val/video_auc"] == pytest.approx(roc_auc_score([0, 1, 1, 0, 1], video_scores))


def test_a_run_stopped_after_an_epoch_resumes_to_the_same_state(
  uninterrupted, tiny_corpus, tmp_path
):
  _, expected = uninterrupted
  config = tiny_config(tiny_corpus)
  first = trainer.train_and_evaluate(config, tmp_path, devices=DEVICES, stop_after_epochs=1)
  assert [record["epoch"] for record in first["history"]] == [1]
  resumed = trainer.train_and_evaluate(config, tmp_path, devices=DEVICES)
  _assert_same_state(resumed["state"], expected["state"])
  assert _training_part(resumed["history"]) == _training_part(expected["history"])


def test_sigterm_mid_epoch_checkpoints_and_resumes_exactly(
  uninterrupted, tiny_corpus, tmp_path, monkeypatch
):
  """SIGTERM arrives as the first frame is decoded; the run stops within epoch 1."""
  _, expected = uninterrupted
  sent = threading.Event()

  def flip_then_terminate(images, rng):
    # Runs in a decoding thread, after the trainer installed its handler.
    if not sent.is_set():
      sent.set()
      os.kill(os.getpid(), signal.SIGTERM)
    return preprocess.random_horizontal_flip(images, rng)

  # The same config as the resumed run (a resume checks it): only the flip is wrapped.
  monkeypatch.setitem(trainer.AUGMENTATIONS, "flip", flip_then_terminate)
  with pytest.raises(trainer.Interrupted):
    trainer.train_and_evaluate(tiny_config(tiny_corpus, augment="flip"), tmp_path, devices=DEVICES)
  monkeypatch.undo()
  ckpt = checkpoints.Checkpointer(tmp_path / "checkpoints")
  try:
    meta = ckpt.read_meta(ckpt.latest_step())
  finally:
    ckpt.close()
  # Usually after the first step (the handler runs once the step returns), at the latest there.
  assert meta["epoch"] == 0 and meta["step_in_epoch"] < 6
  resumed = trainer.train_and_evaluate(
    tiny_config(tiny_corpus, augment="flip"), tmp_path, devices=DEVICES
  )
  _assert_same_state(resumed["state"], expected["state"])
  assert _training_part(resumed["history"]) == _training_part(expected["history"])


def test_a_finished_run_is_not_changed_by_another_config(uninterrupted, tmp_path):
  """A typo'd re-run on a finished workdir is refused before it writes anything."""
  workdir, _ = uninterrupted
  before = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()}
  config = ml_collections.ConfigDict(json.loads((workdir / "config.json").read_text()))
  config.model = ml_collections.ConfigDict({"name": "c2pn", "genotype": "DARTS_V2"})
  config.seed = 3
  with pytest.raises(
    trainer.errors.UserError, match=r"holds a run of another config.*: model\..*Nothing was written"
  ):
    trainer.train_and_evaluate(config, workdir, devices=DEVICES)
  after = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()}
  assert after == before


def test_a_run_killed_after_its_last_checkpoint_leaves_complete_history(
  uninterrupted, tiny_corpus, tmp_path
):
  """History, curves and metrics are rebuilt from the checkpoint on resume: none stale."""
  import shutil

  workdir, result = uninterrupted
  copy = tmp_path / "run"
  shutil.copytree(workdir, copy)
  history = json.loads((copy / "history.json").read_text())
  (copy / "history.json").write_text(json.dumps(history[:1]))  # killed before the last write
  (copy / "training_curves.png").unlink()
  lines = (copy / "metrics.jsonl").read_text().splitlines()
  (copy / "metrics.jsonl").write_text("\n".join(lines + lines[:1]) + "\n")  # a redone epoch
  again = trainer.train_and_evaluate(tiny_config(tiny_corpus), copy, devices=DEVICES)
  assert again["history"] == result["history"]
  assert json.loads((copy / "history.json").read_text()) == result["history"]
  assert (copy / "training_curves.png").exists()
  assert [r["step"] for r in metrics_log.read(copy)] == [1, 2]


def test_a_non_finite_loss_stops_with_a_clear_error(tiny_corpus, tmp_path):
  config = tiny_config(tiny_corpus, epochs=1, steps_per_epoch=3)
  config.optimizer.learning_rate = float("nan")  # the first update makes every weight NaN
  with pytest.raises(
    trainer.NonFiniteLossError,
    match=r"non-finite loss \(nan\) at epoch 1, "
    r"step 2 of the training; no checkpoint was written yet",
  ):
    trainer.train_and_evaluate(config, tmp_path, devices=DEVICES)
  ckpt = checkpoints.Checkpointer(tmp_path / "checkpoints")
  try:
    assert ckpt.latest_step() is None  # nothing non-finite was saved
  finally:
    ckpt.close()


@pytest.mark.parametrize(
  "changes, message",
  [
    (dict(batch_size=6), r"batch_size \(6\) must be a multiple of the 4 devices"),
    (dict(augment="mixup"), r"unknown augment 'mixup'; use one of \['flip', 'jpeg', 'none'\]"),
  ],
)
def test_bad_configs_are_refused_before_training(tiny_corpus, tmp_path, changes, message):
  with pytest.raises(ValueError, match=message):
    trainer.train_and_evaluate(
      tiny_config(tiny_corpus, **changes), tmp_path, devices=jax.devices()[:4]
    )


def test_an_unknown_model_names_the_known_ones(tiny_corpus, tmp_path):
  config = tiny_config(tiny_corpus)
  config.model.name = "efficientnet"
  with pytest.raises(ValueError, match="unknown model 'efficientnet'; known: meso4"):
    trainer.train_and_evaluate(config, tmp_path, devices=DEVICES)


TRAIN_CONFIGS = sorted(
  path.stem
  for path in (pathlib.Path(__file__).parents[1] / "configs" / "train").glob("*.py")
  if path.stem != "__init__"
)


@pytest.mark.parametrize("name", TRAIN_CONFIGS)
def test_every_training_config_resolves(name):
  module = importlib.import_module(f"configs.train.{name}")
  variants = [""] + (["quick"] if "variant" in module.get_config.__code__.co_varnames else [])
  for variant in variants:
    config = module.get_config(*([variant] if variant else []))
    model_config = trainer.resolved_model_config(config)  # every field known to the network
    assert model_config.name == config.model.name
    optimizer.make_optimizer(config.optimizer, steps_per_epoch=10, epochs=config.epochs)
    assert config.augment in trainer.AUGMENTATIONS
    if variant == "quick":
      assert config.dataset.startswith("synthetic_faces/") and config.image_size <= 64
  if len(variants) == 2:
    with pytest.raises(ValueError, match="unknown config variant 'huge'"):
      module.get_config("huge")


def test_paper_settings_are_in_the_configs():
  from configs.train import add_ffpp, bigarts_celebdf, c2pn_fdnas, darts_eval

  fdnas = c2pn_fdnas.get_config()
  assert (fdnas.epochs, fdnas.batch_size, fdnas.image_size) == (150, 48, 64)
  assert (
    fdnas.optimizer.name,
    fdnas.optimizer.learning_rate,
    fdnas.optimizer.momentum,
    fdnas.optimizer.weight_decay,
  ) == ("sgd", 0.025, 0.9, 3e-4)
  add = add_ffpp.get_config()
  assert add.loss.region_weight == 1.0 and add.model.mask_head
  assert tuple(add.optimizer.decay_epochs) == (80, 140) and add.batch_size == 96
  # ADD's 256×256 faces come from corpora built with 256-pixel crops (configs/data/add_ffpp.py).
  assert (add.image_size, add.corpus_overrides.crop_size) == (256, 256)
  bigarts = bigarts_celebdf.get_config()
  assert (
    bigarts.loss.intrinsic_weight,
    bigarts.loss.extrinsic_weight,
    bigarts.loss.classification_weight,
  ) == (15.0, 15.0, 1.0)
  assert bigarts.optimizer.cosine_period_epochs == 40 and bigarts.model.bigarts_heads
  darts = darts_eval.get_config()
  assert darts.loss.auxiliary_weight == 0.4 and darts.model.drop_path_prob == 0.2


def test_cosine_schedule_is_pytorchs_cosine_annealing():
  settings = ml_collections.ConfigDict(
    dict(learning_rate=1e-3, learning_rate_min=1e-5, schedule="cosine", cosine_period_epochs=4)
  )
  schedule = optimizer.learning_rate_schedule(settings, steps_per_epoch=10, epochs=12)
  for epoch in (0, 2, 4, 6, 8, 11):
    # PyTorch's closed form of CosineAnnealingLR(T_max=4), which rises again after T_max.
    expected = 1e-5 + (1e-3 - 1e-5) * (1 + np.cos(np.pi * epoch / 4)) / 2
    assert float(schedule(epoch * 10)) == pytest.approx(expected, rel=1e-5)
  settings.cosine_period_epochs = 0  # the whole run
  whole = optimizer.learning_rate_schedule(settings, steps_per_epoch=10, epochs=12)
  assert float(whole(120)) == pytest.approx(1e-5, rel=1e-4)


def test_step_schedule_divides_at_the_given_epochs():
  settings = ml_collections.ConfigDict(
    dict(learning_rate=0.5, schedule="step", decay_epochs=(80, 140), decay_factor=0.1)
  )
  schedule = optimizer.learning_rate_schedule(settings, steps_per_epoch=3, epochs=300)
  rates = [float(schedule(epoch * 3)) for epoch in (0, 79, 80, 139, 140, 299)]
  np.testing.assert_allclose(rates, [0.5, 0.5, 0.05, 0.05, 0.005, 0.005], rtol=1e-6)
  settings.schedule = "linear"
  with pytest.raises(ValueError, match="unknown learning-rate schedule 'linear'"):
    optimizer.learning_rate_schedule(settings, steps_per_epoch=3, epochs=300)


def test_sgd_with_coupled_weight_decay_and_clipping_is_pytorchs_sgd():
  settings = ml_collections.ConfigDict(
    dict(
      name="sgd",
      learning_rate=0.1,
      schedule="constant",
      momentum=0.9,
      weight_decay=0.01,
      grad_clip_norm=1.0,
    )
  )
  tx, _ = optimizer.make_optimizer(settings, steps_per_epoch=1, epochs=1)
  params = np.array([1.0, -2.0], np.float32)
  grads = [np.array([3.0, 4.0], np.float32), np.array([0.1, 0.2], np.float32)]
  state = tx.init(params)
  expected, buffer = params.astype(np.float64), np.zeros(2)
  for grad in grads:
    # torch: clip_grad_norm_(1.0), then d = g + wd·p; buf = 0.9·buf + d; p -= 0.1·buf.
    clipped = grad * min(1.0, 1.0 / np.linalg.norm(grad))
    buffer = 0.9 * buffer + clipped + 0.01 * expected
    expected = expected - 0.1 * buffer
    updates, state = tx.update(grad, state, params)
    params = params + updates
  np.testing.assert_allclose(params, expected, rtol=1e-5)


def test_the_command_line_reports_a_bad_config_as_an_error(tmp_path):
  root = pathlib.Path(__file__).parents[1]
  done = subprocess.run(
    [
      sys.executable,
      "-m",
      "fakenas_jax.train",
      f"--workdir={tmp_path}",
      "--config.augment=mixup",
      f"--config.data_dir={tmp_path / 'tfds'}",
    ],
    cwd=root,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert done.returncode == 2
  assert done.stderr.startswith("error: unknown augment 'mixup'")


def test_one_step_on_four_devices_equals_one_device():
  """The data-parallel step: batch statistics, loss and update over the global batch."""
  from fakenas_jax import parallel
  from fakenas_jax.models import factory
  from fakenas_jax.training import losses, steps, train_state

  config = default.get_config()
  model = factory.build_model(config.model)
  variables = train_state.init_variables(model, 32, 0)
  loss = losses.loss_for(config, train_state.output_names(model, variables, 32))
  tx, _ = optimizer.make_optimizer(config.optimizer, steps_per_epoch=10, epochs=1)
  rng = np.random.default_rng(0)
  batch = {
    "image": rng.normal(size=(8, 32, 32, 3)).astype(np.float32),
    "label": np.array([0, 1, 1, 0, 1, 0, 0, 1], np.int32),
  }
  step = jax.jit(steps.make_train_step(model, loss, tx))
  results = []
  for devices in (jax.devices()[:1], jax.devices()[:4]):
    mesh = parallel.make_data_mesh(devices)
    state = jax.device_put(
      train_state.create_train_state(variables, tx), parallel.replicated_sharding(mesh)
    )
    results.append(
      jax.device_get(
        step(state, parallel.shard_batch(batch, mesh), jax.random.key(3), np.float32(0.0))
      )
    )
  (state_one, metrics_one), (state_four, metrics_four) = results
  np.testing.assert_allclose(metrics_one["loss"], metrics_four["loss"], rtol=1e-5)
  for one, four in zip(jax.tree.leaves(state_one), jax.tree.leaves(state_four)):
    np.testing.assert_allclose(one, four, rtol=1e-4, atol=1e-6)


def test_a_copied_workdir_resumes_with_its_genotype_copy(tmp_path):
  """config.json names the workdir's genotype copy by its absolute path; a workdir moved or
  copied elsewhere holds the same cells there, so its resume is not refused — unless the
  genotype given now differs from the copy."""
  import shutil

  from configs.train import c2pn_fdnas
  from fakenas_jax.nas import random_search
  from fakenas_jax.nn import genotypes
  from fakenas_jax.run import workdir as workdir_lib

  ops = ("none", "max_pool_3x3", "skip_connect", "SepCDC_3x3_0.0", "SepCDC_3x3_0.7")
  source = tmp_path / "search" / "genotype.json"
  source.parent.mkdir()
  genotypes.save(random_search.sample_genotypes(3, 1, ops)[0], source, search_space="fdnas")
  config = c2pn_fdnas.get_config("quick")
  config.model.genotype = str(source)
  first = tmp_path / "a"
  first.mkdir()
  record, _ = trainer.saved_config(config, first)
  assert record.model.genotype == str((first / "genotype.json").resolve())
  (first / workdir_lib.CONFIG_FILE).write_text(json.dumps(workdir_lib.as_dict(record)))
  shutil.copyfile(source, first / "genotype.json")

  copy = tmp_path / "b"
  shutil.copytree(first, copy)
  again, _ = trainer.saved_config(config, copy)
  assert workdir_lib.check_resume(copy, workdir_lib.as_dict(again), ()) == []

  genotypes.save(random_search.sample_genotypes(4, 1, ops)[0], source, search_space="fdnas")
  other, _ = trainer.saved_config(config, copy)
  with pytest.raises(workdir_lib.ResumeMismatchError, match="model.genotype"):
    workdir_lib.check_resume(copy, workdir_lib.as_dict(other), ())
