"""Trains a detector (C2PN, ADD, BiG-Arts heads, DARTS networks, baselines) with checkpoints.

    python -m fakenas_jax.train                                     # default: Meso-4, synthetic
    python -m fakenas_jax.train --config=configs/train/c2pn_fdnas.py --workdir=runs/t1 \
        --config.model.genotype=runs/s1/genotype.json

Re-running with the same workdir resumes from the last checkpoint.
"""

from absl import flags

from fakenas_jax import cli
from fakenas_jax.training import trainer

_CONFIG = cli.define_config("configs/train/default.py", "Training configuration file.")
_WORKDIR = flags.DEFINE_string("workdir", "runs/train", "Where checkpoints and results go.")


def main(argv):
  del argv
  result = trainer.train_and_evaluate(_CONFIG.value, _WORKDIR.value)
  best = result["best"]
  if best is not None:
    metric = next(name for name in best if name.startswith("val/"))  # val/auc; speech: val/eer
    print(f"best {metric} {best[metric]:.4f} at epoch {best['epoch']}")
  print(f"written to {_WORKDIR.value}: checkpoints/, history.json, training_curves.png")
  return 0


if __name__ == "__main__":
  cli.run(main, config=_CONFIG)
