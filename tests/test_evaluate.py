"""Evaluation from Orbax checkpoints: 1 vs 4 devices, metrics against scikit-learn, the report."""

import json
import os
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from configs.eval import default as eval_default
from configs.train import default as train_default
from fakenas_jax import checkpoints
from fakenas_jax.data import corpus
from fakenas_jax.data import pipeline as pipeline_lib
from fakenas_jax.eval import evaluator
from fakenas_jax.models import factory
from fakenas_jax.training import losses, trainer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def trained(tiny_corpus, tmp_path_factory):
  """Meso-4 with the BiG-Arts heads, 2 short epochs on the tiny corpus, on one device."""
  spec, data_dir, overrides = tiny_corpus
  config = train_default.get_config()
  config.dataset, config.data_dir, config.corpus_overrides = spec, data_dir, overrides
  config.image_size, config.batch_size, config.eval_batch_size = 32, 4, 4
  config.frames_per_video, config.eval_frames_per_video = 0, 0
  config.epochs, config.steps_per_epoch, config.progress = 2, 3, False
  config.model.bigarts_heads = True
  config.model.decoder_channels = (8, 8, 8)
  workdir = tmp_path_factory.mktemp("trained")
  result = trainer.train_and_evaluate(config, workdir, devices=jax.devices()[:1])
  return workdir, result


def eval_config(output_dir, **changes):
  config = eval_default.get_config()
  config.batch_size, config.frames_per_video, config.samples_per_class = 4, 0, 2
  config.progress, config.output_dir = False, str(output_dir)
  config.update(changes)
  return config


@pytest.fixture(scope="module")
def one_device(trained, tmp_path_factory):
  workdir, _ = trained
  output = tmp_path_factory.mktemp("eval1")
  return output, evaluator.evaluate_run(eval_config(output), workdir, devices=jax.devices()[:1])


def _only(result):
  (run,) = result["runs"].values()
  (corpus_result,) = run["corpora"].values()
  (predictions,) = result["predictions"].values()
  return run, corpus_result, predictions


def test_the_heads_were_trained_with_their_masks(trained):
  _, result = trained
  assert result["masks"] == ("intrinsic", "extrinsic")
  assert {"train/intrinsic", "train/extrinsic"} <= set(result["history"][0])
  record = result["history"][0]
  expected = (
    record["train/classification"] + 15 * record["train/intrinsic"] + 15 * record["train/extrinsic"]
  )
  assert record["train/loss"] == pytest.approx(expected, rel=1e-5)


def test_report_files_are_written(one_device):
  output, result = one_device
  report = json.loads((output / "eval_report.json").read_text())
  (run,) = report["runs"].values()
  assert run["checkpoint"] == "best" and run["checkpoint_step"] in (3, 6)
  (scores,) = run["corpora"].values()
  assert scores["frame"]["num_examples"] == 18 and scores["video"]["num_examples"] == 6
  assert "| run → corpus |" in (output / "eval_report.md").read_text()
  for picture in [output / "roc.png", *result["paths"]["samples"]]:
    assert picture.read_bytes()[:4] == b"\x89PNG"
  assert not (output / "cross_dataset.md").exists()  # one run, one corpus


def test_frame_and_video_metrics_match_scikit_learn(one_device):
  _, result = one_device
  _, scores, predictions = _only(result)
  labels, p_fake = predictions.labels, predictions.p_fake
  frame = scores["frame"]
  assert frame["auc"] == pytest.approx(sk_metrics.roc_auc_score(labels, p_fake))
  assert frame["ap"] == pytest.approx(sk_metrics.average_precision_score(labels, p_fake))
  called_fake = p_fake > 0.5
  assert frame["accuracy"] == pytest.approx(sk_metrics.accuracy_score(labels, called_fake))
  assert frame["f1"] == pytest.approx(sk_metrics.f1_score(labels, called_fake, zero_division=0))
  # Video level: the mean P(fake) of each video's frames, recomputed here.
  videos = np.unique(predictions.video)
  video_labels = np.array([labels[predictions.video == v][0] for v in videos])
  video_scores = np.array([p_fake[predictions.video == v].mean() for v in videos])
  assert len(videos) == 6
  assert scores["video"]["auc"] == pytest.approx(
    sk_metrics.roc_auc_score(video_labels, video_scores)
  )
  assert scores["video"]["accuracy"] == pytest.approx(
    sk_metrics.accuracy_score(video_labels, video_scores > 0.5)
  )
  for method, value in scores["per_method_auc"].items():
    index = predictions.method_names.index(method)
    keep = (labels == 0) | (predictions.method == index)
    assert value == pytest.approx(sk_metrics.roc_auc_score(labels[keep], p_fake[keep]))


