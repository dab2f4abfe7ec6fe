"""The search end to end on the tiny corpus: artefacts, kill-and-resume equality, 1 vs 4 devices."""

import json
import os
import signal
import threading

import jax
import numpy as np
import pytest
from jax._src import dispatch, monitoring

from configs.search import default
from fakenas_jax import checkpoints, parallel
from fakenas_jax.nas import estimation, network_loss, search, search_steps
from fakenas_jax.nn import genotypes

OPS = ("none", "max_pool_3x3", "skip_connect", "SepCDC_3x3_0.0", "SepCDC_3x3_0.7", "DilCDC_3x3_0.5")


def tiny_config(tiny_corpus, **changes):
  spec, data_dir, overrides = tiny_corpus
  config = default.get_config()
  config.dataset, config.data_dir = spec, data_dir
  config.corpus_overrides = overrides
  config.ops, config.reducing_skip = OPS, "avg_pool"
  config.layout, config.channels, config.k = "NR", 8, 2
  config.image_size, config.batch_size, config.frames_per_video = 16, 4, None
  config.epochs, config.warmup_epochs, config.prune_every = 3, 1, 2
  config.steps_per_epoch, config.progress = 2, False
  config.update(changes)
  return config


@pytest.fixture(scope="module")
def uninterrupted(tiny_corpus, tmp_path_factory):
  workdir = tmp_path_factory.mktemp("search")
  return workdir, search.run_search(tiny_config(tiny_corpus), workdir, devices=jax.devices()[:1])


def test_search_writes_its_results(uninterrupted):
  workdir, result = uninterrupted
  genotype = genotypes.load(workdir / "genotype.json")
  assert genotype == result["genotype"]
  genotype.check_space(OPS)
  assert json.loads((workdir / "genotype.json").read_text())["ops"] == list(OPS)
  for picture in ("genotype.png", "arch_history.png"):
    assert (workdir / picture).read_bytes()[:4] == b"\x89PNG"
  history = result["history"]
  assert [h["epoch"] for h in history] == [1, 2, 3]
  assert [h["k"] for h in history] == [2, 2, 1]  # pruned after epoch 2: k halves
  # Two operations per edge pruned after epoch 2, never `none` as the last survivor.
  assert (result["active"].sum(-1) == len(OPS) - 2).all()
  rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  assert len(rows) == 3 and all(np.isfinite(r["train/loss"]) for r in rows)


def test_a_killed_and_resumed_search_ends_where_an_uninterrupted_one_does(
  uninterrupted, tiny_corpus, tmp_path
):
  _, expected = uninterrupted
  config = tiny_config(tiny_corpus)
  search.run_search(config, tmp_path, devices=jax.devices()[:1], stop_after_epochs=2)
  resumed = search.run_search(config, tmp_path, devices=jax.devices()[:1])
  assert resumed["genotype"] == expected["genotype"]
  np.testing.assert_array_equal(resumed["alpha"], expected["alpha"])
  np.testing.assert_array_equal(resumed["beta"], expected["beta"])


def test_sigterm_mid_epoch_checkpoints_and_the_resumed_search_ends_the_same(
  uninterrupted, tiny_corpus, tmp_path, monkeypatch
):
  _, expected = uninterrupted
  config = tiny_config(tiny_corpus)
  step, calls = search.SearchTask.step, []

  def step_then_terminate(self, *args, **kwargs):
    calls.append(1)
    if len(calls) == 3:  # the first step of epoch 2
      os.kill(os.getpid(), signal.SIGTERM)
    return step(self, *args, **kwargs)

  monkeypatch.setattr(search.SearchTask, "step", step_then_terminate)
  with pytest.raises(search.Interrupted):
    search.run_search(config, tmp_path, devices=jax.devices()[:1])
  ckpt = checkpoints.Checkpointer(tmp_path / "checkpoints")
  try:
    meta = ckpt.read_meta(ckpt.latest_step())
  finally:
    ckpt.close()
  assert (meta["epoch"], meta["step_in_epoch"]) == (1, 1)
  monkeypatch.setattr(search.SearchTask, "step", step)
  resumed = search.run_search(config, tmp_path, devices=jax.devices()[:1])
  assert resumed["genotype"] == expected["genotype"]
  np.testing.assert_array_equal(resumed["alpha"], expected["alpha"])
  assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3]


