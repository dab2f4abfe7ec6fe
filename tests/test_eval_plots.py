"""Evaluation pictures decode and show something; the markdown table is exact."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fakenas_jax.eval import plots


def _decoded(path):
  assert path.is_file() and path.stat().st_size > 0
  image = cv2.imread(str(path), cv2.IMREAD_COLOR)
  assert image is not None, f"{path} does not decode as an image"
  return image


def _assert_not_flat(image):
  # A blank or one-colour picture has ~one colour; curves, text and a colour map have many.
  colours = np.unique(image.reshape(-1, 3), axis=0)
  assert len(colours) > 50
  assert image.std() > 10


def test_roc_plot(tmp_path):
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 2, 300)
  runs = {
    "studio → studio": (labels, np.clip(0.5 * labels + rng.random(300) * 0.7, 0, 1)),
    "studio → wild": (labels, rng.random(300)),
  }
  path = plots.save_roc_plot(runs, tmp_path / "figures" / "roc.png")
  image = _decoded(path)
  assert image.shape[0] > 200 and image.shape[1] > 200
  _assert_not_flat(image)


def test_roc_plot_needs_runs(tmp_path):
  with pytest.raises(ValueError, match="at least one run"):
    plots.save_roc_plot({}, tmp_path / "roc.png")


def test_cross_dataset_heatmap(tmp_path):
  values = {
    "studio": {"studio": 0.98, "celeb": 0.71, "wild": 0.55},
    "celeb": {"celeb": 0.99, "studio": 0.62},  # no 'wild' value: drawn grey
    "wild": {"studio": 0.8, "celeb": float("nan"), "wild": 0.77},
  }
  path = plots.save_cross_dataset_heatmap(values, tmp_path / "cross.png")
  _assert_not_flat(_decoded(path))
  rows, columns, table = plots._matrix(values)
  assert rows == ["studio", "celeb", "wild"] and columns == ["studio", "celeb", "wild"]
  assert table[1, 0] == 0.62 and np.isnan(table[1, 2]) and np.isnan(table[2, 1])
  with pytest.raises(ValueError, match="at least one value"):
    plots.save_cross_dataset_heatmap({}, tmp_path / "empty.png")


def test_markdown_table():
  rows = {
    "studio": {"auc": 0.98765, "num_fake": 12, "eer": float("nan"), "per_attack_eer": {"A01": 0.1}},
    "wild": {"auc": 0.5, "acc": 0.25},
  }
  assert plots.markdown_table(rows, row_header="corpus", digits=3) == (
    "| corpus | auc | num_fake | eer | acc |\n"
    "|---|---:|---:|---:|---:|\n"
    "| studio | 0.988 | 12 | n/a |  |\n"
    "| wild | 0.500 |  |  | 0.250 |\n"
  )
  assert plots.markdown_table(rows, columns=["acc"]) == (
    "|  | acc |\n|---|---:|\n| studio |  |\n| wild | 0.2500 |\n"
  )
  with pytest.raises(ValueError, match="at least one row"):
    plots.markdown_table({})