def test_restored_weights_give_the_trained_networks_scores(trained, tmp_path):
  """The latest checkpoint restored by the evaluator scores as the trainer's final state does."""
  workdir, result = trained
  evaluated = evaluator.evaluate_run(
    eval_config(tmp_path, checkpoint="latest"), workdir, devices=jax.devices()[:1]
  )
  _, _, predictions = _only(evaluated)
  config = json.loads((workdir / "config.json").read_text())
  model = factory.build_model(config["model"])
  builder = corpus.prepared_builder(
    config["dataset"], config["data_dir"], config["corpus_overrides"]
  )
  pipe = pipeline_lib.make_pipeline(
    source=builder.as_data_source("test"), global_batch_size=4, image_size=32, training=False
  )
  variables = jax.device_get(result["state"].variables)
  apply = jax.jit(lambda v, images: model.apply(v, images, train=False)["logits"])
  expected = []
  for batch in pipe:
    logits = apply(variables, batch["image"])
    expected.append(np.asarray(losses.fake_probability(logits))[batch["valid"]])
  np.testing.assert_allclose(predictions.p_fake, np.concatenate(expected), rtol=1e-5, atol=1e-6)


def test_four_devices_score_as_one_and_cross_dataset_matrix(trained, one_device, tmp_path):
  workdir, _ = trained
  _, single = one_device
  _, single_scores, single_predictions = _only(single)
  result = evaluator.evaluate_run(
    eval_config(tmp_path),
    [workdir, workdir],
    corpora=["synthetic_faces/studio", "synthetic_faces/studio:validation"],
    devices=jax.devices()[:4],
  )
  assert len(result["predictions"]) == 4
  first_run = next(iter(result["runs"]))
  four = result["predictions"][(first_run, "synthetic_faces/studio")]
  np.testing.assert_allclose(four.p_fake, single_predictions.p_fake, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(four.labels, single_predictions.labels)
  frame = result["runs"][first_run]["corpora"]["synthetic_faces/studio"]["frame"]
  assert frame["auc"] == pytest.approx(single_scores["frame"]["auc"], abs=1e-6)
  # Two runs × two test sets: the matrix and its picture.
  matrix = result["cross_dataset"]["auc"]
  assert len(matrix) == 2 and all(len(row) == 2 for row in matrix.values())
  assert matrix[first_run]["synthetic_faces/studio"] == frame["auc"]
  assert "synthetic_faces/studio:validation" in (tmp_path / "cross_dataset.md").read_text()
  assert (tmp_path / "cross_dataset_auc.png").read_bytes()[:4] == b"\x89PNG"


def test_sample_predictions_show_the_artifact_maps(one_device):
  _, result = one_device
  _, _, predictions = _only(result)
  samples = predictions.samples
  assert sorted(samples["label"].tolist()) == [0, 0, 1, 1]
  for name in ("intrinsic", "extrinsic"):
    assert samples[name].shape == samples[f"true_{name}"].shape == (4, 32, 32, 1)
    assert 0.0 <= samples[name].min() and samples[name].max() <= 1.0  # sigmoid of the logits
  np.testing.assert_allclose(
    samples["p_fake"],
    predictions.p_fake[np.isin(np.arange(len(predictions.p_fake)), _sample_rows(predictions))],
    rtol=1e-6,
  )


def _sample_rows(predictions):
  """Frames the evaluator keeps as samples: the first two real and the first two fake."""
  real = np.flatnonzero(predictions.labels == 0)[:2]
  fake = np.flatnonzero(predictions.labels == 1)[:2]
  return np.sort(np.concatenate([real, fake]))


def test_a_checkpoint_of_another_network_is_refused(trained, tmp_path):
  workdir, _ = trained
  copy = tmp_path / "run"
  shutil.copytree(workdir, copy)
  config = json.loads((copy / "config.json").read_text())
  config["model"]["decoder_channels"] = [16, 8, 8]
  (copy / "config.json").write_text(json.dumps(config))
  with pytest.raises(checkpoints.CheckpointMismatchError, match="does not fit this network"):
    evaluator.evaluate_run(eval_config(tmp_path / "eval"), copy, devices=jax.devices()[:1])


def test_a_workdir_without_a_run_is_a_clear_error(tmp_path):
  with pytest.raises(FileNotFoundError, match="holds no training run"):
    evaluator.evaluate_run(eval_config(tmp_path), tmp_path / "nothing")


def test_the_command_line_prints_the_table_and_reports_errors(trained, tmp_path):
  workdir, _ = trained
  env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=os.path.join(ROOT, ".jax_cache"))
  command = [
    sys.executable,
    "-m",
    "fakenas_jax.evaluate",
    f"--workdir={workdir}",
    "--config.batch_size=4",
    "--config.frames_per_video=0",
    "--config.progress=false",
    f"--config.output_dir={tmp_path / 'cli'}",
  ]
  done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]
  assert "| synthetic_faces/studio → synthetic_faces/studio |" in done.stdout
  assert (tmp_path / "cli" / "eval_report.json").is_file()
  failed = subprocess.run(
    command[:3] + [f"--workdir={tmp_path / 'missing'}"],
    cwd=ROOT,
    env=env,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert failed.returncode == 2
  assert failed.stderr.startswith("error: ") and "holds no training run" in failed.stderr