def test_a_nan_loss_stops_the_search_and_keeps_the_last_good_checkpoint(tiny_corpus, tmp_path):
  config = tiny_config(tiny_corpus, epochs=2)
  search.run_search(config, tmp_path, devices=jax.devices()[:1], stop_after_epochs=1)
  config.optimizer.learning_rate = float("nan")  # the next weight update poisons every weight
  with pytest.raises(
    search.NonFiniteLossError,
    match=r"non-finite loss \(nan\) at epoch 2, "
    r"step \d of the search; the last good checkpoint, step 2, is kept",
  ):
    search.run_search(config, tmp_path, devices=jax.devices()[:1])
  ckpt = checkpoints.Checkpointer(tmp_path / "checkpoints")
  try:
    assert ckpt.latest_step() == 2  # one epoch of two steps; nothing non-finite was saved
  finally:
    ckpt.close()


def test_one_step_on_four_devices_equals_one_device(tiny_corpus):
  """The data-parallel step computes the same loss and gradients (float tolerance)."""
  config = tiny_config(tiny_corpus)
  network = search.build_network(config, config.k)
  x = jax.random.normal(jax.random.key(0), (4, 16, 16, 3))
  batch = {"image": x, "label": jax.numpy.array([0, 1, 1, 0])}
  variables = jax.jit(lambda key: network.init(key, x))(jax.random.key(0, impl="rbg"))
  n_ops = len(OPS)
  inputs = network_loss.SearchInputs(
    active=jax.numpy.ones((2, 14, n_ops), bool),
    estimation=jax.numpy.zeros((2, 14, n_ops)),
    use_estimation=jax.numpy.asarray(False),
  )
  loss_fn = network_loss.make_loss_fn(network, inputs)
  grad = jax.jit(jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True))
  results = []
  for devices in (jax.devices()[:1], jax.devices()[:4]):
    mesh = parallel.make_data_mesh(devices)
    placed = jax.device_put(variables, parallel.replicated_sharding(mesh))
    (loss, _), grads = grad(
      placed["params"],
      placed["arch"],
      placed["batch_stats"],
      parallel.shard_batch(jax.device_get(batch), mesh),
      None,
    )
    results.append((loss, grads))
  np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5)
  for one, four in zip(jax.tree.leaves(results[0][1]), jax.tree.leaves(results[1][1])):
    np.testing.assert_allclose(one, four, rtol=1e-3, atol=1e-6)


def test_four_devices_find_what_one_finds(uninterrupted, tiny_corpus, tmp_path):
  """Two epochs on 4 devices (warm-up, search, estimation, the pruning decision) as on one.

  The same genotypes and surviving operations; α within Adam's amplified float noise (its
  first updates are ±lr whatever the gradient's size, so last-bit differences of the parallel
  reductions grow to ~1e-5 of α). Stopping after epoch 2 spares compiling the pruned network.
  """
  _, expected = uninterrupted
  result = search.run_search(
    tiny_config(tiny_corpus), tmp_path, devices=jax.devices()[:4], stop_after_epochs=2
  )
  for got, want in zip(result["history"], expected["history"][:2], strict=True):
    np.testing.assert_allclose(got["alpha"], want["alpha"], rtol=0, atol=2e-4)
    np.testing.assert_allclose(got["beta"], want["beta"], rtol=0, atol=2e-4)
    assert got["genotype"] == want["genotype"]
  np.testing.assert_array_equal(result["active"], expected["active"])  # pruned alike


def test_a_synthetic_corpus_is_built_on_first_use(tiny_corpus, tmp_path):
  config = tiny_config(tiny_corpus, data_dir=str(tmp_path / "fresh"), epochs=0)
  modality = search.search_modality(config)
  feed = search_steps.in_dataset_feed(config, modality, parallel.make_data_mesh(jax.devices()[:1]))
  assert all(pipe.steps_per_epoch > 0 for pipe in feed.pipelines.values())


