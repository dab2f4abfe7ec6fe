"""The speech demo, end to end on the built-in synthetic spoofing corpus: corpus → PC-DARTS
search → training → evaluation (configs/demo_speech.py).

    python -m fakenas_jax.demo --config=configs/demo.py:speech --workdir=runs/demo_speech
    python -m fakenas_jax.demo --config=configs/demo.py:speech_tiny --workdir=/tmp/demo_speech

`run_speech_demo(config, workdir)`, each part resumable (re-running skips what is done):
  1. builds `config.corpus` into `<workdir>/tfds`;
  2. searches a cell with PC-DARTS on its training split (`<workdir>/search/`: genotype.json,
     genotype.png, arch_history.png);
  3. trains every detector of `config.detectors` — the searched cell and the LFCC-LCNN baseline
     — with dev EER each epoch (`<workdir>/train/<name>/`);
  4. evaluates each on `eval` (`<workdir>/eval/<name>/`: CM score file, speech_report.json/md);
  5. writes `<workdir>/report.md` and `report.html`: pooled EER / minDCF / actDCF / Cllr and
     parameters per detector, EER per attack, the DET curves (`det.png`), the searched cells
     and the time of each part.
"""

from __future__ import annotations

import contextlib
import html
import json
import pathlib
import time
from typing import Any

import ml_collections

from fakenas_jax.data import preparation
from fakenas_jax.eval import plots, speech_evaluator, speech_plots
from fakenas_jax.nas import search, stability
from fakenas_jax.training import trainer


@contextlib.contextmanager
def _timed(name: str, timings: dict[str, float]):
  print(f"\n== {name} ==", flush=True)
  start = time.perf_counter()
  yield
  timings[name] = time.perf_counter() - start


def _with_data(config, dataset: str, data_dir: pathlib.Path, overrides: dict):
  config = ml_collections.ConfigDict(config.to_dict())
  config.dataset, config.data_dir = dataset, str(data_dir)
  config.corpus_overrides = ml_collections.ConfigDict(overrides)
  return config


def run_speech_demo(
  config: ml_collections.ConfigDict, workdir: str | pathlib.Path, *, devices=None
) -> dict[str, Any]:
  """Runs the speech demo into `workdir`; returns paths, the search result and the reports."""
  workdir = pathlib.Path(workdir)
  data_dir = workdir / "tfds"
  overrides = config.corpus_overrides.to_dict()
  timings: dict[str, float] = {}

  with _timed("corpus", timings):
    workers = int(config.get("corpus_workers", 0)) or None  # 0: one process per CPU
    print(
      preparation.prepare(
        config.corpus, data_dir, overrides=overrides, builder_kwargs={"num_workers": workers}
      ).render(),
      flush=True,
    )

  with _timed("search", timings):
    searched = search.run_search(
      _with_data(config.search, config.corpus, data_dir, overrides),
      workdir / "search",
      devices=devices,
    )
    print(f"genotype: {searched['genotype']}", flush=True)

  run_dirs = {}
  for name, detector in config.detectors.items():
    with _timed(f"train {name}", timings):
      train_config = _with_data(detector, config.corpus, data_dir, overrides)
      if "genotype" in train_config.model:  # the searched cell
        train_config.model.genotype = str(workdir / "search" / "genotype.json")
      run_dirs[name] = workdir / "train" / name
      trainer.train_and_evaluate(train_config, run_dirs[name], devices=devices)

  reports = {}
  with _timed("evaluate", timings):
    for name, run_dir in run_dirs.items():
      eval_config = ml_collections.ConfigDict(config.eval.to_dict())
      eval_config.output_dir = str(workdir / "eval" / name)
      reports[name] = speech_evaluator.evaluate_speech_run(eval_config, run_dir, devices=devices)

  paths = write_report(workdir, config, reports, timings)
  print(f"\nreport: {paths['html']}\n        {paths['markdown']}", flush=True)
  return {"paths": paths, "search": searched, "reports": reports, "timings": timings}


def _sections(workdir: pathlib.Path, config, reports, timings, det_path):
  rel = lambda path: str(pathlib.Path(path).resolve().relative_to(workdir.resolve()))
  pooled = {
    name: {
      "parameters": r["parameters"],
      "EER %": 100 * r["eer"],
      "minDCF": r["min_dcf"],
      "actDCF": r["act_dcf"],
      "Cllr": r["cllr"],
      "checkpoint step": r["checkpoint_step"],
    }
    for name, r in reports.items()
  }
  per_attack = {
    name: {attack: 100 * value for attack, value in r["per_attack_eer"].items()}
    for name, r in reports.items()
  }
  genotype = (workdir / "search" / "genotype.json").read_text().strip()
  history = json.loads((workdir / "search" / "history.json").read_text())
  learned = stability.search_learning(history, json.loads(genotype)["ops"])
  return [
    (
      "Countermeasures on eval",
      f"`{config.corpus}` eval split: unseen speakers; A07–A10 unseen attack families, A11 and "
      "A12 the training systems A04 and A06 again. minDCF/actDCF with the ASVspoof 5 costs "
      "(π_spoof 0.05, C_miss 1, C_fa 10); scores are bona fide logits.\n\n"
      + plots.markdown_table(pooled, row_header="detector", digits=4),
      [rel(det_path)],
    ),
    (
      "EER per attack (%)",
      "Each attack's spoofs against all bona fide eval utterances.\n\n"
      + plots.markdown_table(per_attack, row_header="detector", digits=2),
      [],
    ),
    (
      "Searched cells (PC-DARTS)",
      f"{learned}\n\n`search/genotype.json`:\n\n```\n{genotype}\n```",
      [
        rel(p)
        for p in (workdir / "search" / "genotype.png", workdir / "search" / "arch_history.png")
        if p.exists()
      ],
    ),
    ("Training curves", "", [rel(p) for p in (workdir / "train").glob("*/training_curves.png")]),
    (
      "Time",
      plots.markdown_table(
        {name: {"seconds": round(seconds, 1)} for name, seconds in timings.items()},
        row_header="part",
      ),
      [],
    ),
  ]


def write_report(workdir: pathlib.Path, config, reports, timings) -> dict[str, pathlib.Path]:
  """DET curves, report.md and report.html (images linked, not copied)."""
  det_path = speech_plots.det_figure(
    {name: r["scores"].cm_scores() for name, r in reports.items()},
    workdir / "det.png",
    title=f"{config.corpus}: eval",
  )
  title = "fakenas_jax speech demo: PC-DARTS search → train → evaluate"
  markdown, body = [f"# {title}\n"], [f"<h1>{html.escape(title)}</h1>"]
  for heading, text, images in _sections(workdir, config, reports, timings, det_path):
    markdown += [f"\n## {heading}\n", text, *(f"\n![{image}]({image})" for image in images)]
    body += [
      f"<h2>{html.escape(heading)}</h2>",
      f"<pre>{html.escape(text)}</pre>" if text else "",
      *(f'<p><img src="{html.escape(image)}" style="max-width:100%"></p>' for image in images),
    ]
  paths = {"markdown": workdir / "report.md", "html": workdir / "report.html", "det": det_path}
  paths["markdown"].write_text("\n".join(markdown) + "\n")
  paths["html"].write_text(
    f"<!doctype html><html><head><meta charset='utf-8'><title>"
    f"{html.escape(title)}</title></head><body>{''.join(body)}"
    f"</body></html>\n"
  )
  return paths
