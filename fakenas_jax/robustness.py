"""Robustness of a trained detector to JPEG, blur, noise, resizing and H.264 re-encoding, and its
AUC on partial-face manipulations (BiG-Arts §5 and Table 7).

    python -m fakenas_jax.robustness --workdir=runs/bs
    python -m fakenas_jax.robustness --workdir=runs/bs --config.transforms=jpeg,blur \
        --config.strengths.jpeg='(100, 80, 60)' --config.partial=False

Results go to <workdir>/robustness/ (or --config.output_dir): robustness.json and .md (AUC
against strength per transform and corpus, AUC per partial-face region), robustness_<corpus>.png
and partial_faces_<corpus>.png.
"""

from absl import flags

from fakenas_jax import cli
from fakenas_jax.eval import robustness

_CONFIG = cli.define_config(
  "configs/eval/robustness.py", "Robustness evaluation configuration file."
)
_WORKDIR = flags.DEFINE_string("workdir", "runs/train", "The training run to evaluate.")


def main(argv):
  del argv
  result = robustness.evaluate_robustness(_CONFIG.value, _WORKDIR.value)
  print(result["paths"]["markdown"].read_text(), end="")
  print(f"written to {result['paths']['json'].parent}")
  return 0


if __name__ == "__main__":
  cli.run(main, config=_CONFIG)
