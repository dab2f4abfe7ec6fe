"""Genotypes: derivation on hand-made scores, JSON round trip, published cells, diagrams."""

import json

import numpy as np
import pytest

from fakenas_jax.nas import cell_diagram
from fakenas_jax.nn import genotypes, registry

OPS = ("none", "max_pool_3x3", "skip_connect", "sep_conv_3x3")


def _scores(entries):
  """(14, 4) zeros with given {(node, source, op_name): score} entries."""
  scores = np.zeros((14, len(OPS)))
  for (node, source, op), value in entries.items():
    scores[genotypes.edge_index(node, source), OPS.index(op)] = value
  return scores


def test_edge_layout_is_darts_order():
  assert genotypes.edges_per_cell() == 14
  assert [genotypes.edge_index(n, 0) for n in range(4)] == [0, 2, 5, 9]
  assert genotypes.edge_index(3, 4) == 13


def test_derivation_keeps_two_strongest_inputs_and_ignores_none():
  scores = _scores(
    {
      (0, 0, "sep_conv_3x3"): 0.9,
      (0, 1, "max_pool_3x3"): 0.5,
      (1, 2, "skip_connect"): 0.8,
      (1, 0, "none"): 5.0,
      (1, 0, "sep_conv_3x3"): 0.1,
      (1, 1, "max_pool_3x3"): 0.3,
      (2, 3, "sep_conv_3x3"): 0.7,
      (2, 1, "skip_connect"): 0.6,
      (3, 4, "max_pool_3x3"): 0.4,
      (3, 0, "sep_conv_3x3"): 0.45,
    }
  )
  cell = genotypes.derive_cell(scores, OPS)
  assert cell == (
    ("sep_conv_3x3", 0),
    ("max_pool_3x3", 1),
    ("max_pool_3x3", 1),
    ("skip_connect", 2),  # 'none' (5.0) on 0->1 never counts
    ("skip_connect", 1),
    ("sep_conv_3x3", 3),
    ("sep_conv_3x3", 0),
    ("max_pool_3x3", 4),
  )


def test_pruned_operations_are_never_chosen():
  scores = _scores({(0, 0, "sep_conv_3x3"): 0.9, (0, 1, "sep_conv_3x3"): 0.8})
  scores[genotypes.edge_index(0, 0), OPS.index("sep_conv_3x3")] = -np.inf
  cell = genotypes.derive_cell(scores, OPS)
  assert ("sep_conv_3x3", 0) not in cell[:2] and ("sep_conv_3x3", 1) in cell[:2]


def test_derivation_rejects_scores_of_the_wrong_shape():
  with pytest.raises(genotypes.GenotypeError, match="do not fit"):
    genotypes.derive_cell(np.zeros((13, 4)), OPS)


def test_json_round_trip_and_no_eval(tmp_path):
  genotype = genotypes.PUBLISHED["PC_DARTS"]
  path = tmp_path / "g.json"
  genotypes.save(genotype, path, search_space="darts")
  assert json.loads(path.read_text())["search_space"] == "darts"
  assert genotypes.load(path) == genotype
  path.write_text('__import__("os").system("false")')
  with pytest.raises(genotypes.GenotypeError, match="not JSON"):
    genotypes.load(path)


def test_published_genotypes_load_by_name():
  for name in ("DARTS_V1", "DARTS_V2", "PC_DARTS"):
    genotype = genotypes.load(name)
    assert genotype.steps == 4 and genotype.normal_concat == (2, 3, 4, 5)
  with pytest.raises(genotypes.GenotypeError, match="DARTS_V2"):
    genotypes.load("NO_SUCH_GENOTYPE")


def test_malformed_genotypes_and_foreign_spaces_are_refused():
  with pytest.raises(genotypes.GenotypeError, match="inputs of node 0"):
    genotypes.Genotype(
      normal=(("sep_conv_3x3", 2), ("skip_connect", 0)),
      normal_concat=(2,),
      reduce=(("sep_conv_3x3", 0), ("skip_connect", 1)),
      reduce_concat=(2,),
    )
  with pytest.raises(genotypes.GenotypeError, match="sep_conv_3x3.*not in fdnas"):
    genotypes.PUBLISHED["DARTS_V2"].check_space(
      ["none", "skip_connect", "max_pool_3x3", "avg_pool_3x3", "dil_conv_3x3", "SepCDC_3x3_0.7"],
      "fdnas",
    )


def test_diagram_is_a_png(tmp_path):
  path = cell_diagram.save_genotype_diagram(
    genotypes.PUBLISHED["DARTS_V2"], tmp_path / "c.png", title="DARTS_V2"
  )
  assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_a_genotype_file_must_use_the_operations_it_declares(tmp_path):
  path = tmp_path / "g.json"
  darts = genotypes.PUBLISHED["DARTS_V2"]
  genotypes.save(darts, path, search_space="fdnas")  # DARTS cells declared as FD-NAS
  with pytest.raises(
    genotypes.GenotypeError,
    match=r"g.json: genotype uses dil_conv_3x3, sep_conv_3x3, not in search "
    r"space 'fdnas', which it declares",
  ):
    genotypes.load(path)
  # An explicit `ops` list (what the search writes) governs over the space's name.
  genotypes.save(darts, path, search_space="fdnas", ops=list(registry.SEARCH_SPACES["darts"]))
  assert genotypes.load(path) == darts
  genotypes.save(darts, path, search_space="darts", ops=["none", "sep_conv_3x3"])
  with pytest.raises(genotypes.GenotypeError, match="uses .*dil_conv_3x3.*not in the operations"):
    genotypes.load(path)
  genotypes.save(darts, path, search_space="cifar_space")
  with pytest.raises(genotypes.GenotypeError, match="unknown search_space 'cifar_space'"):
    genotypes.load(path)
  for space, ops in registry.SEARCH_SPACES.items():  # every space accepts its own operations
    cells = tuple(
      (ops[i % len(ops)] if ops[i % len(ops)] != "none" else "skip_connect", i % 2)
      for i in range(8)
    )
    genotype = genotypes.Genotype(
      normal=cells, normal_concat=(2, 3, 4, 5), reduce=cells, reduce_concat=(2, 3, 4, 5)
    )
    genotypes.save(genotype, path, search_space=space)
    assert genotypes.load(path) == genotype
