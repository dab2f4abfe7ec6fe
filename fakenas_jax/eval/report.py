"""What an evaluation writes besides the plots of `eval.plots`: the JSON report, the summary table
and the sample-predictions figure.

* `write_json` writes a report with NaN (an AUC of a one-class set) as `null`, so the file is
  standard JSON.
* `summary_rows` flattens {run: {corpus: result}} into one row per (run, corpus) with the frame-
  and video-level metrics, for `plots.markdown_table`.
* `Table`, `render_markdown` and `render_html` write a page of sections (paragraphs, tables,
  images) as markdown and as HTML with real `<table>`s; numbers are rounded for people
  (`human_number`: 3 decimals, `human_duration`: '3 min 27 s'); `genotype_rows` turns a genotype
  JSON into a small table (one row per cell node, one column per input).
* `save_sample_predictions` shows a few real and fake frames with P(fake) and, when the model
  has dense heads, each predicted map (ADD region, BiG-Arts intrinsic / extrinsic) beside its
  ground truth (face hull, intrinsic, extrinsic mask).
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import numbers
import pathlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fakenas_jax.data import masks  # noqa: E402

# Predicted map → the ground-truth mask it is trained against.
TRUE_MASK_OF_MAP = masks.MASK_OF_OUTPUT
SUMMARY_METRICS = ("auc", "accuracy", "eer", "ap", "precision", "recall", "f1")


def _json_safe(value: Any) -> Any:
  if isinstance(value, Mapping):
    return {str(k): _json_safe(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_json_safe(v) for v in value]
  if isinstance(value, np.ndarray):
    return _json_safe(value.tolist())
  if isinstance(value, (np.integer,)):
    return int(value)
  if isinstance(value, (float, np.floating)):
    return None if math.isnan(value) or math.isinf(value) else float(value)
  return value


def write_json(report: Mapping[str, Any], path: str | pathlib.Path) -> pathlib.Path:
  """Writes `report` as indented JSON, NaN and infinities as null."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(_json_safe(report), indent=2, allow_nan=False))
  return path


