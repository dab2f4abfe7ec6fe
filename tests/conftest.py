"""Test-session set-up: runs before JAX initialises its backends.

* 4 CPU devices, so multi-device tests run on one machine (`jax_num_cpu_devices`);
  single-device tests take a mesh over `jax.devices()[:1]`.
* JAX's persistent compilation cache in `.jax_cache/`, shared by all tests and runs, so a
  network compiled once is not compiled again by the next test or the next `make test`.
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402

NUM_CPU_DEVICES = 4
CACHE_DIR = pathlib.Path(__file__).resolve().parent.parent / ".jax_cache"

jax.config.update("jax_num_cpu_devices", NUM_CPU_DEVICES)
jax.config.update("jax_compilation_cache_dir", str(CACHE_DIR))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
