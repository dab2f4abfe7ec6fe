"""How stable a search is across seeds: chosen operations, ranking agreement, α entropy.

    report = write_report([run_dir_seed0, run_dir_seed1, ...], out_dir)

Searches of the DARTS family differ from seed to seed and the reported cell is often the best
of several runs (PC-DARTS §4.2 reports the best of four), so one search says little. For the
runs of one configuration under different seeds (each directory holding the `genotype.json`
and `history.json` of nas/search.py) this reports:
  * per cell type, edge (node ← input) and operation: the fraction of seeds whose genotype
    holds it;
  * Kendall's τ (τ-b) between the operation rankings of two seeds: per edge, the operations
    ordered by the final softmax(α), τ averaged over the 14 edges of each cell type, for every
    pair of seeds, and its mean over the pairs;
  * per seed, the final entropy of softmax(α) per edge, averaged over edges (ln(#ops) is a
    uniform α, 0 a one-hot one).
Written as `stability.json` and `stability.md` in `out_dir`. `search_learning` says in one
sentence whether one search's α learned at all (the demos' reports).
"""

from __future__ import annotations

import itertools
import json
import math
import pathlib
from typing import Sequence

import numpy as np
from scipy import stats

from fakenas_jax.nn import genotypes

CELLS = ("normal", "reduce")


def _load(run_dir: pathlib.Path) -> tuple[genotypes.Genotype, np.ndarray, list[str]]:
  genotype_path, history_path = run_dir / "genotype.json", run_dir / "history.json"
  for path in (genotype_path, history_path):
    if not path.is_file():
      raise FileNotFoundError(f"{path} is missing: run the search in {run_dir} to the end first")
  data = json.loads(genotype_path.read_text())
  history = json.loads(history_path.read_text())
  if not history:
    raise ValueError(f"{history_path} has no epochs")
  return genotypes.Genotype.from_json(data), np.asarray(history[-1]["alpha"]), data.get("ops", [])


def entropy(probabilities: np.ndarray) -> np.ndarray:
  """Entropy (nats) over the last axis."""
  p = np.clip(np.asarray(probabilities, np.float64), 1e-30, None)
  return -(p * np.log(p)).sum(-1)


def ranking_tau(scores_a: np.ndarray, scores_b: np.ndarray) -> float:
  """Mean over edges (rows) of Kendall's τ-b between two seeds' operation scores; an edge
  where either seed scores every operation alike counts as τ = 0."""
  taus = []
  for a, b in zip(np.asarray(scores_a), np.asarray(scores_b)):
    tau = stats.kendalltau(a, b).statistic
    taus.append(0.0 if not np.isfinite(tau) else float(tau))
  return float(np.mean(taus))


def choice_frequencies(genotype_list: Sequence[genotypes.Genotype]) -> dict[str, dict[str, float]]:
  """{cell: {'node N <- input I: op': fraction of genotypes holding that pair}}."""
  out = {}
  for cell in CELLS:
    counts: dict[str, int] = {}
    for genotype in genotype_list:
      for position, (op, source) in enumerate(getattr(genotype, cell)):
        key = f"node {position // 2} <- {source}: {op}"
        counts[key] = counts.get(key, 0) + 1
    out[cell] = {key: counts[key] / len(genotype_list) for key in sorted(counts)}
  return out


