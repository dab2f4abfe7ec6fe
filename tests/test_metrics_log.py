"""Metrics log: JSON lines read back, TensorBoard event file written."""

import numpy as np
import pytest

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


def test_a_failed_write_is_one_line_naming_the_file(tmp_path):
  import errno

  from fakenas_jax import storage

  blocker = tmp_path / "run"
  blocker.write_text("a file where the workdir should be")
  with pytest.raises(storage.StorageError) as error:
    metrics_log.MetricsLog(blocker / "sub")
  assert str(blocker / "sub") in str(error.value) and "\n" not in str(error.value)
  log = metrics_log.MetricsLog(tmp_path / "ok", tensorboard=False)
  (tmp_path / "ok" / metrics_log.JSONL).mkdir()  # the log file cannot be opened for writing
  with pytest.raises(storage.StorageError, match=r"cannot write .*metrics.jsonl") as error:
    log.write(1, {"loss": 0.5})
  assert error.value.errno_code == errno.EISDIR
