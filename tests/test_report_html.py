"""The demo report as people read it: real HTML tables, the genotype as a table, rounded numbers;
every line of the α/β/H plot labelled."""

import html.parser
import json

import numpy as np

from fakenas_jax.eval import report
from fakenas_jax.nas import arch_plots
from fakenas_jax.nn import genotypes


class _Cells(html.parser.HTMLParser):
  """Table cells, tags and text of an HTML page, parsed as a browser would."""

  def __init__(self):
    super().__init__()
    self.tags, self.tables, self._cell, self._row = [], [], None, None

  def handle_starttag(self, tag, attrs):
    self.tags.append(tag)
    if tag == "table":
      self.tables.append([])
    elif tag == "tr":
      self._row = []
      self.tables[-1].append(self._row)
    elif tag in ("td", "th"):
      self._cell = ""

  def handle_endtag(self, tag):
    if tag in ("td", "th"):
      self._row.append(self._cell)
      self._cell = None

  def handle_data(self, data):
    if self._cell is not None:
      self._cell += data


def test_sections_render_as_real_tables_with_rounded_numbers():
  genotype = genotypes.PUBLISHED["PC_DARTS"].to_json()
  sections = [
    (
      "Metrics",
      [
        "Rows: `run → corpus`.",
        report.Table(
          {"c2pn → studio": {"frame auc": 0.912345678, "frames": 160, "video eer": float("nan")}},
          row_header="run",
        ),
      ],
      [],
    ),
    ("Cells", [report.Table(report.genotype_rows(genotype), row_header="cell node")], []),
    (
      "Time",
      [report.Table({"search": {"wall time": report.human_duration(206.8)}}, row_header="part")],
      ["search/arch_history.png"],
    ),
  ]
  page = report.render_html("demo", sections)
  parser = _Cells()
  parser.feed(page)
  assert "pre" not in parser.tags and "|---" not in page
  metrics, cells, timing = parser.tables
  assert metrics[0] == ["run", "frame auc", "frames", "video eer"]
  assert metrics[1] == ["c2pn → studio", "0.912", "160", "n/a"]
  assert len(cells) == 1 + 2 * (4 + 1)  # header, 4 nodes + output per cell type
  assert cells[1] == ["normal node 0", "sep_conv_3x3 ← c_{k-1}", "skip_connect ← c_{k-2}"]
  assert cells[5] == ["normal output", "concat of node 0, node 1, node 2, node 3", ""]
  assert cells[8] == ["reduction node 2", "sep_conv_3x3 ← c_{k-2}", "sep_conv_3x3 ← node 1"]
  assert timing[1] == ["search", "3 min 27 s"]
  assert "<code>run → corpus</code>" in page and '<img src="search/arch_history.png"' in page
  markdown = report.render_markdown("demo", sections)
  assert "| c2pn → studio | 0.912 | 160 | n/a |" in markdown
  assert "![search/arch_history.png](search/arch_history.png)" in markdown
  assert '"normal"' not in page  # the genotype is a table, not JSON


def test_human_numbers():
  assert [report.human_duration(s) for s in (0.42, 12.4, 206.8, 3725)] == [
    "0.4 s",
    "12 s",
    "3 min 27 s",
    "1 h 02 min",
  ]
  assert report.human_number(0.98765) == "0.988" and report.human_number(7) == "7"
  assert report.human_number(True) == "True" and report.human_number(None) == ""


def test_every_line_of_the_architecture_plot_is_labelled():
  ops = ["none", "skip_connect", "max_pool_3x3", "sep_conv_3x3"]
  rng = np.random.default_rng(0)
  history = [
    {
      "epoch": e,
      "alpha": rng.normal(size=(2, 14, 4)).tolist(),
      "beta": rng.normal(size=(2, 14)).tolist(),
      "importance": rng.random((2, 14, 4)).tolist(),
    }
    for e in range(3)
  ]
  figure = arch_plots.history_figure(history, ops)
  axes = np.asarray(figure.axes[:6]).reshape(3, 2)
  edges = arch_plots.edge_labels(14)
  assert edges[:3] == ["n0 ← c_{k-2}", "n0 ← c_{k-1}", "n1 ← c_{k-2}"] and edges[-1] == "n3 ← n2"
  for row, expected in ((0, ops), (1, edges), (2, edges)):
    for axis in axes[row]:
      labels = [line.get_label() for line in axis.get_lines()]
      assert labels == expected
    assert [t.get_text() for t in axes[row, 1].get_legend().get_texts()] == expected
  # The H panel's lines are the per-edge maxima of H.
  best = np.array([h["importance"] for h in history])[:, 0].max(-1)
  np.testing.assert_allclose(axes[2, 0].get_lines()[5].get_ydata(), best[:, 5])
  json.dumps(edges)