def summary_rows(
  results: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> dict[str, dict[str, Any]]:
  """{'run → corpus': {frame metrics, 'video ' metrics, counts}} for a markdown table."""
  rows = {}
  for run, corpora in results.items():
    for corpus_name, result in corpora.items():
      row: dict[str, Any] = {}
      for metric in SUMMARY_METRICS:
        row[f"frame {metric}"] = result["frame"][metric]
      for metric in ("auc", "accuracy", "eer"):
        row[f"video {metric}"] = result["video"][metric]
      row["frames"] = result["frame"]["num_examples"]
      row["videos"] = result["video"]["num_examples"]
      rows[f"{run} → {corpus_name}"] = row
  return rows


def human_number(value: Any, digits: int = 3) -> str:
  """A table cell for people: floats with `digits` decimals (NaN: 'n/a'), integers as they are."""
  if value is None:
    return ""
  if isinstance(value, (bool, np.bool_)):
    return str(bool(value))
  if isinstance(value, numbers.Integral):
    return str(int(value))
  if isinstance(value, numbers.Real):
    return "n/a" if math.isnan(value) else f"{float(value):.{digits}f}"
  return str(value)


def human_duration(seconds: float) -> str:
  """'0.4 s', '12 s', '3 min 27 s', '1 h 02 min'."""
  seconds = float(seconds)
  if seconds < 10:
    return f"{seconds:.1f} s"
  if seconds < 60:
    return f"{seconds:.0f} s"
  minutes, rest = divmod(int(round(seconds)), 60)
  if minutes < 60:
    return f"{minutes} min {rest:02d} s"
  hours, minutes = divmod(minutes, 60)
  return f"{hours} h {minutes:02d} min"


@dataclasses.dataclass(frozen=True)
class Table:
  """{row name: {column: value}}: a markdown table and an HTML `<table>` of one section."""

  rows: Mapping[str, Mapping[str, Any]]
  row_header: str = ""
  columns: Sequence[str] | None = None
  digits: int = 3

  def column_names(self) -> list[str]:
    if self.columns is not None:
      return list(self.columns)
    names: list[str] = []
    for row in self.rows.values():
      names += [c for c in row if c not in names and not isinstance(row[c], Mapping)]
    return names

  def markdown(self) -> str:
    columns = self.column_names()
    lines = [
      "| " + " | ".join([self.row_header] + [str(c) for c in columns]) + " |",
      "|" + "|".join(["---"] + ["---:"] * len(columns)) + "|",
    ]
    for name, row in self.rows.items():
      cells = [human_number(row.get(c), self.digits).replace("|", "\\|") for c in columns]
      lines.append("| " + " | ".join([str(name)] + cells) + " |")
    return "\n".join(lines) + "\n"

  def html(self) -> str:
    columns = self.column_names()
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [self.row_header, *columns])
    body = []
    for name, row in self.rows.items():
      cells = []
      for column in columns:
        value = row.get(column)
        numeric = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
        style = ' class="num"' if numeric else ""
        cells.append(f"<td{style}>{html.escape(human_number(value, self.digits))}</td>")
      body.append(f"<tr><th>{html.escape(str(name))}</th>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _inline_html(text: str) -> str:
  """A paragraph: escaped, with markdown's `code` spans as <code>."""
  return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def genotype_rows(genotype: Mapping[str, Any]) -> dict[str, dict[str, str]]:
  """A genotype JSON as table rows: '<cell> node i' → {'input 1', 'input 2'} as 'op ← source'
  (sources c_{k-2}, c_{k-1}, node j), and the concatenated nodes."""

  def source(index: int) -> str:
    return ("c_{k-2}", "c_{k-1}")[index] if index < 2 else f"node {index - 2}"

  rows: dict[str, dict[str, str]] = {}
  for cell, key in (("normal", "normal"), ("reduction", "reduce")):
    pairs = genotype[key]
    for node in range(len(pairs) // 2):
      rows[f"{cell} node {node}"] = {
        f"input {i + 1}": f"{op} ← {source(int(src))}"
        for i, (op, src) in enumerate(pairs[2 * node : 2 * node + 2])
      }
    concat = genotype.get(f"{key}_concat") or []
    rows[f"{cell} output"] = {
      "input 1": "concat of " + ", ".join(f"node {int(i) - 2}" for i in concat),
      "input 2": "",
    }
  return rows


Section = tuple[str, Sequence[Any], Sequence[str]]  # heading, blocks (str | Table), images


def render_markdown(title: str, sections: Sequence[Section]) -> str:
  lines = [f"# {title}\n"]
  for heading, blocks, images in sections:
    lines.append(f"\n## {heading}\n")
    for block in blocks:
      lines.append(block.markdown() if isinstance(block, Table) else f"{block}\n")
    lines += [f"![{image}]({image})" for image in images]
  return "\n".join(lines) + "\n"


_STYLE = (
  "body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em}"
  "table{border-collapse:collapse;margin:0.5em 0}th,td{border:1px solid #ccc;"
  "padding:0.2em 0.6em}thead th{background:#f0f0f0}td.num{text-align:right;"
  "font-variant-numeric:tabular-nums}tbody th{text-align:left;font-weight:normal}"
  "img{max-width:100%}"
)


def render_html(title: str, sections: Sequence[Section]) -> str:
  body = [f"<h1>{html.escape(title)}</h1>"]
  for heading, blocks, images in sections:
    body.append(f"<h2>{html.escape(heading)}</h2>")
    for block in blocks:
      body.append(block.html() if isinstance(block, Table) else f"<p>{_inline_html(block)}</p>")
    body += [
      f'<p><img src="{html.escape(image)}" alt="{html.escape(image)}"></p>' for image in images
    ]
  return (
    f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
    f"</title><style>{_STYLE}</style></head><body>{''.join(body)}</body></html>\n"
  )


def save_sample_predictions(
  samples: Mapping[str, np.ndarray], path: str | pathlib.Path, title: str = ""
) -> pathlib.Path:
  """One column per sample frame: the frame (label, P(fake)), predicted / true maps, then the
  true masks the model does not predict.

  `samples` is `inference.SplitPredictions.samples`: 'image' [K, S, S, 3] in [0, 1], 'label',
  'p_fake', the predicted maps by name and the ground truth as 'true_<mask>'.
  """
  if "image" not in samples or len(samples["image"]) == 0:
    raise ValueError("no sample frames to show")
  order = np.argsort(samples["label"], kind="stable")  # real first, then fake
  maps = [name for name in TRUE_MASK_OF_MAP if name in samples]
  shown = {TRUE_MASK_OF_MAP[name] for name in maps}
  truths = [
    name[len("true_") :]
    for name in samples
    if name.startswith("true_") and name[len("true_") :] not in shown
  ]
  rows = 1 + 2 * len(maps) + len(truths)
  columns = len(order)
  figure, axes = plt.subplots(
    rows, columns, figsize=(1.7 * columns + 0.8, 1.8 * rows), squeeze=False
  )
  for column, index in enumerate(order):
    label = "fake" if samples["label"][index] else "real"
    axes[0, column].imshow(samples["image"][index])
    axes[0, column].set_title(
      f"{label}\nP(fake) {samples['p_fake'][index]:.2f}",
      fontsize=8,
      color="tab:red"
      if (samples["p_fake"][index] > 0.5) != bool(samples["label"][index])
      else "black",
    )
    for offset, name in enumerate(maps):
      predicted = axes[1 + 2 * offset, column]
      truth = axes[2 + 2 * offset, column]
      predicted.imshow(samples[name][index][..., 0], cmap="magma", vmin=0.0, vmax=1.0)
      true_name = f"true_{TRUE_MASK_OF_MAP[name]}"
      if true_name in samples:
        truth.imshow(samples[true_name][index][..., 0], cmap="magma", vmin=0.0, vmax=1.0)
      else:
        truth.text(0.5, 0.5, "no mask", ha="center", va="center", fontsize=7)
      if column == 0:
        predicted.set_ylabel(f"{name}\npredicted", fontsize=8)
        truth.set_ylabel(f"{TRUE_MASK_OF_MAP[name]}\ntrue", fontsize=8)
    for offset, mask in enumerate(truths):  # ground truth the model does not predict
      axis = axes[1 + 2 * len(maps) + offset, column]
      axis.imshow(samples[f"true_{mask}"][index][..., 0], cmap="magma", vmin=0.0, vmax=1.0)
      if column == 0:
        axis.set_ylabel(f"{mask}\ntrue", fontsize=8)
  for axis in axes.flat:
    axis.set_xticks([])
    axis.set_yticks([])
  if title:
    figure.suptitle(title, fontsize=9)
  figure.tight_layout()
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  figure.savefig(path, dpi=100)
  plt.close(figure)
  return path
