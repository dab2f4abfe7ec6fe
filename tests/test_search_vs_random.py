"""scripts/search_vs_random.py end to end at tiny size, and the summary / verdict arithmetic."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from fakenas_jax.eval import genotype_trials
from fakenas_jax.nas import random_search, zero_cost
from fakenas_jax.nn import genotypes

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEMO_TINY_OPS = (
  "none",
  "max_pool_3x3",
  "skip_connect",
  "SepCDC_3x3_0.0",
  "SepCDC_3x3_0.7",
  "DilCDC_3x3_0.5",
)


def _script(name, *args):
  """Runs scripts/<name> with `args` in a fresh process from the repository root."""
  return subprocess.run(
    [sys.executable, f"scripts/{name}", *args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=900,
  )


def _trial(group, cross, in_corpus=0.9, params=100):
  return {
    "name": f"{group}{cross}",
    "group": group,
    "cross_corpus_auc": cross,
    "in_corpus_auc": in_corpus,
    "params": params,
  }


def test_summary_is_mean_and_sample_std_and_the_verdict_reads_it():
  trials = [
    _trial("searched", 0.8),
    _trial("searched", 0.9),
    _trial("random", 0.5),
    _trial("random", 0.6),
    _trial("random", 0.7),
  ]
  summary = genotype_trials.summarize(trials)
  assert summary["searched"]["cross_corpus_auc"]["mean"] == pytest.approx(0.85)
  assert summary["random"]["cross_corpus_auc"]["std"] == pytest.approx(
    np.std([0.5, 0.6, 0.7], ddof=1)
  )
  assert genotype_trials.verdict(summary).startswith("The searched cells beat random cells")
  close = genotype_trials.summarize(trials[:1] + [_trial("random", 0.75), _trial("random", 0.9)])
  assert "do NOT beat" in genotype_trials.verdict(close)
  assert "score lower" in genotype_trials.verdict(
    genotype_trials.summarize([_trial("searched", 0.4), _trial("random", 0.6)])
  )


@pytest.mark.slow
def test_search_vs_random_end_to_end_at_tiny_size(tmp_path):
  searched = tmp_path / "search" / "genotype.json"
  searched.parent.mkdir()
  genotypes.save(
    random_search.sample_genotypes(99, 1, DEMO_TINY_OPS)[0],
    searched,
    search_space="fdnas",
    ops=list(DEMO_TINY_OPS),
  )
  result = _script(
    "search_vs_random.py",
    "--config=configs/demo.py:tiny",
    f"--searched={searched.parent}",
    "--num_random=2",
    f"--workdir={tmp_path / 'svr'}",
    "--epochs=1",
    "--train_seeds=0,1",
  )
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads((tmp_path / "svr" / "search_vs_random.json").read_text())
  assert [t["group"] for t in report["trials"]] == ["searched", "random", "random"]
  for trial in report["trials"]:
    assert 0.0 <= trial["in_corpus_auc"] <= 1.0 and 0.0 <= trial["cross_corpus_auc"] <= 1.0
    assert trial["params"] > 0
    assert set(trial["auc_matrix"]) == {
      "synthetic_faces/studio (synthetic_faces_studio)",
      "synthetic_faces/studio (synthetic_faces_studio_seed1)",
    }
  assert report["trials"][1]["genotype"] != report["trials"][2]["genotype"]
  assert report["summary"]["random"]["cross_corpus_auc"]["n"] == 2
  for trial in report["trials"]:  # one training per seed, the trial's AUC their mean
    seeds = trial["seeds"]
    assert set(seeds) == {"0", "1"}
    assert trial["in_corpus_auc"] == pytest.approx(
      np.mean([seeds[s]["in_corpus_auc"] for s in seeds])
    )
    assert trial["training_std"]["in_corpus_auc"] == pytest.approx(
      np.std([seeds[s]["in_corpus_auc"] for s in seeds], ddof=1)
    )
    run_dirs = tmp_path / "svr" / "trials" / trial["name"]
    assert (run_dirs / "synthetic_faces_studio_seed1" / "config.json").is_file()
    assert (
      json.loads((run_dirs / "synthetic_faces_studio_seed1" / "config.json").read_text())["seed"]
      == 1
    )
  assert "training_std" in report["summary"]["random"]
  markdown = (tmp_path / "svr" / "search_vs_random.md").read_text()
  assert "Searched vs random (mean ± std)" in markdown and report["verdict"] in markdown
  assert "spread between training seeds" in markdown
  assert (tmp_path / "svr" / "search_vs_random.png").stat().st_size > 1000
  # The zero-cost proxies of the same genotypes, ranked against the AUCs trained above.
  scored = _script(
    "zero_cost.py",
    "--config=configs/demo.py:tiny",
    f"--trained={tmp_path / 'svr' / 'search_vs_random.json'}",
    f"--data_dir={tmp_path / 'svr' / 'tfds'}",
    "--batch=4",
    f"--workdir={tmp_path / 'zc'}",
  )
  assert scored.returncode == 0, scored.stderr[-3000:]
  proxies = json.loads((tmp_path / "zc" / "zero_cost.json").read_text())
  assert [r["name"] for r in proxies["rows"]] == [t["name"] for t in report["trials"]]
  for row, trial in zip(proxies["rows"], report["trials"]):
    assert row["cross_corpus_auc"] == trial["cross_corpus_auc"] and np.isfinite(row["synflow"])
  assert set(proxies["kendall_tau"]["cross_corpus_auc"]) == set(zero_cost.PROXIES)
  assert not (tmp_path / "zc" / "trials").exists()  # nothing trained


def test_zero_cost_refuses_a_file_that_is_not_a_search_vs_random_report(tmp_path):
  bad = tmp_path / "report.json"
  bad.write_text('{"rows": []}')
  result = _script("zero_cost.py", f"--trained={bad}", f"--workdir={tmp_path}")
  assert result.returncode != 0
  assert "not a search_vs_random.json" in result.stderr and "Traceback" not in result.stderr
  trial = dict(_trial("random", 0.5), genotype_file=str(tmp_path / "gone" / "genotype.json"))
  bad.write_text(json.dumps({"trials": [trial]}))
  result = _script("zero_cost.py", f"--trained={bad}", f"--workdir={tmp_path}")
  assert result.returncode != 0 and "Traceback" not in result.stderr
  assert "genotype files not found" in result.stderr and "gone" in result.stderr
