"""The speech path end to end on a tiny synthetic spoofing corpus: search, training, evaluation.

PC-DARTS on LFCC (the ImageNet-style stem on (B, 60, T, 1)), resumed bit for bit; the searched
cell trained from scratch with EER on the dev split; the CM score file, EER, min t-DCF and
per-attack EER of the eval split. 1 s of audio (T = 63) keeps the networks small.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs.eval import speech as eval_speech
from configs.search import pcdarts_synthetic_speech as search_speech
from configs.train import pcdarts_synthetic_speech as train_speech
from fakenas_jax import audio
from fakenas_jax.data import preparation
from fakenas_jax.eval import evaluator, speech_evaluator
from fakenas_jax.metrics import asvspoof as speech_metrics
from fakenas_jax.metrics import score_files
from fakenas_jax.models import darts_eval, factory
from fakenas_jax.nas import search
from fakenas_jax.nas.supernet import SearchNetwork
from fakenas_jax.nn import genotypes
from fakenas_jax.training import trainer

SPEC = "synthetic_speech/tiny"  # 2 speakers a split, 2 bona fide + 1 per attack each: 16 a split
OPS = ("none", "skip_connect", "max_pool_3x3", "sep_conv_3x3")
NUM_SAMPLES = 16000
DEVICES = jax.devices()[:1]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  path = tmp_path_factory.mktemp("tfds")
  preparation.prepare(SPEC, path, builder_kwargs={"num_workers": 1})
  return str(path)


def search_config(data_dir, **changes):
  config = search_speech.get_config()
  config.dataset, config.data_dir = SPEC, data_dir
  config.ops, config.layout, config.channels = OPS, "NR", 8
  # The ASVspoof recipe's strided stem (tests/test_demo_speech.py runs the synthetic corpus's
  # CIFAR stem end to end).
  config.stem = "imagenet"
  config.batch_size, config.num_samples = 4, NUM_SAMPLES
  config.epochs, config.warmup_epochs, config.steps_per_epoch = 2, 1, 2
  config.progress = False
  config.update(changes)
  return config


@pytest.fixture(scope="module")
def searched(data_dir, tmp_path_factory):
  workdir = tmp_path_factory.mktemp("search")
  return workdir, search.run_search(search_config(data_dir), workdir, devices=DEVICES)


@pytest.fixture(scope="module")
def trained(data_dir, searched, tmp_path_factory):
  search_dir, _ = searched
  config = train_speech.get_config()
  config.dataset, config.data_dir = SPEC, data_dir
  config.model.update(
    dict(genotype=str(search_dir / "genotype.json"), channels=8, layers=3, stem="imagenet")
  )
  config.batch_size, config.eval_batch_size, config.num_samples = 4, 8, NUM_SAMPLES
  config.epochs, config.steps_per_epoch, config.progress = 2, 2, False
  workdir = tmp_path_factory.mktemp("train")
  return workdir, trainer.train_and_evaluate(config, workdir, devices=DEVICES)


def test_the_speech_stem_reduces_lfcc_to_strides_4_and_8():
  lfcc = jnp.zeros((2,) + audio.feature_shape(64000))
  assert lfcc.shape == (2, 60, 251, 1)
  stem = darts_eval.ImageNetStem(16)
  (s0, s1, _), _ = jax.eval_shape(
    lambda x: stem.init_with_output(jax.random.key(0), x, False), lfcc
  )
  assert (s0.shape, s1.shape) == ((2, 15, 63, 16), (2, 8, 32, 16))
  network = SearchNetwork(OPS, layout="NRRN", channels=16, k=2, stem="imagenet")
  logits, variables = jax.eval_shape(lambda x: network.init_with_output(jax.random.key(0), x), lfcc)
  assert logits.shape == (2, 2)
  assert variables["params"]["stem"]["stem0_conv1"]["kernel"].shape == (3, 3, 1, 8)
  # The default stays the face supernet's single 3×3 conv.
  faces = SearchNetwork(OPS, layout="NR", channels=8, k=2)
  params = jax.eval_shape(lambda x: faces.init(jax.random.key(0), x), jnp.zeros((2, 16, 16, 3)))[
    "params"
  ]
  assert "stem_conv" in params and "stem" not in params
  with pytest.raises(ValueError, match="unknown stem 'speech'"):
    jax.eval_shape(lambda x: SearchNetwork(OPS, stem="speech").init(jax.random.key(0), x), lfcc)


def test_the_speech_search_writes_a_genotype(searched):
  workdir, result = searched
  genotype = genotypes.load(workdir / "genotype.json")
  assert genotype == result["genotype"]
  genotype.check_space(OPS)
  assert [h["epoch"] for h in result["history"]] == [1, 2]
  assert all(np.isfinite(h["train/loss"]) for h in result["history"])
  config = json.loads((workdir / "config.json").read_text())
  assert config["modality"] == "speech" and config["stem"] == "imagenet"
  # The architecture steps of epoch 2 (after the warm-up) move softmax(α).
  first, second = (np.asarray(h["alpha"]) for h in result["history"])
  assert np.abs(second - first).max() > 1e-4


def test_a_resumed_speech_search_ends_where_an_uninterrupted_one_does(searched, data_dir, tmp_path):
  _, expected = searched
  config = search_config(data_dir)
  first = search.run_search(config, tmp_path, devices=DEVICES, stop_after_epochs=1)
  assert [h["epoch"] for h in first["history"]] == [1]
  resumed = search.run_search(config, tmp_path, devices=DEVICES)
  assert [h["epoch"] for h in resumed["history"]] == [1, 2]
  assert resumed["genotype"] == expected["genotype"]
  np.testing.assert_array_equal(resumed["alpha"], expected["alpha"])
  np.testing.assert_array_equal(resumed["beta"], expected["beta"])


def test_training_scores_the_dev_split_by_eer(trained):
  workdir, result = trained
  history = result["history"]
  assert [record["epoch"] for record in history] == [1, 2]
  for record in history:
    assert np.isfinite(record["train/loss"]) and 0.0 <= record["val/eer"] <= 1.0
    assert "val/auc" not in record
  assert result["best"]["val/eer"] == min(record["val/eer"] for record in history)
  assert (workdir / "genotype.json").is_file()
  assert json.loads((workdir / "config.json").read_text())["model"]["stem"] == "imagenet"


def _asv_file(path, cm):
  """An ASV score file of the CM protocol: target/nontarget trials on bona fide utterances,
  spoof trials on spoofed ones, with separable scores."""
  rng = np.random.default_rng(0)
  rows = []
  for utterance, key in zip(cm.utterances, cm.keys):
    if key == "bonafide":
      rows += [
        ("S1", utterance, "target", 2.0 + rng.normal()),
        ("S2", utterance, "nontarget", -2.0 + rng.normal()),
      ]
    else:
      rows.append(("S1", utterance, "spoof", 0.5 + rng.normal()))
  return score_files.write_asv_scores(path, *zip(*rows))


def test_evaluation_writes_cm_scores_eer_and_min_tdcf(trained, tmp_path):
  workdir, _ = trained
  assert evaluator.run_modality(workdir).name == "speech"
  config = eval_speech.get_config()
  config.batch_size, config.progress, config.output_dir = 8, False, str(tmp_path / "plain")
  plain = speech_evaluator.evaluate_speech_run(config, workdir, devices=DEVICES)
  cm = score_files.read_cm_scores(plain["paths"]["cm_scores"])
  assert len(cm.utterances) == 16 and set(cm.keys) == {"bonafide", "spoof"}
  assert set(cm.spoof_attacks) == {"A07", "A08", "A09", "A10", "A11", "A12"}
  np.testing.assert_allclose(cm.scores, plain["scores"].scores, rtol=1e-6)
  assert 0.0 <= plain["eer"] <= 1.0
  assert plain["eer"] == speech_metrics.compute_eer(cm.bonafide_scores, cm.spoof_scores)[0]
  assert plain["min_tdcf"] is None and "asv_scores" in plain["note"]
  assert set(plain["per_attack_eer"]) == set(cm.spoof_attacks)
  report = json.loads(plain["paths"]["json"].read_text())
  model = factory.build_model(json.loads((workdir / "config.json").read_text())["model"])
  shapes = jax.eval_shape(
    lambda x: model.init(jax.random.key(0), x), jnp.zeros((1,) + audio.feature_shape(NUM_SAMPLES))
  )
  assert report["parameters"] == sum(
    np.prod(leaf.shape) for leaf in jax.tree.leaves(shapes["params"])
  )
  assert "EER per attack" in plain["paths"]["markdown"].read_text()

  config.output_dir = str(tmp_path / "asv")
  asv_path = _asv_file(tmp_path / "asv_scores.txt", cm)
  with_asv = speech_evaluator.evaluate_speech_run(
    config, workdir, asv_scores=str(asv_path), devices=DEVICES
  )
  assert with_asv["eer"] == plain["eer"]
  assert np.isfinite(with_asv["min_tdcf"]) and with_asv["min_tdcf"] >= 0.0


def test_the_asvspoof_configs_hold_the_reference_recipe():
  from configs.search import pcdarts_asvspoof as search_la
  from configs.train import pcdarts_asvspoof as train_la
  from fakenas_jax.data import speech_pipeline

  found = search_la.get_config()
  assert (found.modality, found.dataset, found.stem, found.space) == (
    "speech",
    "asvspoof2019_la",
    "imagenet",
    "darts",
  )
  assert (found.k, found.layout, found.channels, found.batch_size) == (2, "NRRN", 16, 64)
  assert (found.epochs, found.warmup_epochs, found.num_samples, found.mask) == (50, 10, 64000, True)
  assert not found.indicator and not found.prune_every
  assert tuple(found.class_weights) == speech_pipeline.class_weights()
  assert {
    k: found.optimizer[k]
    for k in (
      "weights",
      "learning_rate",
      "learning_rate_min",
      "weight_decay",
      "arch_learning_rate",
      "arch_weight_decay",
    )
  } == dict(
    weights="adam",
    learning_rate=1e-2,
    learning_rate_min=1e-3,
    weight_decay=3e-4,
    arch_learning_rate=6e-4,
    arch_weight_decay=1e-3,
  )
  trains = train_la.get_config()
  assert (trains.modality, trains.validation_split, trains.epochs, trains.batch_size) == (
    "speech",
    "dev",
    100,
    128,
  )
  assert (
    trains.optimizer.name,
    trains.optimizer.learning_rate,
    trains.optimizer.learning_rate_min,
  ) == ("adam", 1e-3, 1e-4)
  assert trains.model.drop_path_prob == 0.2 and trains.model.stem == "imagenet"
  assert tuple(trains.loss.class_weights) == speech_pipeline.class_weights()
