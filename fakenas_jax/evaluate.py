"""Evaluates trained detectors from their Orbax checkpoints: metrics, ROC, cross-dataset matrix.

    python -m fakenas_jax.evaluate --workdir=runs/train             # default: its test split
    python -m fakenas_jax.evaluate --config=configs/eval/cross_dataset.py \
        --workdir=runs/t_studio,runs/t_celeb --config.checkpoint=latest

Results go to <first workdir>/eval/ (or --config.output_dir): eval_report.json and .md,
roc.png, samples_*.png, and with several runs or corpora cross_dataset.md / _auc.png.

A speech run (trained with modality 'speech') is scored on its corpus's `eval` split instead:
the CM score file, EER, per-attack EER, parameter count, and min t-DCF with the organisers' ASV
scores (`eval.speech_evaluator`):
    python -m fakenas_jax.evaluate --config=configs/eval/speech.py --workdir=runs/t_speech \
        [--config.asv_scores=ASVspoof2019.LA.asv.eval.gi.trl.scores.txt]
"""

from absl import flags

from fakenas_jax import cli
from fakenas_jax.eval import evaluator, plots, report, speech_evaluator

_CONFIG = cli.define_config("configs/eval/default.py", "Evaluation configuration file.")
_WORKDIR = flags.DEFINE_list(
  "workdir",
  ["runs/train"],
  "Training workdir(s), comma-separated; several give the rows of the cross-dataset matrix.",
)


def main(argv):
  del argv
  modality = evaluator.run_modality(_WORKDIR.value[0])
  return EVALUATIONS[modality.name](_CONFIG.value, _WORKDIR.value)


def _evaluate_faces(config, workdirs) -> int:
  result = evaluator.evaluate_run(config, workdirs)
  rows = report.summary_rows({name: run["corpora"] for name, run in result["runs"].items()})
  columns = ["frame auc", "frame accuracy", "frame eer", "video auc", "frames", "videos"]
  print(plots.markdown_table(rows, columns=columns, row_header="run → corpus"), end="")
  print(f"written to {result['paths']['json'].parent}")
  return 0


def _evaluate_speech(config, workdirs) -> int:
  if len(workdirs) > 1:
    raise ValueError(f"speech runs are evaluated one at a time, got {len(workdirs)} workdirs")
  result = speech_evaluator.evaluate_speech_run(config, workdirs[0])
  print(result["paths"]["markdown"].read_text(), end="")
  print(f"written to {result['paths']['json'].parent}")
  return 0


EVALUATIONS = {"face": _evaluate_faces, "speech": _evaluate_speech}  # by the run's modality


if __name__ == "__main__":
  cli.run(main, config=_CONFIG)
