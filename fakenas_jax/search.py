"""Searches a cell architecture (FD-NAS / PC-DARTS / DARTS / ADD) and writes its genotype.

    python -m fakenas_jax.search                                    # default: FD-NAS, synthetic
    python -m fakenas_jax.search --config=configs/search/default.py --workdir=runs/search \
        --config.epochs=20 --config.k=4

Re-running with the same workdir resumes from the last checkpoint.
"""
import sys

from absl import app, flags
from ml_collections import config_flags

from fakenas_jax import cli
from fakenas_jax.nas import search, strategies

_CONFIG = config_flags.DEFINE_config_file("config", "configs/search/default.py",
                                          "Search configuration file.")
_WORKDIR = flags.DEFINE_string("workdir", "runs/search", "Where checkpoints and results go.")


def main(argv):
  del argv
  cli.quiet_library_logs()
  try:
    result = strategies.run_strategy(_CONFIG.value, _WORKDIR.value)
  except (FileNotFoundError, ValueError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 2
  except search.Interrupted:
    print("interrupted: checkpoint written; re-run the same command to resume", file=sys.stderr)
    return 143
  print(f"genotype: {result['genotype']}")
  print(result["summary"])
  return 0


if __name__ == "__main__":
  app.run(main)
