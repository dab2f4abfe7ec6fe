r"""Calibration of the synthetic corpora: in-corpus and cross-corpus AUC of the demo's detectors.

    python scripts/calibrate_synthetic.py --genotype=runs/demo/search/genotype.json
    python scripts/calibrate_synthetic.py --models=meso4 --workdir=runs/calibration
    python scripts/calibrate_synthetic.py --models=meso4 --corpora=wild,graphics --epochs=12

Every detector of configs/demo.py (`meso4`, and `c2pn` from the searched `--genotype`) is
trained with the demo's settings but `--epochs` epochs and every frame of the training split of
each synthetic corpus, then
evaluated on the test split of every corpus: the diagonal of the matrix is in-corpus AUC, the
rest cross-corpus (per-method AUC, which tells which forgeries a detector misses, is in each
`eval_report.json`). A useful synthetic corpus is learnable in-corpus (AUC well above 0.9) and
shows a clear cross-corpus drop, as real corpora do. The corpora are built at the demo's size
into `<workdir>/tfds` (or reused from `--data_dir`). Results: `<workdir>/calibration.md` and,
per detector, `<workdir>/eval_<model>/` (the evaluation report, cross-dataset heat map).
Re-running resumes every training run.
"""

from __future__ import annotations

import pathlib
import sys
import time

import ml_collections
from absl import app, flags

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from configs import demo as demo_config  # noqa: E402
from fakenas_jax import cli  # noqa: E402
from fakenas_jax.eval import evaluator, plots  # noqa: E402
from fakenas_jax.training import trainer  # noqa: E402

_WORKDIR = flags.DEFINE_string("workdir", "runs/calibration", "Where runs and tables go.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "Built corpora (default: <workdir>/tfds).")
_GENOTYPE = flags.DEFINE_string("genotype", "", "Searched genotype JSON for C2PN.")
_MODELS = flags.DEFINE_list("models", ["meso4", "c2pn"], "Detectors of configs/demo.py.")
_EPOCHS = flags.DEFINE_integer("epochs", 20, "Training epochs (the demo trains fewer).")
_CORPORA = flags.DEFINE_list(
  "corpora", [], "Corpora of configs/demo.py by name, e.g. wild,graphics (default: all)."
)


def calibrate(
  workdir: pathlib.Path, data_dir: pathlib.Path, models, genotype: str, epochs: int, corpora=()
) -> str:
  """Trains every model on every corpus (or those named), evaluates the matrix; returns the
  markdown tables."""
  config = demo_config.get_config()
  names = {spec.split("/")[-1]: spec for spec in config.corpora}
  unknown = set(corpora) - set(names)
  if unknown:
    raise app.UsageError(f"Unknown corpora {sorted(unknown)}; known: {', '.join(names)}")
  specs = [names[name] for name in corpora] or list(config.corpora)
  tables = []
  for model in models:
    detector = config.detectors[model]
    run_dirs = []
    for spec in specs:
      train_config = ml_collections.ConfigDict(detector.to_dict())
      train_config.dataset, train_config.data_dir = spec, str(data_dir)
      train_config.epochs, train_config.progress = epochs, False
      train_config.frames_per_video = 0  # every frame (the demo trains on 3 a video)
      if "genotype" in train_config.model:
        if not genotype:
          raise app.UsageError(f"{model} needs --genotype (run `make demo` or a search first)")
        train_config.model.genotype = genotype
      run_dir = workdir / model / spec.split("/")[-1]
      start = time.perf_counter()
      trainer.train_and_evaluate(train_config, run_dir)
      print(f"{model} on {spec}: trained in {time.perf_counter() - start:.0f} s", flush=True)
      run_dirs.append(run_dir)
    eval_config = config.eval
    eval_config.output_dir, eval_config.data_dir = str(workdir / f"eval_{model}"), str(data_dir)
    result = evaluator.evaluate_run(eval_config, run_dirs, corpora=specs)
    tables.append(
      f"## {model}: frame AUC (rows: trained on, columns: tested on)\n\n"
      + plots.markdown_table(result["cross_dataset"]["auc"], row_header="trained on")
    )
  return "\n\n".join(tables) + "\n"


def main(argv):
  del argv
  cli.quiet_library_logs()
  workdir = pathlib.Path(_WORKDIR.value)
  data_dir = pathlib.Path(_DATA_DIR.value or workdir / "tfds")
  text = calibrate(workdir, data_dir, _MODELS.value, _GENOTYPE.value, _EPOCHS.value, _CORPORA.value)
  (workdir / "calibration.md").write_text(text)
  print(text)


if __name__ == "__main__":
  app.run(main)
