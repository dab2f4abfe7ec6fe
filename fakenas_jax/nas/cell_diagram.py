"""A searched cell drawn as a PNG with matplotlib alone (no graphviz or other system package).

Left to right: the inputs c_{k-2} and c_{k-1}, the intermediate nodes 0..n-1, the output c_{k};
each kept edge is an arrow labelled with its operation, and the concatenated nodes feed the output.
"""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import patches  # noqa: E402

from fakenas_jax.nn.genotypes import Genotype  # noqa: E402

_COLOURS = {"input": "#9ecae1", "node": "#fdd0a2", "output": "#a1d99b"}


def _node_positions(steps: int) -> dict[int | str, tuple[float, float]]:
  positions: dict[int | str, tuple[float, float]] = {0: (0.0, 1.5), 1: (0.0, -1.5)}
  for node in range(steps):
    positions[2 + node] = (2.6 + 2.4 * node, 1.3 if node % 2 == 0 else -1.3)
  positions["out"] = (2.6 + 2.4 * steps + 0.4, 0.0)
  return positions


def draw_cell(pairs, concat, title: str, axis) -> None:
  steps = len(pairs) // 2
  positions = _node_positions(steps)
  labels = {0: "c_{k-2}", 1: "c_{k-1}", "out": "c_{k}"}
  labels.update({2 + n: str(n) for n in range(steps)})
  for position, (op, source) in enumerate(pairs):
    target = 2 + position // 2
    (x0, y0), (x1, y1) = positions[source], positions[target]
    bend = 0.25 if position % 2 else -0.25
    axis.annotate(
      "",
      xy=(x1, y1),
      xytext=(x0, y0),
      arrowprops=dict(
        arrowstyle="-|>",
        color="#555555",
        shrinkA=18,
        shrinkB=18,
        connectionstyle=f"arc3,rad={bend}",
      ),
    )
    # Midpoint of matplotlib's arc3 curve: the chord's midpoint moved by rad/2 along its normal.
    mx, my = (x0 + x1) / 2 + bend * (y1 - y0) / 2, (y0 + y1) / 2 - bend * (x1 - x0) / 2
    axis.text(
      mx,
      my,
      op,
      fontsize=7,
      ha="center",
      va="center",
      bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85),
    )
  for node in concat:
    (x0, y0), (x1, y1) = positions[node], positions["out"]
    axis.annotate(
      "",
      xy=(x1, y1),
      xytext=(x0, y0),
      arrowprops=dict(arrowstyle="-|>", color="#aaaaaa", linestyle="--", shrinkA=18, shrinkB=18),
    )
  for key, (x, y) in positions.items():
    kind = "input" if key in (0, 1) else "output" if key == "out" else "node"
    axis.add_patch(
      patches.FancyBboxPatch(
        (x - 0.45, y - 0.3), 0.9, 0.6, boxstyle="round,pad=0.05", fc=_COLOURS[kind], ec="#333333"
      )
    )
    axis.text(
      x,
      y,
      f"${labels[key]}$" if kind != "node" else labels[key],
      ha="center",
      va="center",
      fontsize=9,
    )
  xs = [p[0] for p in positions.values()]
  axis.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
  axis.set_ylim(-2.6, 2.6)
  axis.set_aspect("equal")
  axis.axis("off")
  axis.set_title(title, fontsize=10)


def save_genotype_diagram(
  genotype: Genotype, path: str | pathlib.Path, title: str = ""
) -> pathlib.Path:
  """Writes the normal and the reduction cell of `genotype`, one above the other, as a PNG."""
  figure, axes = plt.subplots(2, 1, figsize=(11, 7))
  draw_cell(genotype.normal, genotype.normal_concat, f"{title} normal cell".strip(), axes[0])
  draw_cell(genotype.reduce, genotype.reduce_concat, f"{title} reduction cell".strip(), axes[1])
  figure.tight_layout()
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  figure.savefig(path, dpi=100)
  plt.close(figure)
  return path
