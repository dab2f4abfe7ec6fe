r"""Calibration of the synthetic speech corpus: dev and eval EER of a baseline and a searched net.

    python scripts/calibrate_synthetic_speech.py --models=lcnn --epochs=8
    python scripts/calibrate_synthetic_speech.py --models=lcnn,pcdarts \
        --genotype=runs/s_speech/genotype.json --override=speakers=48,12,24

Each detector (`lcnn`: configs/train/lcnn_synthetic_speech.py; `pcdarts`: the searched cell,
configs/train/pcdarts_synthetic_speech.py at C = 8, 5 cells) is trained on the training split of
`synthetic_speech` (with `--override` fields of its builder config, e.g. more speakers) for
`--epochs` epochs on `--seconds` of audio, then scored on `dev` (the training attacks A01–A06,
unseen speakers) and `eval` (A07–A10 unseen attack families, A11/A12 the training systems
A04/A06 again). A calibrated corpus is learnable on the training attacks (dev EER < 5 %) while
the unseen attacks stay clearly harder. Tables: `<workdir>/calibration_speech.md` (pooled EER,
minDCF, and EER per attack); runs resume.
"""

from __future__ import annotations

import pathlib
import sys
import time

from absl import app, flags

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from configs.eval import speech as eval_speech  # noqa: E402
from configs.train import lcnn_synthetic_speech, pcdarts_synthetic_speech  # noqa: E402
from fakenas_jax import cli  # noqa: E402
from fakenas_jax.data import corpora  # noqa: E402
from fakenas_jax.data import overrides as overrides_lib
from fakenas_jax.eval import plots, speech_evaluator  # noqa: E402
from fakenas_jax.training import trainer  # noqa: E402

_WORKDIR = flags.DEFINE_string("workdir", "runs/calibration_speech", "Where runs and tables go.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "Built corpora (default: <workdir>/tfds).")
_MODELS = flags.DEFINE_list("models", ["lcnn"], "lcnn and/or pcdarts (needs --genotype).")
_GENOTYPE = flags.DEFINE_string("genotype", "", "Searched genotype JSON for pcdarts.")
_EPOCHS = flags.DEFINE_integer("epochs", 8, "Training epochs.")
_SECONDS = flags.DEFINE_float("seconds", 2.0, "Seconds of audio a training example.")
_OVERRIDES = flags.DEFINE_multi_string("override", [], "KEY=VALUE fields of the corpus config.")


def train_config(
  model: str, data_dir: str, overrides: dict, epochs: int, seconds: float, genotype: str = ""
):
  """The training config of one calibration detector."""
  if model == "lcnn":
    config = lcnn_synthetic_speech.get_config()
  elif model == "pcdarts":
    if not genotype:
      raise app.UsageError("pcdarts needs --genotype (a speech search's genotype.json)")
    config = pcdarts_synthetic_speech.get_config()
    config.model.update(dict(genotype=genotype, channels=8, layers=5, drop_path_prob=0.0))
  else:
    raise app.UsageError(f"unknown model {model!r}; use lcnn or pcdarts")
  config.data_dir, config.epochs, config.progress = data_dir, epochs, False
  config.num_samples = int(round(seconds * 16000))
  config.corpus_overrides.update(overrides)
  return config


def calibrate(
  workdir: pathlib.Path,
  data_dir: pathlib.Path,
  models,
  overrides: dict,
  epochs: int,
  seconds: float,
  genotype: str = "",
) -> str:
  """Trains and scores every model; returns the markdown tables."""
  rows, attacks = {}, {}
  for model in models:
    config = train_config(model, str(data_dir), overrides, epochs, seconds, genotype)
    run_dir = workdir / model
    start = time.perf_counter()
    result = trainer.train_and_evaluate(config, run_dir)
    elapsed = time.perf_counter() - start
    row = {"train s": elapsed, "best epoch": result["best"].get("epoch")}
    for split in ("dev", "eval"):
      eval_config = eval_speech.get_config()
      eval_config.split, eval_config.progress = split, False
      eval_config.output_dir = str(workdir / f"eval_{model}_{split}")
      report = speech_evaluator.evaluate_speech_run(eval_config, run_dir)
      row[f"{split} EER %"] = 100 * report["eer"]
      row[f"{split} minDCF"] = report["min_dcf"]
      row["parameters"] = report["parameters"]
      for attack, value in report["per_attack_eer"].items():
        attacks.setdefault(model, {})[f"{split} {attack}"] = 100 * value
    rows[model] = row
    print(f"{model}: {row}", flush=True)
  text = [
    "## Pooled (EER in %)\n",
    plots.markdown_table(rows, row_header="model", digits=2),
    "\n## EER per attack (%), against all bona fide speech of the split\n",
    plots.markdown_table(attacks, row_header="model", digits=1),
  ]
  return "\n".join(text) + "\n"


def main(argv):
  del argv
  cli.quiet_library_logs()
  workdir = pathlib.Path(_WORKDIR.value)
  data_dir = pathlib.Path(_DATA_DIR.value or workdir / "tfds")
  overrides = overrides_lib.parse(_OVERRIDES.value, corpora.resolve_config("synthetic_speech"))
  text = calibrate(
    workdir, data_dir, _MODELS.value, overrides, _EPOCHS.value, _SECONDS.value, _GENOTYPE.value
  )
  workdir.mkdir(parents=True, exist_ok=True)
  (workdir / "calibration_speech.md").write_text(text)
  print(text)


if __name__ == "__main__":
  app.run(main)
