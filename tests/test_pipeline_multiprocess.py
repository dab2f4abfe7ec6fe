"""Two JAX processes on localhost (gloo, 2 CPU devices each) read one split together."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import portpicker
import pytest

WORKER = pathlib.Path(__file__).with_name("multiprocess_pipeline_worker.py")
NUM_PROCESSES = 2
TIMEOUT_S = 240


def run_workers(builder_dir, out_dir):
  port = portpicker.pick_unused_port()
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  processes = []
  for process_id in range(NUM_PROCESSES):
    command = [
      sys.executable,
      str(WORKER),
      f"--process_id={process_id}",
      f"--num_processes={NUM_PROCESSES}",
      f"--port={port}",
      f"--builder_dir={builder_dir}",
      f"--out={out_dir / f'{process_id}.json'}",
    ]
    processes.append(
      subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
      )
    )
  logs = []
  try:
    for process in processes:
      logs.append(process.communicate(timeout=TIMEOUT_S)[0])
  finally:
    for process in processes:
      if process.poll() is None:
        process.kill()
  for process_id, (process, log) in enumerate(zip(processes, logs)):
    assert process.returncode == 0, f"process {process_id} failed:\n{log[-4000:]}"
  return [json.loads((out_dir / f"{p}.json").read_text()) for p in range(NUM_PROCESSES)]


def valid_frames(batches):
  return [(video, frame) for batch in batches for video, frame, valid in batch if valid]


@pytest.mark.multiprocess
def test_two_processes_split_the_epoch_and_build_global_batches(tiny_builder, tmp_path):
  results = run_workers(tiny_builder.data_dir, tmp_path)
  num_records = len(tiny_builder.as_data_source("train"))
  for process_id, result in enumerate(results):
    assert result["process_index"] == process_id
    assert (result["process_count"], result["local_devices"], result["devices"]) == (2, 2, 4)

  # Evaluation: disjoint shards that together hold every frame once; equal batch counts.
  evaluation = [valid_frames(result["evaluation"]) for result in results]
  assert len(results[0]["evaluation"]) == len(results[1]["evaluation"]) == -(-num_records // 4)
  assert not set(evaluation[0]) & set(evaluation[1])
  assert len(evaluation[0]) + len(evaluation[1]) == len(set(evaluation[0] + evaluation[1]))
  assert len(set(evaluation[0] + evaluation[1])) == num_records

  # Training: one epoch, remainder dropped, disjoint, 2 rows a process a step.
  training = [valid_frames(result["training"]) for result in results]
  assert len(results[0]["training"]) == len(results[1]["training"]) == num_records // 4
  assert all(len(batch) == 2 for result in results for batch in result["training"])
  assert not set(training[0]) & set(training[1])
  assert len(set(training[0] + training[1])) == (num_records // 4) * 4

  # The first evaluation batch as one global array over the 4 devices of both processes.
  assert all(result["global_shape"] == [4, 16, 16, 3] for result in results)
  concatenated = results[0]["local_row_sums"] + results[1]["local_row_sums"]
  for result in results:
    np.testing.assert_allclose(result["gathered_row_sums"], concatenated, rtol=1e-5)
  assert results[0]["total"] == pytest.approx(results[1]["total"], rel=1e-6)
  assert results[0]["total"] == pytest.approx(sum(concatenated), rel=1e-5)
