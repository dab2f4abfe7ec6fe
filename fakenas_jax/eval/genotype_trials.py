"""Searched cells against random cells: train each genotype the same way, compare the AUCs.

    trials = [run_trial(genotype_json, "searched", setup, workdir / "searched_0"), ...]
    summary = summarize(trials); verdict(summary)

A trial trains the network of `setup.train` (e.g. C2PN of the demo) built from one genotype on
every training corpus with the same budget, data and seed (training.trainer), then evaluates
each run on the test split of every test corpus (eval.evaluator): in-corpus AUC is the frame
AUC on the training corpus's own test split, cross-corpus AUC the mean frame AUC over the
other test corpora; both are averaged over the training corpora. With several training seeds
(`setup.seeds`) each genotype is trained once per seed and its AUCs are the means over seeds;
the spread between seeds (`training_std`) is the training noise a single training carries. The comparison is that of
Li & Talwalkar (2019) and Yang et al. (2020): the cells a search finds against cells drawn at
random from the same space (nas/random_search.py), same network, same size, same training.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any, Sequence

import jax
import ml_collections
import numpy as np

from fakenas_jax.eval import evaluator, plots
from fakenas_jax.training import trainer


@dataclasses.dataclass
class TrialSetup:
  """What every genotype gets alike."""

  train: ml_collections.ConfigDict  # a training config whose model takes `genotype`
  eval: ml_collections.ConfigDict  # an evaluation config (configs/eval/default.py)
  train_corpora: Sequence[str]
  test_corpora: Sequence[str]
  data_dir: str
  corpus_overrides: dict = dataclasses.field(default_factory=dict)
  devices: Any = None
  seeds: Sequence[int] = ()  # training seeds (empty: the training config's own)


def parameter_count(params) -> int:
  return sum(int(np.size(leaf)) for leaf in jax.tree.leaves(params))


def corpus_aucs(run: dict) -> tuple[float, float]:
  """(in-corpus frame AUC, mean frame AUC over the other test corpora) of one evaluated run
  (`evaluator.evaluate_run`'s `runs` entry); NaN where that corpus was not tested."""
  aucs = {corpus: result["frame"]["auc"] for corpus, result in run["corpora"].items()}
  own = run["training_corpus"]
  others = [value for corpus, value in aucs.items() if corpus != own]
  return float(aucs.get(own, np.nan)), float(np.mean(others)) if others else float("nan")


def _finite_mean(values) -> float:
  values = [v for v in values if np.isfinite(v)]
  return float(np.mean(values)) if values else float("nan")


def _sample_std(values) -> float:
  return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def run_trial(
  genotype_path: str | pathlib.Path, group: str, setup: TrialSetup, workdir: str | pathlib.Path
) -> dict:
  """Trains and evaluates one genotype (resumable: finished runs are only re-evaluated)."""
  workdir = pathlib.Path(workdir)
  genotype_path = pathlib.Path(genotype_path)
  if not genotype_path.is_file():
    raise FileNotFoundError(f"no genotype file {genotype_path}")
  if "genotype" not in setup.train.model:
    raise ValueError(f"model {setup.train.model.name!r} is not built from a genotype")
  seeds = list(setup.seeds) or [setup.train.seed]
  run_dirs, seed_of_run, params = [], {}, None
  for seed in seeds:
    for spec in setup.train_corpora:
      config = ml_collections.ConfigDict(setup.train.to_dict())
      config.dataset, config.data_dir, config.seed = spec, str(setup.data_dir), int(seed)
      config.corpus_overrides = ml_collections.ConfigDict(dict(setup.corpus_overrides))
      config.model.genotype = str(genotype_path.resolve())
      name = spec.replace("/", "_")
      run_dir = workdir / (name if seed == setup.train.seed else f"{name}_seed{seed}")
      result = trainer.train_and_evaluate(config, run_dir, devices=setup.devices)
      params = parameter_count(result["state"].params)
      run_dirs.append(run_dir)
      seed_of_run[str(run_dir.resolve())] = int(seed)
  eval_config = ml_collections.ConfigDict(setup.eval.to_dict())
  eval_config.output_dir, eval_config.data_dir = str(workdir / "eval"), str(setup.data_dir)
  eval_config.corpus_overrides = ml_collections.ConfigDict(dict(setup.corpus_overrides))
  evaluation = evaluator.evaluate_run(
    eval_config, run_dirs, corpora=list(setup.test_corpora), devices=setup.devices
  )
  by_seed: dict[int, list[tuple[float, float]]] = {}
  for run in evaluation["runs"].values():
    seed = seed_of_run[str(pathlib.Path(run["workdir"]).resolve())]
    by_seed.setdefault(seed, []).append(corpus_aucs(run))
  per_seed = {
    seed: {
      "in_corpus_auc": _finite_mean([own for own, _ in pairs]),
      "cross_corpus_auc": _finite_mean([other for _, other in pairs]),
    }
    for seed, pairs in sorted(by_seed.items())
  }
  metadata = json.loads(genotype_path.read_text())
  trial = {
    "name": workdir.name,
    "group": group,
    "genotype_file": str(genotype_path),
    "genotype": {
      key: metadata[key] for key in ("normal", "normal_concat", "reduce", "reduce_concat")
    },
    "params": params,
    **{
      metric: _finite_mean([values[metric] for values in per_seed.values()])
      for metric in ("in_corpus_auc", "cross_corpus_auc")
    },
    "seeds": {str(seed): values for seed, values in per_seed.items()},
    "training_std": {
      metric: _sample_std([values[metric] for values in per_seed.values()])
      for metric in ("in_corpus_auc", "cross_corpus_auc")
    },
    "auc_matrix": evaluation["cross_dataset"]["auc"],
  }
  (workdir / "trial.json").write_text(json.dumps(trial, indent=2))
  return trial


METRICS = ("in_corpus_auc", "cross_corpus_auc", "params")


def summarize(trials: Sequence[dict]) -> dict[str, dict[str, dict[str, float]]]:
  """{group: {metric: {'mean', 'std' (sample, 0 for one trial), 'n'}}}; with several training
  seeds also 'training_std': {metric: the pooled spread between seeds, √(mean of variances)}."""
  groups: dict[str, list[dict]] = {}
  for trial in trials:
    groups.setdefault(trial["group"], []).append(trial)
  out = {}
  for group, members in groups.items():
    out[group] = {}
    for metric in METRICS:
      values = np.array([m[metric] for m in members], np.float64)
      out[group][metric] = {
        "mean": float(values.mean()),
        "n": int(len(values)),
        "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
      }
    if any(len(m.get("seeds", {})) > 1 for m in members):
      out[group]["training_std"] = {
        metric: float(np.sqrt(np.mean([m["training_std"][metric] ** 2 for m in members])))
        for metric in ("in_corpus_auc", "cross_corpus_auc")
      }
  return out


def verdict(summary: dict, metric: str = "cross_corpus_auc") -> str:
  """One plain sentence: do the searched cells beat the random ones by more than one std?"""
  if "searched" not in summary or "random" not in summary:
    return "no verdict: the comparison needs searched and random genotypes"
  s, r = summary["searched"][metric], summary["random"][metric]
  label = metric.replace("_", " ").replace("auc", "AUC")
  figures = (
    f"searched {s['mean']:.3f} ± {s['std']:.3f} (n={s['n']}) vs random "
    f"{r['mean']:.3f} ± {r['std']:.3f} (n={r['n']})"
  )
  if s["mean"] > r["mean"] + r["std"]:
    return f"The searched cells beat random cells on {label}: {figures}."
  if s["mean"] > r["mean"]:
    return (
      f"The searched cells do NOT beat random cells by more than one standard deviation "
      f"on {label} (above the random mean, within its spread): {figures}."
    )
  return f"The searched cells do NOT beat random cells on {label}; they score lower: {figures}."


def to_markdown(trials: Sequence[dict], summary: dict) -> str:
  several_seeds = any(len(t.get("seeds", {})) > 1 for t in trials)
  per_trial = plots.markdown_table(
    {
      t["name"]: {
        "group": t["group"],
        "in-corpus AUC": t["in_corpus_auc"],
        "cross-corpus AUC": t["cross_corpus_auc"],
        **(
          {
            "cross-corpus by seed": " ".join(
              f"{v['cross_corpus_auc']:.3f}" for v in t["seeds"].values()
            )
          }
          if several_seeds
          else {}
        ),
        "parameters": t["params"],
      }
      for t in trials
    },
    row_header="genotype",
  )
  rows = {}
  for group, metrics in summary.items():
    rows[group] = {
      "n": metrics["params"]["n"],
      **{
        name: f"{metrics[key]['mean']:.4f} ± {metrics[key]['std']:.4f}"
        for key, name in (
          ("in_corpus_auc", "in-corpus AUC"),
          ("cross_corpus_auc", "cross-corpus AUC"),
        )
      },
      "parameters": f"{metrics['params']['mean']:.0f} ± {metrics['params']['std']:.0f}",
    }
    if "training_std" in metrics:
      rows[group]["cross-corpus spread between training seeds"] = (
        f"{metrics['training_std']['cross_corpus_auc']:.4f}"
      )
  return (
    "## Searched vs random (mean ± std)\n\n"
    + plots.markdown_table(rows, row_header="cells")
    + f"\n{verdict(summary)}\n\n## Every genotype\n\n"
    + per_trial
  )


def save_plot(trials: Sequence[dict], path: str | pathlib.Path) -> pathlib.Path:
  """In-corpus and cross-corpus AUC of every genotype by group, with mean ± std bars."""
  import matplotlib

  matplotlib.use("Agg")
  from matplotlib import pyplot as plt

  groups = list(dict.fromkeys(t["group"] for t in trials))
  figure, axes = plt.subplots(1, 2, figsize=(8, 3.5), sharey=True)
  for axis, metric, title in zip(
    axes, ("in_corpus_auc", "cross_corpus_auc"), ("in-corpus AUC", "cross-corpus AUC")
  ):
    for x, group in enumerate(groups):
      values = np.array([t[metric] for t in trials if t["group"] == group], np.float64)
      jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(1)
      axis.scatter(x + jitter, values, alpha=0.7, label=group)
      std = values.std(ddof=1) if len(values) > 1 else 0.0
      axis.errorbar(x + 0.25, values.mean(), yerr=std, fmt="k_", capsize=6, markersize=14)
    axis.set_xticks(range(len(groups)), groups)
    axis.set_xlim(-0.5, len(groups) - 0.5)
    axis.set_title(title)
    axis.grid(alpha=0.3, axis="y")
  axes[0].set_ylabel("frame AUC")
  return plots.save_figure(figure, path)
