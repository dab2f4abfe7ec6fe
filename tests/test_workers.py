"""`data.workers.map_in_workers`: order kept, worker processes used, this process as fall-back."""

import os

from fakenas_jax.data import workers


def square_and_pid(x):
  return x * x, os.getpid()


def test_results_come_in_job_order_from_worker_processes():
  results = list(
    workers.map_in_workers(square_and_pid, [(i,) for i in range(6)], num_workers=2, label="test")
  )
  assert [value for value, _ in results] == [i * i for i in range(6)]
  assert {pid for _, pid in results} != {os.getpid()}, "the work ran in spawned processes"


def test_one_worker_runs_here():
  results = list(workers.map_in_workers(square_and_pid, [(3,), (4,)], num_workers=1, label="t"))
  assert results == [(9, os.getpid()), (16, os.getpid())]


def die_in_a_worker(x, parent):
  if os.getpid() != parent:
    os._exit(1)  # the worker dies, as one that cannot import `__main__` does: a broken pool
  return x + 1, os.getpid()


def test_a_broken_pool_finishes_the_jobs_here():
  jobs = [(1, os.getpid()), (2, os.getpid()), (3, os.getpid())]
  results = list(workers.map_in_workers(die_in_a_worker, jobs, num_workers=2, label="broken"))
  assert results == [(2, os.getpid()), (3, os.getpid()), (4, os.getpid())]
