"""Evaluates trained detectors from their Orbax checkpoints: metrics, ROC, cross-dataset matrix.

    python -m fakenas_jax.evaluate --workdir=runs/train             # default: its test split
    python -m fakenas_jax.evaluate --config=configs/eval/cross_dataset.py \
        --workdir=runs/t_studio,runs/t_celeb --config.checkpoint=latest

Results go to <first workdir>/eval/ (or --config.output_dir): eval_report.json and .md,
roc.png, samples_*.png, and with several runs or corpora cross_dataset.md / _auc.png.
"""
import sys

from absl import app, flags
from ml_collections import config_flags

from fakenas_jax import checkpoints, cli
from fakenas_jax.eval import evaluator, plots, report

_CONFIG = config_flags.DEFINE_config_file("config", "configs/eval/default.py",
                                          "Evaluation configuration file.")
_WORKDIR = flags.DEFINE_list("workdir", ["runs/train"],
                             "Training workdir(s), comma-separated; several give the rows of "
                             "the cross-dataset matrix.")


def main(argv):
  del argv
  cli.quiet_library_logs()
  try:
    result = evaluator.evaluate_run(_CONFIG.value, _WORKDIR.value)
  except (FileNotFoundError, ValueError, checkpoints.CheckpointMismatchError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 2
  rows = report.summary_rows({name: run["corpora"] for name, run in result["runs"].items()})
  columns = ["frame auc", "frame accuracy", "frame eer", "video auc", "frames", "videos"]
  print(plots.markdown_table(rows, columns=columns, row_header="run → corpus"), end="")
  print(f"written to {result['paths']['json'].parent}")
  return 0


if __name__ == "__main__":
  app.run(main)
