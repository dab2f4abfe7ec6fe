"""How the architecture evolved during a search: softmax(α), β and H per epoch, as one PNG.

One panel per cell type for the operation weights (mean over edges of softmax(α), a line per
operation), one for the edge weights β (a line per edge), and one for the importance H of the
operation each edge would keep (Eq. 9), so a reader sees which operations win and when pruning
removed others. Every line is labelled: operations by name, edges as `node i ← source` (sources
c_{k-2}, c_{k-1}, node j; DARTS edge order), one legend per row beside the right panel.
"""

from __future__ import annotations

import pathlib
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

CELL_TYPES = ("normal", "reduction")


def edge_labels(edges: int) -> list[str]:
  """'n0 ← c_{k-2}', 'n0 ← c_{k-1}', 'n1 ← c_{k-2}', …, 'n1 ← n0', … for `edges` edges."""
  labels, node = [], 0
  while len(labels) < edges:
    for source in range(2 + node):
      name = ("c_{k-2}", "c_{k-1}")[source] if source < 2 else f"n{source - 2}"
      labels.append(f"n{node} ← {name}")
    node += 1
  return labels[:edges]


def history_figure(history: Sequence[dict], op_names: Sequence[str]):
  """The matplotlib figure `save_history_plot` writes."""
  epochs = [h["epoch"] for h in history]
  alpha = np.array([h["alpha"] for h in history])  # (epochs, 2, 14, ops)
  beta = np.array([h["beta"] for h in history])  # (epochs, 2, 14)
  importance = np.array([h["importance"] for h in history])  # (epochs, 2, 14, ops)
  figure, axes = plt.subplots(3, 2, figsize=(14, 10), sharex=True)
  colours = plt.cm.tab20(np.linspace(0, 1, max(len(op_names), 2)))
  edges = edge_labels(beta.shape[2])
  edge_colours = plt.cm.tab20(np.linspace(0, 1, max(len(edges), 2)))
  styles = ("-", "--")
  for t, cell in enumerate(CELL_TYPES):
    for o, name in enumerate(op_names):
      axes[0, t].plot(epochs, alpha[:, t, :, o].mean(1), label=name, color=colours[o])
    axes[0, t].set_title(f"{cell} cell: mean softmax(α) per operation")
    best = importance[:, t].max(-1)  # (epochs, edges)
    for e, label in enumerate(edges):
      style = dict(color=edge_colours[e], ls=styles[e % 2], lw=1.2, label=label)
      axes[1, t].plot(epochs, beta[:, t, e], **style)
      axes[2, t].plot(epochs, best[:, e], **style)
    axes[1, t].set_title(f"{cell} cell: β per edge")
    axes[2, t].set_title(f"{cell} cell: H of each edge's best operation (Eq. 8)")
    axes[2, t].set_xlabel("epoch")
    axes[2, t].xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
  axes[0, 0].set_ylabel("softmax(α)")
  axes[1, 0].set_ylabel("β")
  axes[2, 0].set_ylabel("H")
  for row, title in ((0, "operation"), (1, "edge"), (2, "edge")):
    axes[row, 1].legend(
      fontsize=7,
      loc="upper left",
      bbox_to_anchor=(1.01, 1.0),
      title=title,
      title_fontsize=7,
      ncol=1 if row == 0 else 2,
    )
  figure.tight_layout()
  return figure


def save_history_plot(
  history: Sequence[dict], op_names: Sequence[str], path: str | pathlib.Path
) -> pathlib.Path:
  figure = history_figure(history, op_names)
  path = pathlib.Path(path)
  figure.savefig(path, dpi=90)
  plt.close(figure)
  return path
