"""Searches a cell architecture (FD-NAS / PC-DARTS / DARTS / ADD) and writes its genotype.

    python -m fakenas_jax.search                                    # default: FD-NAS, synthetic
    python -m fakenas_jax.search --config=configs/search/default.py --workdir=runs/search \
        --config.epochs=20 --config.k=4

Re-running with the same workdir resumes from the last checkpoint.
"""

from absl import flags

from fakenas_jax import cli
from fakenas_jax.nas import strategies

_CONFIG = cli.define_config("configs/search/default.py", "Search configuration file.")
_WORKDIR = flags.DEFINE_string("workdir", "runs/search", "Where checkpoints and results go.")


def main(argv):
  del argv
  result = strategies.run_strategy(_CONFIG.value, _WORKDIR.value)
  print(f"genotype: {result['genotype']}")
  print(result["summary"])
  return 0


if __name__ == "__main__":
  cli.run(main, config=_CONFIG)
