"""The stability report over seeds: choice frequencies, Kendall τ, α entropy, on hand-made runs."""

import json

import numpy as np
import pytest

from fakenas_jax.nas import random_search, stability
from fakenas_jax.nn import genotypes

OPS = ("none", "max_pool_3x3", "skip_connect", "sep_conv_3x3")


def _run(directory, genotype, alpha_logits):
  directory.mkdir(parents=True)
  genotypes.save(genotype, directory / "genotype.json", search_space="darts", ops=list(OPS))
  softmax = np.exp(alpha_logits) / np.exp(alpha_logits).sum(-1, keepdims=True)
  (directory / "history.json").write_text(json.dumps([{"epoch": 1, "alpha": softmax.tolist()}]))
  return directory


def test_report_on_hand_made_runs(tmp_path):
  rng = np.random.default_rng(0)
  g0, g1 = random_search.sample_genotypes(0, 2, OPS)
  a0 = rng.normal(size=(2, 14, 4))
  runs = [
    _run(tmp_path / "seed_0", g0, a0),
    _run(tmp_path / "seed_1", g0, a0),
    _run(tmp_path / "seed_2", g1, -a0),
  ]
  report = stability.write_report(runs, tmp_path)
  taus = report["kendall_tau"]
  assert taus["seed_0 vs seed_1"]["normal"] == pytest.approx(1.0)  # identical rankings
  assert taus["seed_0 vs seed_2"]["reduce"] == pytest.approx(-1.0)  # reversed rankings
  assert report["mean_kendall_tau"]["normal"] == pytest.approx((1 - 1 - 1) / 3)
  # Entropy by hand for edge 0 of the normal cell of seed 0.
  p = np.exp(a0[0, 0]) / np.exp(a0[0, 0]).sum()
  entropies = [
    -(
      np.exp(a0[0, e]) / np.exp(a0[0, e]).sum() * np.log(np.exp(a0[0, e]) / np.exp(a0[0, e]).sum())
    ).sum()
    for e in range(14)
  ]
  assert report["final_alpha_entropy"]["seed_0"]["normal"] == pytest.approx(np.mean(entropies))
  assert -(p * np.log(p)).sum() == pytest.approx(entropies[0])
  op, source = g0.normal[0]
  key = f"node 0 <- {source}: {op}"
  expected = (2 + (g1.normal[0] == (op, source) or g1.normal[1] == (op, source))) / 3
  assert report["frequencies"]["normal"][key] == pytest.approx(expected)
  # Per node, the fractions of its two chosen pairs sum to 2.
  total = sum(
    value for k, value in report["frequencies"]["reduce"].items() if k.startswith("node 3 ")
  )
  assert total == pytest.approx(2.0)
  markdown = (tmp_path / "stability.md").read_text()
  assert "Kendall τ" in markdown and "| seed_0 vs seed_2 |" in markdown
  assert json.loads((tmp_path / "stability.json").read_text())["uniform_entropy"] == pytest.approx(
    np.log(4)
  )


def test_ranking_tau_by_hand():
  a = np.array([[0.1, 0.2, 0.3, 0.4]])
  b = np.array([[0.1, 0.3, 0.2, 0.4]])  # one discordant pair of six: τ = (5 - 1) / 6
  assert stability.ranking_tau(a, b) == pytest.approx(4 / 6)
  assert stability.ranking_tau(a, np.ones((1, 4))) == 0.0  # a constant ranking counts as 0


def test_missing_runs_and_a_single_seed_are_clear_errors(tmp_path):
  with pytest.raises(ValueError, match="at least two seeds"):
    stability.stability_report([tmp_path])
  with pytest.raises(FileNotFoundError, match="genotype.json is missing"):
    stability.stability_report([tmp_path / "a", tmp_path / "b"])
