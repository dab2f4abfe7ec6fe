"""Report pictures and tables of evaluation results: ROC curves, the cross-dataset AUC matrix.

* `save_roc_plot`: the ROC curves of several runs or test corpora on one figure, each labelled
  with its AUC (FD-NAS Fig. 5-style comparisons).
* `save_cross_dataset_heatmap`: a training corpus × test corpus matrix of a metric (FD-NAS
  Tables 2–3, BiG-Arts Table 4), every cell annotated with its value.
* `markdown_table`: a dict of metric dicts (or such a matrix) as a markdown table.

Pictures are written with matplotlib's Agg backend, so no display is needed.
"""

from __future__ import annotations

import math
import numbers
import pathlib
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fakenas_jax.metrics import detection as metrics  # noqa: E402


def save_roc_plot(
  runs: Mapping[str, tuple[Sequence, Sequence]], path: str | pathlib.Path, title: str = "ROC curves"
) -> pathlib.Path:
  """Saves the ROC curves of `runs` ({name: (labels, scores)}, 0 real / 1 fake) as one PNG.

  Each legend entry reads ``name (AUC = 0.953)``; the dashed diagonal is chance.
  """
  if not runs:
    raise ValueError("save_roc_plot needs at least one run ({name: (labels, scores)})")
  figure, axis = plt.subplots(figsize=(5.5, 5.0))
  axis.plot([0, 1], [0, 1], linestyle="--", color="0.6", lw=1, label="chance")
  for name, (labels, scores) in runs.items():
    fpr, tpr, _ = metrics.roc_curve(labels, scores)
    axis.plot(fpr, tpr, lw=1.8, label=f"{name} (AUC = {metrics.auc(labels, scores):.3f})")
  axis.set_xlim(0, 1)
  axis.set_ylim(0, 1.01)
  axis.set_xlabel("false-positive rate (real called fake)")
  axis.set_ylabel("true-positive rate (fake called fake)")
  axis.set_title(title)
  axis.legend(loc="lower right", fontsize=8)
  axis.grid(alpha=0.3)
  return save_figure(figure, path)


def _matrix(values: Mapping[str, Mapping[str, float]]) -> tuple[list[str], list[str], np.ndarray]:
  """Rows in the mapping's order, columns in first-seen order, missing cells NaN."""
  rows = list(values)
  columns: list[str] = []
  for row in rows:
    columns += [c for c in values[row] if c not in columns]
  table = np.full((len(rows), len(columns)), np.nan)
  for i, row in enumerate(rows):
    for j, column in enumerate(columns):
      if column in values[row] and values[row][column] is not None:
        table[i, j] = float(values[row][column])
  return rows, columns, table


def save_cross_dataset_heatmap(
  values: Mapping[str, Mapping[str, float]],
  path: str | pathlib.Path,
  metric: str = "AUC",
  title: str | None = None,
  value_range: tuple[float, float] = (0.0, 1.0),
) -> pathlib.Path:
  """Saves {training corpus: {test corpus: value}} as an annotated heat-map PNG.

  Rows are training corpora, columns test corpora; a missing or NaN cell is drawn grey with a
  dash. Colours span `value_range` (AUC and ACC live in [0, 1]).
  """
  rows, columns, table = _matrix(values)
  if not rows or not columns:
    raise ValueError(
      "save_cross_dataset_heatmap needs {training corpus: {test corpus: value}} "
      "with at least one value"
    )
  width = 1.6 + 1.1 * len(columns)
  height = 1.4 + 0.6 * len(rows)
  figure, axis = plt.subplots(figsize=(max(width, 4.0), max(height, 3.0)))
  colours = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
  image = axis.imshow(
    np.ma.masked_invalid(table),
    cmap=colours,
    vmin=value_range[0],
    vmax=value_range[1],
    aspect="auto",
  )
  middle = (value_range[0] + value_range[1]) / 2
  for i in range(len(rows)):
    for j in range(len(columns)):
      value = table[i, j]
      text = "–" if np.isnan(value) else f"{value:.3f}"
      colour = "black" if np.isnan(value) or value > middle else "white"
      axis.text(j, i, text, ha="center", va="center", color=colour, fontsize=9)
  axis.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
  axis.set_yticks(range(len(rows)), rows)
  axis.set_xlabel("test corpus")
  axis.set_ylabel("training corpus")
  axis.set_title(title or f"cross-dataset {metric}")
  figure.colorbar(image, ax=axis, label=metric)
  return save_figure(figure, path)


def _format_cell(value, digits: int) -> str:
  if value is None:
    return ""
  if isinstance(value, (bool, np.bool_)):
    return str(bool(value))
  if isinstance(value, numbers.Integral):
    return str(int(value))
  if isinstance(value, numbers.Real):
    return "n/a" if math.isnan(value) else f"{float(value):.{digits}f}"
  return str(value).replace("|", "\\|")


def markdown_table(
  rows: Mapping[str, Mapping[str, object]],
  columns: Sequence[str] | None = None,
  row_header: str = "",
  digits: int = 4,
) -> str:
  """A markdown table with a line per entry of `rows` ({row name: {column: value}}).

  Columns are `columns` or, by default, every key in first-seen order. Floats get `digits`
  decimals (NaN reads ``n/a``), integers stay integers, a missing cell is empty. Nested values
  (e.g. a per-attack dict) are not expanded: list the columns to show.
  """
  if not rows:
    raise ValueError("markdown_table needs at least one row ({row name: {column: value}})")
  if columns is None:
    columns = []
    for row in rows.values():
      columns += [c for c in row if c not in columns and not isinstance(row[c], Mapping)]
  header = "| " + " | ".join([row_header] + [str(c) for c in columns]) + " |"
  rule = "|" + "|".join(["---"] + ["---:"] * len(columns)) + "|"
  lines = [header, rule]
  for name, row in rows.items():
    cells = [_format_cell(row.get(c), digits) for c in columns]
    lines.append("| " + " | ".join([str(name)] + cells) + " |")
  return "\n".join(lines) + "\n"


def save_figure(figure, path: str | pathlib.Path) -> pathlib.Path:
  """Lays out, writes (PNG, 100 dpi, parent folders made) and closes `figure`; returns the path."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)
  return path