def stability_report(run_dirs: Sequence[str | pathlib.Path]) -> dict:
  """The report over the runs (see the module docstring)."""
  run_dirs = [pathlib.Path(d) for d in run_dirs]
  if len(run_dirs) < 2:
    raise ValueError("a stability report needs the runs of at least two seeds")
  loaded = [_load(d) for d in run_dirs]
  names = [d.name for d in run_dirs]
  alphas = [alpha for _, alpha, _ in loaded]
  shapes = {alpha.shape for alpha in alphas}
  if len(shapes) != 1:
    raise ValueError(f"the runs searched different spaces (α shapes {sorted(shapes)})")
  n_ops = alphas[0].shape[-1]
  pairs = {}
  for (i, a), (j, b) in itertools.combinations(enumerate(alphas), 2):
    pairs[f"{names[i]} vs {names[j]}"] = {
      cell: ranking_tau(a[t], b[t]) for t, cell in enumerate(CELLS)
    }
  mean_tau = {cell: float(np.mean([p[cell] for p in pairs.values()])) for cell in CELLS}
  entropies = {
    name: {cell: float(entropy(alpha[t]).mean()) for t, cell in enumerate(CELLS)}
    for name, alpha in zip(names, alphas)
  }
  return {
    "runs": [str(d) for d in run_dirs],
    "ops": loaded[0][2],
    "uniform_entropy": float(np.log(n_ops)),
    "frequencies": choice_frequencies([g for g, _, _ in loaded]),
    "kendall_tau": pairs,
    "mean_kendall_tau": mean_tau,
    "final_alpha_entropy": entropies,
    "genotypes": {name: g.to_json() for name, (g, _, _) in zip(names, loaded)},
  }


def to_markdown(report: dict) -> str:
  lines = [
    f"# Stability over {len(report['runs'])} seeds\n",
    "## Operations chosen (fraction of seeds)\n",
  ]
  for cell in CELLS:
    lines += [f"\n### {cell} cell\n", "| node ← input: operation | fraction |", "|---|---|"]
    ranked = sorted(report["frequencies"][cell].items(), key=lambda item: (-item[1], item[0]))
    lines += [f"| {key} | {value:.2f} |" for key, value in ranked]
  lines += [
    "\n## Kendall τ of the operation rankings (softmax α per edge, mean over edges)\n",
    "| seeds | normal | reduce |",
    "|---|---|---|",
  ]
  lines += [
    f"| {pair} | {t['normal']:.3f} | {t['reduce']:.3f} |"
    for pair, t in report["kendall_tau"].items()
  ]
  mean = report["mean_kendall_tau"]
  lines += [
    f"| mean | {mean['normal']:.3f} | {mean['reduce']:.3f} |",
    f"\n## Final α entropy (mean over edges; uniform = {report['uniform_entropy']:.3f})\n",
    "| run | normal | reduce |",
    "|---|---|---|",
  ]
  lines += [
    f"| {name} | {e['normal']:.3f} | {e['reduce']:.3f} |"
    for name, e in report["final_alpha_entropy"].items()
  ]
  return "\n".join(lines) + "\n"


def write_report(run_dirs: Sequence[str | pathlib.Path], out_dir: str | pathlib.Path) -> dict:
  """Writes stability.json and stability.md into `out_dir`; returns the report."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  report = stability_report(run_dirs)
  (out_dir / "stability.json").write_text(json.dumps(report, indent=2))
  (out_dir / "stability.md").write_text(to_markdown(report))
  return report


def search_learning(history: list[dict], op_names) -> str:
  """One sentence on whether α learned: the entropy of softmax(α) over the epochs against
  ln(#operations) (uniform), and the largest weight per edge at the end."""
  entropies = [record["train/arch_entropy"] for record in history if "train/arch_entropy" in record]
  uniform = math.log(len(op_names))
  largest = [max(edge) for cell in history[-1]["alpha"] for edge in cell]
  figures = (
    f"the entropy of softmax(α) went {' → '.join(f'{e:.3f}' for e in entropies)} over the "
    f"epochs (uniform: ln {len(op_names)} = {uniform:.3f}); at the end the largest weight of an "
    f"edge is {sum(largest) / len(largest):.3f} on average (uniform: {1 / len(op_names):.3f})"
  )
  if entropies and entropies[-1] < uniform - 0.01:
    return f"The architecture learned: {figures}."
  return f"The architecture did NOT learn (the genotype is drawn from noise): {figures}."
