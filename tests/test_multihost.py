"""Two processes on localhost as one multi-host run (`--coordinator_address`, gloo on the CPU)
give what one process on the same number of devices gives, and write their files once."""

import json
import os
import pathlib
import socket
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from fakenas_jax import checkpoints, metrics_log
from fakenas_jax.nas import search
from fakenas_jax.nn import genotypes
from fakenas_jax.training import trainer

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROCESSES, DEVICES_EACH = 2, 2

SEARCH_CONFIG = """
from configs.search import default

def get_config():
  config = default.get_config()
  config.dataset, config.data_dir = {spec!r}, {data_dir!r}
  config.corpus_overrides = {overrides!r}
  config.ops = ("none", "max_pool_3x3", "skip_connect", "SepCDC_3x3_0.0", "DilCDC_3x3_0.5")
  config.reducing_skip = "avg_pool"
  config.layout, config.channels, config.k = "NR", 8, 2
  config.image_size, config.batch_size, config.frames_per_video = 16, 4, None
  config.epochs, config.warmup_epochs, config.prune_every = 2, 1, 1
  config.steps_per_epoch, config.progress = 2, False
  return config
"""

TRAIN_CONFIG = """
from configs.train import default

def get_config():
  config = default.get_config()
  config.dataset, config.data_dir = {spec!r}, {data_dir!r}
  config.corpus_overrides = {overrides!r}
  config.image_size, config.batch_size, config.eval_batch_size = 32, 4, 4
  config.frames_per_video, config.eval_frames_per_video = 0, 0
  config.epochs, config.steps_per_epoch, config.progress = 2, 2, False
  # SGD: Adam turns the float noise of zero-gradient parameters (a bias before a batch norm)
  # into whole steps of ±learning rate, whatever the device layout; SGD keeps it noise.
  config.optimizer.name = "sgd"
  # No dropout: a process's rows of a global batch are other positions than one process's,
  # so each example would meet another dropout mask (the same set of examples, reordered).
  config.model.dropout_rate = 0.0
  return config
"""


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def _config_file(tmp_path, template, tiny_corpus):
  spec, data_dir, overrides = tiny_corpus
  path = tmp_path / "tiny_config.py"
  path.write_text(
    textwrap.dedent(template.format(spec=spec, data_dir=data_dir, overrides=dict(overrides)))
  )
  return path


def _load(path: pathlib.Path):
  import importlib.util

  spec = importlib.util.spec_from_file_location("tiny_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def _run_processes(command: str, config: pathlib.Path, workdir: pathlib.Path):
  port = _free_port()
  env = dict(os.environ, JAX_NUM_CPU_DEVICES=str(DEVICES_EACH), PYTHONPATH=str(ROOT))
  processes = [
    subprocess.Popen(
      [
        sys.executable,
        "-m",
        f"fakenas_jax.{command}",
        f"--config={config}",
        f"--workdir={workdir}",
        f"--coordinator_address=localhost:{port}",
        f"--num_processes={PROCESSES}",
        f"--process_id={index}",
      ],
      cwd=ROOT,
      env=env,
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
    )
    for index in range(PROCESSES)
  ]
  outputs = [p.communicate(timeout=900) for p in processes]
  for process, (out, err) in zip(processes, outputs):
    assert process.returncode == 0, f"{out}\n{err}"
  return outputs


def _one_line_per_epoch(workdir: pathlib.Path, epochs: int):
  assert [r["step"] for r in metrics_log.read(workdir)] == list(range(1, epochs + 1))
  assert len(list((workdir / "tensorboard").iterdir())) == 1


def test_two_processes_search_as_one_process(tiny_corpus, tmp_path):
  config_path = _config_file(tmp_path, SEARCH_CONFIG, tiny_corpus)
  workdir = tmp_path / "two"
  outputs = _run_processes("search", config_path, workdir)
  assert "2 process(es), 4 device(s)" in outputs[0][0]
  assert "fakenas_jax" not in outputs[1][0], "only process 0 prints the header"
  expected = search.run_search(
    _load(config_path), tmp_path / "one", devices=jax.devices()[: PROCESSES * DEVICES_EACH]
  )
  assert genotypes.load(workdir / "genotype.json") == expected["genotype"]
  history = json.loads((workdir / "history.json").read_text())
  np.testing.assert_allclose(
    history[-1]["alpha"], np.asarray(expected["history"][-1]["alpha"]), atol=1e-4
  )
  _one_line_per_epoch(workdir, 2)


def test_two_processes_train_as_one_process(tiny_corpus, tmp_path):
  config_path = _config_file(tmp_path, TRAIN_CONFIG, tiny_corpus)
  workdir = tmp_path / "two"
  _run_processes("train", config_path, workdir)
  expected = trainer.train_and_evaluate(
    _load(config_path), tmp_path / "one", devices=jax.devices()[: PROCESSES * DEVICES_EACH]
  )
  ckpt = checkpoints.Checkpointer(workdir / "checkpoints")
  try:
    target = checkpoints.abstract_like(
      {"state": jax.device_get(expected["state"]), "rng": np.zeros(2, np.uint32)},
      jax.sharding.SingleDeviceSharding(jax.devices()[0]),
    )
    restored, _ = ckpt.restore(target, "latest")
  finally:
    ckpt.close()
  # Float tolerance of 4 SGD steps: a bias before a batch norm has no true gradient, only
  # float noise of order 1e-5, which differs with the reduction order over devices.
  for a, b in zip(
    jax.tree.leaves(jax.device_get(restored["state"].params)),
    jax.tree.leaves(jax.device_get(expected["state"].params)),
  ):
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
  history = json.loads((workdir / "history.json").read_text())
  for one, other in zip(history, expected["history"]):
    assert one["train/loss"] == pytest.approx(other["train/loss"], rel=1e-4)
  assert [r["epoch"] for r in history] == [1, 2]
  assert history[-1]["val/auc"] == pytest.approx(expected["history"][-1]["val/auc"], abs=1e-3)
  _one_line_per_epoch(workdir, 2)
