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
CACHE_DIR = pathlib.Path(__file__).resolve().parent / ".jax_cache"

# Entry points started as subprocesses use the same cache (cli.CACHE_ENV).
os.environ.setdefault("FAKENAS_JAX_COMPILATION_CACHE", str(CACHE_DIR))
jax.config.update("jax_num_cpu_devices", NUM_CPU_DEVICES)
jax.config.update("jax_compilation_cache_dir", str(CACHE_DIR))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


import pytest  # noqa: E402

# A tiny synthetic corpus: 3/2/2 identities, 1 real + 2 fake videos each, 3 frames, 32×32.
TINY_CORPUS = "synthetic_faces/studio"
TINY_OVERRIDES = dict(
  identities=(3, 2, 2),
  real_videos_per_identity=1,
  fake_videos_per_identity=2,
  frames_per_video=3,
  resolution=32,
)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
  """The tiny synthetic corpus, built for real once per test session: (spec, data_dir, overrides)."""
  from fakenas_jax.data import preparation

  data_dir = tmp_path_factory.mktemp("tfds")
  preparation.prepare(
    TINY_CORPUS, data_dir, overrides=TINY_OVERRIDES, builder_kwargs={"num_workers": 1}
  )
  return TINY_CORPUS, str(data_dir), dict(TINY_OVERRIDES)


@pytest.fixture(scope="session")
def tiny_builder(tiny_corpus):
  """The TFDS builder of `tiny_corpus`, ready to read."""
  from fakenas_jax.data import corpora

  spec, data_dir, overrides = tiny_corpus
  return corpora.load_builder(spec, data_dir, **overrides)
