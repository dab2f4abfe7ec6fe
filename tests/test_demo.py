"""The demo's pipeline (corpora → search → train → evaluate → report) on its tiny config."""

import json

import jax
import pytest

from configs import demo as demo_config
from fakenas_jax import demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("demo")
  config = demo_config.get_config("tiny")
  return workdir, config, demo.run_demo(config, workdir, devices=jax.devices()[:1])


def test_the_demo_searches_trains_and_evaluates_every_detector_on_every_corpus(tiny_demo):
  workdir, config, result = tiny_demo
  report = json.loads((workdir / "eval" / "eval_report.json").read_text())
  trained = {run["workdir"].rsplit("/", 1)[-1] for run in report["runs"].values()}
  assert trained == set(config.detectors) | {"c2pn_random_0"}
  for run in report["runs"].values():
    assert set(run["corpora"]) == set(config.corpora)
    for scores in run["corpora"].values():
      assert 0.0 <= scores["frame"]["auc"] <= 1.0
  trained_c2pn = json.loads((workdir / "train" / "c2pn" / "config.json").read_text())
  assert trained_c2pn["model"]["genotype"].endswith("genotype.json")
  assert (workdir / "train" / "c2pn" / "genotype.json").read_text() == (
    workdir / "search" / "genotype.json"
  ).read_text()


def test_the_report_shows_every_part_and_links_only_existing_pictures(tiny_demo):
  workdir, _, result = tiny_demo
  markdown = result["paths"]["markdown"].read_text()
  for heading in (
    "Cross-corpus frame AUC",
    "Searched cells",
    "Searched vs random",
    "Training curves",
    "Sample predictions",
    "Corpora",
  ):
    assert f"## {heading}" in markdown
  images = [
    line.split("](")[1].rstrip(")") for line in markdown.splitlines() if line.startswith("![")
  ]
  assert any(image.endswith("genotype.png") for image in images)
  assert any(image.endswith("roc.png") for image in images)
  assert all((workdir / image).is_file() for image in images)
  page = result["paths"]["html"].read_text()
  assert "<img src=" in page and "<table>" in page and "<pre>" not in page
  assert "normal node 0" in page  # the genotype as a table
  assert "The architecture learned" in markdown or "did NOT learn" in markdown
  assert "random cell trained once is no evidence" in markdown


def test_the_random_cells_are_drawn_from_the_space_and_trained_like_the_searched(tiny_demo):
  workdir, config, _ = tiny_demo
  drawn = json.loads((workdir / "random" / "random_000" / "genotype.json").read_text())
  assert drawn["strategy"] == "random" and drawn["seed"] == config.random_cells.seed
  assert all(op != "none" for op, _ in drawn["normal"] + drawn["reduce"])
  searched = json.loads((workdir / "train" / "c2pn" / "config.json").read_text())
  random = json.loads((workdir / "train" / "c2pn_random_0" / "config.json").read_text())
  assert (workdir / "train" / "c2pn_random_0" / "genotype.json").read_text() == (
    workdir / "random" / "random_000" / "genotype.json"
  ).read_text()
  for record in (searched, random):
    del record["model"]["genotype"]
  assert searched == random  # the same network, budget and data


def test_a_second_run_reuses_what_is_done(tiny_demo):
  workdir, config, first = tiny_demo
  again = demo.run_demo(config, workdir, devices=jax.devices()[:1])
  assert again["search"]["genotype"] == first["search"]["genotype"]
  assert again["evaluation"]["cross_dataset"] == first["evaluation"]["cross_dataset"]
