"""Evaluating a trained speech countermeasure: CM score file, EER, min t-DCF, per-attack EER.

    report = evaluate_speech_run(config, "runs/t_speech")     # python -m fakenas_jax.evaluate
    report = evaluate_speech_run(config, "runs/t_la",
                                 asv_scores="ASVspoof2019.LA.asv.eval.gi.trl.scores.txt")

The run's network is restored from its checkpoint (`best`: lowest validation EER, `latest`, or
a step; `evaluator.restore_run`) and scores every utterance of the test split (`eval`, the
ASVspoof name; `config.split`, where 'test' means `eval`) of its own corpus (or
`config.corpora[0]`) with the bona fide logit (`training.speech_scoring`). Written into
`config.output_dir` (default `<workdir>/eval`):

* `cm_scores_<split>.txt` — the CM score file, `utterance attack key score` a line (the format
  of the ASVspoof 2019 evaluation package; `eval.score_files`);
* `speech_report.json` and `speech_report.md` — EER, min t-DCF (ASVspoof 2019 costs) when the
  organisers' ASV scores are given (`config.asv_scores`; EER alone and a note otherwise), the
  EER of each attack against all bona fide speech, the counts, and the network's parameter
  count (PC-DARTS' claim for spoofing: competitive with far fewer parameters, 85% fewer than a
  Res2Net competitor).
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import jax
import numpy as np

from fakenas_jax import parallel
from fakenas_jax.data import corpus, speech_pipeline
from fakenas_jax.eval import evaluator, plots, report
from fakenas_jax.metrics import asvspoof as speech_metrics
from fakenas_jax.metrics import score_files
from fakenas_jax.training import speech_scoring, trainer

NO_ASV_NOTE = (
  "min t-DCF not computed: it needs the organisers' ASV scores of the same "
  "protocol (e.g. ASVspoof2019.LA.asv.eval.gi.trl.scores.txt); give them with "
  "--config.asv_scores=FILE"
)


def parameter_count(variables: Any) -> int:
  """Trained parameters of the network (batch statistics not counted)."""
  return int(sum(np.size(leaf) for leaf in jax.tree.leaves(variables["params"])))


def _markdown(summary: dict[str, Any]) -> str:
  lines = [
    f"# {summary['model']} on {summary['corpus']}:{summary['split']} "
    f"(checkpoint step {summary['checkpoint_step']})\n",
    f"- parameters: {summary['parameters']:,}",
    f"- utterances: {summary['num_bonafide']} bona fide, {summary['num_spoof']} spoof",
    f"- EER: {100 * summary['eer']:.2f} %",
    f"- minDCF (ASVspoof 5 costs): {summary['min_dcf']:.4f}, actDCF "
    f"{summary['act_dcf']:.4f}, Cllr {summary['cllr']:.4f} bits (bona fide logit as LLR)",
  ]
  if summary["min_tdcf"] is None:
    lines.append(f"- {summary['note']}")
  else:
    lines.append(
      f"- min t-DCF: {summary['min_tdcf']:.4f} (ASV EER {100 * summary['asv_eer']:.2f} %)"
    )
  lines.append(f"- CM scores: {summary['cm_scores']}\n")
  rows = {
    attack: {"eer %": 100 * value["eer"], "minDCF": value["min_dcf"], "spoofs": value["num_spoof"]}
    for attack, value in summary["per_attack"].items()
  }
  lines.append("## EER per attack (against all bona fide utterances)\n")
  lines.append(plots.markdown_table(rows, row_header="attack", digits=2))
  for column, table in summary.get("per_condition", {}).items():
    lines.append(f"\n## Per {column} (bona fide and spoof of each condition)\n")
    lines.append(
      plots.markdown_table(
        {
          value: {
            "eer %": None if row["eer"] is None else 100 * row["eer"],
            "minDCF": row["min_dcf"],
            "bona fide": row["num_bonafide"],
            "spoof": row["num_spoof"],
          }
          for value, row in table.items()
        },
        row_header=column,
        digits=2,
      )
    )
  return "\n".join(lines)


def condition_tables(cm: score_files.CMScores, source) -> dict[str, dict]:
  """Per-condition tables (`metrics.asvspoof.per_condition_table`) of every metadata column of
  the corpus (ASVspoof 2021's codec/transmission/source, ASVspoof 5's codec, …)."""
  return {
    column: speech_metrics.per_condition_table(cm, values)
    for column, values in speech_pipeline.read_conditions(source).items()
  }


def evaluate_speech_run(
  config,
  workdir: str | pathlib.Path,
  *,
  checkpoint=None,
  asv_scores: str | None = None,
  devices=None,
) -> dict[str, Any]:
  """Scores the test split of a speech run and writes its reports (module docstring).

  Returns the summary (as `speech_report.json`) with `scores` (the `SplitScores`) and `paths`.
  """
  checkpoint = config.checkpoint if checkpoint is None else checkpoint
  asv_path = config.asv_scores if asv_scores is None else asv_scores
  mesh = parallel.make_data_mesh(devices)
  if config.batch_size < 1 or config.batch_size % mesh.size:
    raise ValueError(
      f"batch_size ({config.batch_size}) must be a positive multiple of the "
      f"{mesh.size} devices of the data mesh"
    )
  train_config, model, variables, meta = evaluator.restore_run(workdir, mesh, checkpoint)
  corpora = [
    name.strip() for entry in config.corpora for name in str(entry).split(",") if name.strip()
  ]
  if len(corpora) > 1:
    raise ValueError(f"a speech run is evaluated on one corpus at a time, got {corpora}")
  default_split = "eval" if config.split == "test" else config.split  # ASVspoof's test split
  spec, split = evaluator.parse_corpus(
    corpora[0] if corpora else train_config.dataset, default_split
  )
  overrides = dict(config.corpus_overrides.to_dict())
  if not overrides and spec == train_config.dataset:
    overrides = train_config.corpus_overrides.to_dict()
  builder = corpus.prepared_builder(
    spec, config.data_dir or train_config.data_dir, overrides, verbose=config.progress
  )
  source = corpus.split_source(builder, split)
  modality = dataclasses.replace(
    trainer.train_modality(train_config), num_threads=config.data_threads
  )
  pipe = modality.pipeline(source, batch_size=config.batch_size, training=False)
  scores = speech_scoring.score_split(
    jax.jit(speech_scoring.make_score_step(model, modality)),
    variables,
    pipe,
    mesh,
    progress=config.progress,
    description=f"{spec}:{split}",
  )

  output_dir = pathlib.Path(config.output_dir or pathlib.Path(workdir) / "eval")
  output_dir.mkdir(parents=True, exist_ok=True)
  cm = scores.cm_scores()
  cm_path = score_files.write_cm_scores(
    output_dir / f"cm_scores_{split}.txt", cm.utterances, cm.attacks, cm.scores, cm.keys
  )
  asv = score_files.read_asv_scores(asv_path) if asv_path else None
  metrics = speech_metrics.asvspoof_report(cm, asv)
  metrics["per_condition"] = condition_tables(cm, source)
  summary = {
    "workdir": str(workdir),
    "model": train_config.model.name,
    "genotype": train_config.model.get("genotype", ""),
    "corpus": spec,
    "split": split,
    "checkpoint": str(checkpoint),
    "checkpoint_step": int(meta["step"]),
    "epoch": int(meta.get("epoch", 0)),
    "parameters": parameter_count(variables),
    "cm_scores": str(cm_path),
    "asv_scores": str(asv_path) if asv_path else None,
    "min_tdcf": None,
    **metrics,
  }
  if asv is None:
    summary["note"] = NO_ASV_NOTE
  paths = {
    "cm_scores": cm_path,
    "json": report.write_json(summary, output_dir / "speech_report.json"),
    "markdown": output_dir / "speech_report.md",
  }
  paths["markdown"].write_text(_markdown(summary))
  return {**summary, "scores": scores, "paths": paths}
