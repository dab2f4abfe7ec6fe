"""minDCF, actDCF, Cllr (ASVspoof 5), per-attack/per-condition tables and challenge score files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fakenas_jax.metrics import asvspoof, score_files

# The hand-made CM case of test_speech_metrics: bona fide 3, 4, 1; spoof 0, 2, 5. DET points
# (P_miss, P_fa) at −inf, 0, 1, 2, 3, 4, 5: (0,1) (0,2/3) (1/3,2/3) (1/3,1/3) (2/3,1/3) (1,1/3) (1,0).
BONAFIDE = [3.0, 4.0, 1.0]
SPOOF = [0.0, 2.0, 5.0]


def test_asvspoof5_costs():
  costs = asvspoof.ASVSPOOF5_COSTS
  assert (costs.p_spoof, costs.c_miss, costs.c_fa) == (0.05, 1.0, 10.0)
  assert costs.weights == pytest.approx((0.95, 0.5))
  assert costs.bayes_threshold == pytest.approx(-math.log(1.9))


def test_min_dcf_hand_made():
  # Normalised DCF = (0.95 P_miss + 0.5 P_fa) / 0.5 = 1.9 P_miss + P_fa at the DET points:
  # 1, 2/3, 1.9/3 + 2/3 = 1.3, 1.9/3 + 1/3, 3.8/3 + 1/3, 1.9 + 1/3, 1.9 → minimum 2/3 at t = 0.
  value, threshold = asvspoof.min_dcf(BONAFIDE, SPOOF)
  assert value == pytest.approx(2 / 3) and threshold == 0.0
  # With π_spoof = 0.5, C_fa = 1: P_miss + P_fa, smallest 2/3 at t = 0 and at t = 2 (first: 0).
  costs = asvspoof.DCFCosts(p_spoof=0.5, c_miss=1.0, c_fa=1.0)
  assert asvspoof.min_dcf(BONAFIDE, SPOOF, costs) == pytest.approx((2 / 3, 0.0))


def test_act_dcf_hand_made():
  # Threshold −ln 1.9 = −0.642: no bona fide below, every spoof at or above → P_fa = 1: 1.0.
  value, threshold = asvspoof.act_dcf(BONAFIDE, SPOOF)
  assert value == pytest.approx(1.0) and threshold == pytest.approx(-0.6418539)
  # Bona fide −1, 2 (one miss), spoof −0.5, −3 (one false alarm): 1.9 · 1/2 + 1/2 = 1.45.
  assert asvspoof.act_dcf([-1.0, 2.0], [-0.5, -3.0])[0] == pytest.approx(1.45)
  # A spoof exactly at the threshold is accepted (≥), a bona fide exactly there is kept.
  t = asvspoof.ASVSPOOF5_COSTS.bayes_threshold
  assert asvspoof.act_dcf([t], [t - 1])[0] == 0.0
  assert asvspoof.act_dcf([t + 1], [t])[0] == pytest.approx(1.0)


def test_cllr_hand_made():
  assert asvspoof.cllr([0.0, 0.0], [0.0]) == pytest.approx(1.0)  # uninformative
  # LLR ln 3 for the bona fide, −ln 3 for the spoof: log2(1 + 1/3) each.
  assert asvspoof.cllr([math.log(3)], [-math.log(3)]) == pytest.approx(math.log2(4 / 3))
  # Mixed: ½ [mean(log2(1+e^−2), log2(1+e^1)) + log2(1+e^0)].
  expected = 0.5 * (0.5 * (math.log2(1 + math.exp(-2)) + math.log2(1 + math.e)) + 1.0)
  assert asvspoof.cllr([2.0, -1.0], [0.0]) == pytest.approx(expected)
  assert asvspoof.cllr([800.0], [-800.0]) == pytest.approx(0.0, abs=1e-12)  # no overflow


@pytest.mark.parametrize("seed", range(10))
def test_dcf_and_cllr_match_direct_counting(seed):
  rng = np.random.default_rng(seed)
  bonafide = np.round(rng.normal(1.0, 2.0, int(rng.integers(5, 80))), 1)
  spoof = np.round(rng.normal(-1.0, 2.0, int(rng.integers(5, 80))), 1)
  candidates = np.r_[-np.inf, np.unique(np.r_[bonafide, spoof])]
  brute = min(1.9 * np.mean(bonafide <= t) + np.mean(spoof > t) for t in candidates)
  assert asvspoof.min_dcf(bonafide, spoof)[0] == pytest.approx(brute, abs=1e-12)
  t = -np.log(1.9)
  assert asvspoof.act_dcf(bonafide, spoof)[0] == pytest.approx(
    1.9 * np.mean(bonafide < t) + np.mean(spoof >= t)
  )
  sigmoid = lambda x: 1 / (1 + np.exp(-x))
  expected = -0.5 * (np.mean(np.log2(sigmoid(bonafide))) + np.mean(np.log2(1 - sigmoid(spoof))))
  assert asvspoof.cllr(bonafide, spoof) == pytest.approx(expected)


def _cm():
  return score_files.CMScores(
    ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"],
    ["-", "-", "-", "A07", "A08", "A07", "-", "A08"],
    ["bonafide"] * 3 + ["spoof"] * 3 + ["bonafide", "spoof"],
    BONAFIDE + SPOOF + [-2.0, 6.0],
  )


def test_per_attack_and_per_condition_tables():
  cm = _cm()
  table = asvspoof.per_attack_table(cm)
  assert list(table) == ["A07", "A08"]
  all_bonafide = BONAFIDE + [-2.0]
  assert table["A07"] == asvspoof.cm_summary(all_bonafide, [0.0, 5.0])
  assert table["A08"]["num_spoof"] == 2 and table["A08"]["num_bonafide"] == 4
  assert table["A08"]["min_dcf"] == asvspoof.min_dcf(all_bonafide, [2.0, 6.0])[0]
  codec = {
    "u1": "none",
    "u2": "none",
    "u3": "alaw",
    "u4": "none",
    "u5": "alaw",
    "u6": "alaw",
    "u7": "gsm",
    "u8": "none",
  }
  conditions = asvspoof.per_condition_table(cm, codec)
  assert list(conditions) == ["alaw", "gsm", "none"]
  # alaw: bona fide 1, spoof 2, 5; none: bona fide 3, 4, spoof 0, 6.
  assert conditions["alaw"] == asvspoof.cm_summary([1.0], [2.0, 5.0])
  assert conditions["none"]["eer"] == asvspoof.compute_eer([3.0, 4.0], [0.0, 6.0])[0]
  assert conditions["gsm"] == {
    "eer": None,
    "min_dcf": None,
    "act_dcf": None,
    "cllr": None,
    "num_bonafide": 1,
    "num_spoof": 0,
  }
  with pytest.raises(ValueError, match="no condition, e.g. u8"):
    asvspoof.per_condition_table(cm, {k: v for k, v in codec.items() if k != "u8"})
  report = asvspoof.asvspoof_report(cm)
  assert report["min_dcf"] == asvspoof.min_dcf(cm.bonafide_scores, cm.spoof_scores)[0]
  assert report["cllr"] == asvspoof.cllr(cm.bonafide_scores, cm.spoof_scores)
  assert report["per_attack"] == table


def _protocol():
  cm = _cm()
  return score_files.CMProtocol(cm.utterances, cm.attacks, cm.keys, {"codec": ["a"] * 8}), cm


@pytest.mark.parametrize("score_format", score_files.SCORE_FORMATS)
def test_score_files_in_each_format_round_trip(tmp_path, score_format):
  protocol, cm = _protocol()
  shuffled = score_files.CMScores(
    cm.utterances[::-1], cm.attacks[::-1], cm.keys[::-1], cm.scores[::-1] + 1 / 3
  )
  path = score_files.write_scores(tmp_path / "scores.txt", shuffled, score_format)
  lines = path.read_text().splitlines()
  if score_format == "asvspoof5":
    assert lines[0] == "filename\tcm-score" and lines[1].split("\t")[0] == "u8"
  elif score_format == "asvspoof2021":
    assert lines[0].split() == ["u8", repr(6.0 + 1 / 3)]
  table = score_files.read_scores_for_protocol(path, score_format, protocol)
  assert table.utterances.tolist() == cm.utterances.tolist()
  np.testing.assert_array_equal(table.scores, cm.scores + 1 / 3)
  assert table.keys.tolist() == cm.keys.tolist()


def test_scores_that_do_not_match_the_protocol_name_the_utterances(tmp_path):
  protocol, cm = _protocol()
  utterances = np.r_[cm.utterances[2:], ["LA_D_1", "LA_D_2"]]
  path = score_files.write_scores(
    tmp_path / "s.tsv",
    score_files.CMScores(utterances, ["-"] * 8, ["bonafide"] * 8, np.zeros(8)),
    "asvspoof5",
  )
  with pytest.raises(
    score_files.ScoreFileError,
    match=r"2 utterance\(s\) of the protocol have no score \(u1, u2\); "
    r"2 scored utterance\(s\) are not in the protocol \(LA_D_1, LA_D_2\)",
  ):
    score_files.read_scores_for_protocol(path, "asvspoof5", protocol)
  many = [f"x{i}" for i in range(9)]
  with pytest.raises(score_files.ScoreFileError, match=r"9 scored .*x0, x1, x2, x3, x4 and 4 more"):
    score_files.match_protocol(np.r_[cm.utterances, many], np.zeros(17), protocol)


@pytest.mark.parametrize(
  "score_format, text, message",
  [
    ("asvspoof5", "utt\tscore\nu1\t1.0\n", "header 'filename<TAB>cm-score'"),
    ("asvspoof5", "filename\tcm-score\n", "has no scores"),
    ("asvspoof2021", "u1 1.0 spoof\n", ":1: expected 2 fields"),
    ("asvspoof2021", "u1 1.0\nu1 2.0\n", "more than once"),
    ("asvspoof2021", "u1 x\n", "not a number"),
    ("asvspoof2020", "u1 1\n", "unknown score file format"),
  ],
)
def test_malformed_challenge_score_files(tmp_path, score_format, text, message):
  path = tmp_path / "s.txt"
  path.write_text(text)
  with pytest.raises(score_files.ScoreFileError, match=message):
    score_files.read_scores(path, score_format)