def test_unknown_operation_lists_the_known_ones(tiny_corpus, tmp_path):
  config = tiny_config(tiny_corpus, ops=("sep_conv_3x3", "wavelet_3x3"))
  with pytest.raises(ValueError, match="unknown operation 'wavelet_3x3'.*known names"):
    search.run_search(config, tmp_path)


def test_the_standardised_indicator_ranks_the_operations(tiny_corpus, tmp_path):
  """indicator_form='standardised_gap': E of every edge is a distribution over its active
  operations that does not pick one, and H = softmax_edges(β) · (softmax(α) + λ·E) (Eq. 5, 8)."""
  config = tiny_config(tiny_corpus, indicator_form="standardised_gap", epochs=2)
  result = search.run_search(config, tmp_path, devices=jax.devices()[:1])
  last = result["history"][-1]
  e = np.asarray(last["estimation"])  # (2 cell types, 14 edges, ops)
  np.testing.assert_allclose(e.sum(-1), 1.0, atol=1e-4)
  assert e.max() < 0.9 and e.min() > 0.0
  for t in (0, 1):
    want = estimation.importance(
      jax.numpy.log(jax.numpy.asarray(last["alpha"][t])),
      jax.numpy.asarray(last["beta"][t]),
      jax.numpy.asarray(e[t]),
    )
    np.testing.assert_allclose(last["importance"][t], want, atol=1e-4)


def test_an_unknown_indicator_form_is_refused_before_the_workdir_is_touched(tiny_corpus, tmp_path):
  config = tiny_config(tiny_corpus, indicator_form="inverse")
  with pytest.raises(ValueError, match="unknown config.indicator_form 'inverse'.*standardised_gap"):
    search.run_search(config, tmp_path / "run")
  assert not (tmp_path / "run").exists()


def test_compiled_ahead_programs_give_the_synchronous_search_without_compiling_at_pruning(
  tiny_corpus, tmp_path
):
  """compile_ahead (the default): the steps not needed yet and the next k's programs compile
  in the background thread, so after the first step the main thread lowers nothing, the
  pruning switch included; on 4 devices (shardings in the specs), as the synchronous search."""
  lowered = []

  def listener(event, duration, **kwargs):
    if event == dispatch.JAXPR_TO_MLIR_MODULE_EVENT:
      lowered.append((threading.current_thread().name, kwargs.get("fun_name")))

  programs = {"jit(init)", "jit(weight_step)", "jit(arch_step)", "jit(errors)"}
  monitoring.register_event_duration_secs_listener(listener)
  try:
    ahead = search.run_search(tiny_config(tiny_corpus), tmp_path / "a", devices=jax.devices()[:4])
  finally:
    monitoring.unregister_event_duration_listener(listener)
  in_main = sorted(fun for thread, fun in lowered if thread == "MainThread" and fun in programs)
  in_worker = [fun for thread, fun in lowered if thread != "MainThread" and fun in programs]
  assert in_main == ["jit(init)", "jit(weight_step)"]  # the first k's, at the first step
  assert sorted(in_worker) == sorted(
    ["jit(arch_step)", "jit(errors)", "jit(init)", "jit(weight_step)", "jit(arch_step)"]
    + ["jit(errors)"]
  )  # k = 2: arch step, estimation; k = 1: all four, compiled while epoch 2 runs
  assert ahead["history"][2]["time/switch_s"] > 0

  synchronous = search.run_search(
    tiny_config(tiny_corpus, compile_ahead=False), tmp_path / "s", devices=jax.devices()[:4]
  )
  assert ahead["genotype"] == synchronous["genotype"]
  np.testing.assert_array_equal(ahead["alpha"], synchronous["alpha"])
  np.testing.assert_array_equal(ahead["beta"], synchronous["beta"])
  for a, s in zip(ahead["history"], synchronous["history"], strict=True):
    assert {k: v for k, v in a.items() if not k.startswith("time/")} == {
      k: v for k, v in s.items() if not k.startswith("time/")
    }
