"""How the architecture evolved during a search: softmax(α), β and H per epoch, as one PNG.

One panel per cell type for the operation weights (mean over edges of softmax(α), a line per
operation), one for the edge weights β (a line per edge), and one for the importance H of the
operation each edge would keep (Eq. 9), so a reader sees which operations win and when pruning
removed others.
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


def save_history_plot(history: Sequence[dict], op_names: Sequence[str],
                      path: str | pathlib.Path) -> pathlib.Path:
  epochs = [h["epoch"] for h in history]
  alpha = np.array([h["alpha"] for h in history])  # (epochs, 2, 14, ops)
  beta = np.array([h["beta"] for h in history])  # (epochs, 2, 14)
  importance = np.array([h["importance"] for h in history])  # (epochs, 2, 14, ops)
  figure, axes = plt.subplots(3, 2, figsize=(12, 10), sharex=True)
  colours = plt.cm.tab20(np.linspace(0, 1, max(len(op_names), 2)))
  for t, cell in enumerate(CELL_TYPES):
    for o, name in enumerate(op_names):
      axes[0, t].plot(epochs, alpha[:, t, :, o].mean(1), label=name, color=colours[o])
    axes[0, t].set_title(f"{cell} cell: mean softmax(α) per operation")
    for e in range(beta.shape[2]):
      axes[1, t].plot(epochs, beta[:, t, e], lw=1)
    axes[1, t].set_title(f"{cell} cell: β per edge")
    axes[2, t].plot(epochs, importance[:, t].max(-1))
    axes[2, t].set_title(f"{cell} cell: H of each edge's best operation (Eq. 8)")
    axes[2, t].set_xlabel("epoch")
    axes[2, t].xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
  axes[0, 1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
  figure.tight_layout()
  path = pathlib.Path(path)
  figure.savefig(path, dpi=90)
  plt.close(figure)
  return path
