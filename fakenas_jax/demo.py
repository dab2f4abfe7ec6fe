"""The main job on the built-in synthetic corpora, end to end: search → train → evaluate.

    python -m fakenas_jax.demo --workdir=runs/demo           # what `make demo` runs
    python -m fakenas_jax.demo --config=configs/demo.py:tiny --workdir=/tmp/demo

`run_demo(config, workdir)`, in order, each part resumable (re-running skips what is done):
  1. builds the synthetic corpora into `<workdir>/tfds` and writes a contact sheet and
     statistics of each (`<workdir>/corpus/`);
  2. searches cells with FD-NAS on the training corpus (`<workdir>/search/`: genotype.json,
     the cell diagrams genotype.png, α/β/H over the epochs arch_history.png);
  3. trains every detector of `config.detectors` on the training corpus — C2PN from the
     searched genotype, and the Meso-4 baseline (`<workdir>/train/<name>/`) — and the same
     C2PN from `config.random_cells.count` random genotypes of the search space
     (`<workdir>/random/`, `<workdir>/train/c2pn_random_<i>/`);
  4. evaluates every detector on the test split of every corpus (`<workdir>/eval/`: the
     metrics table, ROC curves, the cross-corpus AUC matrix, sample predictions);
  5. writes `<workdir>/report.md` and `report.html`, which show all of the above on one page.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import time
from typing import Any

import ml_collections
from absl import flags

from fakenas_jax import cli, demo_speech
from fakenas_jax.data import corpora, corpus_report, preparation
from fakenas_jax.eval import evaluator, genotype_trials, report
from fakenas_jax.nas import random_search, search, stability
from fakenas_jax.training import trainer

_CONFIG = cli.define_config("configs/demo.py", "The demo's config file.")
_WORKDIR = flags.DEFINE_string("workdir", "runs/demo", "Where the demo writes everything.")


def _with_data(
  config: ml_collections.ConfigDict,
  dataset: str,
  data_dir: pathlib.Path,
  overrides: ml_collections.ConfigDict,
) -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict(config.to_dict())
  config.dataset, config.data_dir = dataset, str(data_dir)
  config.corpus_overrides = ml_collections.ConfigDict(overrides.to_dict())
  return config


@contextlib.contextmanager
def _timed(name: str, timings: dict[str, float]):
  """Announces a part of the demo and records its wall time in `timings`."""
  print(f"\n== {name} ==", flush=True)
  start = time.perf_counter()
  yield
  timings[name] = time.perf_counter() - start


def run_demo(
  config: ml_collections.ConfigDict, workdir: str | pathlib.Path, *, devices=None
) -> dict[str, Any]:
  """Runs the whole demo into `workdir`; returns paths, the search result and the evaluation."""
  if config.kind == "speech":  # configs/demo.py:speech → demo_speech
    return demo_speech.run_speech_demo(config, workdir, devices=devices)
  workdir = pathlib.Path(workdir)
  data_dir = workdir / "tfds"
  overrides = config.corpus_overrides.to_dict()
  timings: dict[str, float] = {}

  with _timed("corpora", timings):
    corpus_paths = {}
    for spec in config.corpora:
      summary = preparation.prepare(spec, data_dir, overrides=overrides)
      print(summary.render(), flush=True)
      builder = corpora.load_builder(spec, str(data_dir), **overrides)
      corpus_paths[spec] = corpus_report.write_report(builder, workdir / "corpus")

  with _timed("search", timings):
    search_config = _with_data(
      config.search, config.training_corpus, data_dir, config.corpus_overrides
    )
    searched = search.run_search(search_config, workdir / "search", devices=devices)
    print(f"genotype: {searched['genotype']}", flush=True)

  trainings = [
    (name, detector, workdir / "search" / "genotype.json")
    for name, detector in config.detectors.items()
  ]
  cells = config.random_cells
  if cells.count:
    random_config = ml_collections.ConfigDict(config.search.to_dict())
    random_config.seed, random_config.progress = cells.seed, False
    random_config.random = ml_collections.ConfigDict(dict(num_genotypes=cells.count))
    for index, path in enumerate(
      random_search.run_random(random_config, workdir / "random")["paths"]
    ):
      trainings.append((f"{cells.detector}_random_{index}", config.detectors[cells.detector], path))
  run_dirs, parameters = {}, {}
  for name, detector, genotype in trainings:
    with _timed(f"train {name}", timings):
      train_config = _with_data(detector, config.training_corpus, data_dir, config.corpus_overrides)
      if "genotype" in train_config.model:
        train_config.model.genotype = str(genotype)
      run_dirs[name] = workdir / "train" / name
      trained = trainer.train_and_evaluate(train_config, run_dirs[name], devices=devices)
      parameters[name] = genotype_trials.parameter_count(trained["state"].params)

  with _timed("evaluate", timings):
    eval_config = ml_collections.ConfigDict(config.eval.to_dict())
    eval_config.output_dir = str(workdir / "eval")
    eval_config.corpus_overrides = ml_collections.ConfigDict(overrides)
    evaluation = evaluator.evaluate_run(
      eval_config, list(run_dirs.values()), corpora=list(config.corpora), devices=devices
    )

  paths = write_report(workdir, config, corpus_paths, run_dirs, evaluation, timings, parameters)
  print(f"\nreport: {paths['html']}\n        {paths['markdown']}", flush=True)
  return {"paths": paths, "search": searched, "evaluation": evaluation, "timings": timings}


def searched_vs_random(config, evaluation, parameters) -> list:
  """The report's "Searched vs random" paragraphs: the searched C2PN against the same C2PN of
  random cells, same training (eval.genotype_trials.corpus_aucs)."""
  searched = config.random_cells.detector
  by_run = {pathlib.Path(run["workdir"]).name: run for run in evaluation["runs"].values()}
  names = [searched] + [name for name in by_run if name.startswith(f"{searched}_random_")]
  rows = {}
  for name in names:
    own, cross = genotype_trials.corpus_aucs(by_run[name])
    rows[name] = {
      "cells": "searched" if name == searched else "random",
      "in-corpus AUC": own,
      "cross-corpus AUC (mean)": cross,
      "parameters": parameters.get(name, ""),
    }
  randoms = [row["cross-corpus AUC (mean)"] for name, row in rows.items() if name != searched]
  mine = rows[searched]["cross-corpus AUC (mean)"]
  count = f"{len(randoms)} random cell{'s' if len(randoms) != 1 else ''}"
  if mine > max(randoms):
    sentence = f"Here the searched cells score above {count} on cross-corpus AUC"
  else:
    sentence = (
      f"Here the searched cells do NOT beat {count} on cross-corpus AUC ({mine:.3f} against "
      f"{max(randoms):.3f})"
    )
  sentence += (
    f"; {count} trained once {'are' if len(randoms) != 1 else 'is'} no evidence either way. "
    "`scripts/search_vs_random.py` compares several search seeds with several random cells; "
    "WORKSPACE.md (Does the search beat chance?) records that measurement."
  )
  return [
    f"`{searched}` from the searched genotype and from random genotypes of the same space "
    "(two inputs per node, no `none`), trained and evaluated alike.",
    report.Table(rows, row_header="run"),
    sentence,
  ]


def _report_sections(
  workdir: pathlib.Path, config, corpus_paths, run_dirs, evaluation, timings, parameters
):
  """The report as (heading, [paragraphs and tables], [image paths]) sections, paths relative
  to workdir (`eval.report.render_markdown` / `render_html`)."""
  rel = lambda path: str(pathlib.Path(path).resolve().relative_to(workdir.resolve()))
  eval_paths = evaluation["paths"]
  sections = []
  cross = evaluation["cross_dataset"]["auc"]
  sections.append(
    (
      "Cross-corpus frame AUC",
      [
        f"Detectors trained on `{config.training_corpus}`; rows: detector, columns: test split "
        "of each corpus.",
        report.Table(cross, row_header="trained on"),
      ],
      [rel(eval_paths["cross_dataset_png"])] if "cross_dataset_png" in eval_paths else [],
    )
  )
  metrics = report.summary_rows({name: run["corpora"] for name, run in evaluation["runs"].items()})
  sections.append(
    (
      "Metrics (frame and video level)",
      [report.Table(metrics, row_header="run → corpus")],
      [rel(eval_paths["roc"])] if "roc" in eval_paths else [],
    )
  )
  genotype = json.loads((workdir / "search" / "genotype.json").read_text())
  history = json.loads((workdir / "search" / "history.json").read_text())
  sections.append(
    (
      "Searched cells (FD-NAS)",
      [
        "`search/genotype.json`: each node adds two operations of earlier states.",
        stability.search_learning(history, genotype["ops"]),
        report.Table(report.genotype_rows(genotype), row_header="cell node"),
      ],
      [rel(workdir / "search" / "genotype.png"), rel(workdir / "search" / "arch_history.png")],
    )
  )
  if config.random_cells.count:
    sections.append(("Searched vs random", searched_vs_random(config, evaluation, parameters), []))
  sections.append(
    (
      "Training curves",
      [],
      [
        rel(run_dir / "training_curves.png")
        for run_dir in run_dirs.values()
        if (run_dir / "training_curves.png").exists()
      ],
    )
  )
  sections.append(
    (
      "Sample predictions",
      ["P(fake) of real and fake test frames, with the ground-truth masks."],
      [rel(path) for path in eval_paths["samples"]],
    )
  )
  sections.append(
    (
      "Corpora",
      ["Contact sheets: frames with their landmarks and masks."],
      [rel(paths["contact_sheet"]) for paths in corpus_paths.values()],
    )
  )
  sections.append(
    (
      "Time",
      [
        report.Table(
          {
            name: {"wall time": report.human_duration(seconds)} for name, seconds in timings.items()
          },
          row_header="part",
        )
      ],
      [],
    )
  )
  return sections


def write_report(
  workdir: pathlib.Path, config, corpus_paths, run_dirs, evaluation, timings, parameters
):
  """Writes report.md and report.html (the same sections; images linked, not copied)."""
  sections = _report_sections(
    workdir, config, corpus_paths, run_dirs, evaluation, timings, parameters
  )
  title = "fakenas_jax demo: search → train → evaluate"
  paths = {"markdown": workdir / "report.md", "html": workdir / "report.html"}
  paths["markdown"].write_text(report.render_markdown(title, sections))
  paths["html"].write_text(report.render_html(title, sections))
  return paths


def main(argv):
  del argv
  run_demo(_CONFIG.value, _WORKDIR.value)


if __name__ == "__main__":
  cli.run(main, config=_CONFIG)
