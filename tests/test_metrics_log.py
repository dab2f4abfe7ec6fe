"""Metrics log: JSON lines read back, TensorBoard event file written."""
import numpy as np

from fakenas_jax import metrics_log


def test_jsonl_and_tensorboard(tmp_path):
  log = metrics_log.MetricsLog(tmp_path)
  log.write(1, {"train/loss": np.float32(0.5), "arch/entropy": 2.0})
  log.write(2, {"train/loss": 0.25})
  log.close()
  rows = metrics_log.read(tmp_path)
  assert [r["step"] for r in rows] == [1, 2]
  assert rows[0]["train/loss"] == 0.5 and rows[1]["train/loss"] == 0.25
  events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
  assert events and events[0].stat().st_size > 0
