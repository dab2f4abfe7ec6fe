"""ASVspoof metrics (DET, EER, min t-DCF) and score files: hand-made cases and brute force."""

from __future__ import annotations

import numpy as np
import pytest

from fakenas_jax.metrics import asvspoof as speech_metrics
from fakenas_jax.metrics import detection as metrics
from fakenas_jax.metrics import score_files

# The hand-made tandem case used below.
# ASV: targets 1, 3, 4, 5; nontargets −1, 0, 2, 6. ASV DET (P_miss = targets ≤ t, P_fa =
# nontargets > t): t = −inf (0, 1), −1 (0, 3/4), 0 (0, 1/2), 1 (1/4, 1/2), 2 (1/4, 1/4) → the
# EER point: EER 1/4, threshold τ = 2. At τ, a score ≥ τ is accepted (organisers' convention):
# P_fa^asv = #{2, 6}/4 = 1/2, P_miss^asv = #{1}/4 = 1/4; ASV spoofs 0.5, 2, 3, 7 →
# P_miss,spoof^asv = #{0.5}/4 = 1/4.
ASV_TARGET = [1.0, 3.0, 4.0, 5.0]
ASV_NONTARGET = [-1.0, 0.0, 2.0, 6.0]
ASV_SPOOF = [0.5, 2.0, 3.0, 7.0]
# C1 = P_tar (1 − 1/4) − P_non · 10 · 1/2 with P_tar = .95 · .99 = .9405, P_non = .0095:
#    = .705375 − .0475 = .657875;  C2 = 10 · .05 · (1 − 1/4) = .375;  min(C1, C2) = .375.
C1 = 0.657875
C2 = 0.375
# CM: bona fide 3, 4, 1; spoof 0, 2, 5. DET points (P_miss, P_fa) at −inf, 0, 1, 2, 3, 4, 5:
# (0,1) (0,2/3) (1/3,2/3) (1/3,1/3) (2/3,1/3) (1,1/3) (1,0). t-DCF = C1 P_miss + C2 P_fa, / C2.
CM_BONAFIDE = [3.0, 4.0, 1.0]
CM_SPOOF = [0.0, 2.0, 5.0]
CM_MISS = np.array([0, 0, 1, 1, 2, 3, 3]) / 3
CM_FA = np.array([3, 2, 2, 1, 1, 1, 0]) / 3


def test_det_curve_hand_made():
  miss, false_alarm, thresholds = speech_metrics.compute_det_curve(CM_BONAFIDE, CM_SPOOF)
  np.testing.assert_allclose(miss, CM_MISS)
  np.testing.assert_allclose(false_alarm, CM_FA)
  np.testing.assert_array_equal(thresholds, [-np.inf, 0, 1, 2, 3, 4, 5])
  # |P_miss − P_fa| is smallest (0) at t = 2: EER 1/3.
  assert speech_metrics.compute_eer(CM_BONAFIDE, CM_SPOOF) == pytest.approx((1 / 3, 2.0))


def test_det_curve_collapses_ties():
  # Bona fide 1, 2, 2; spoof 2, 0. Points at −inf, 0, 1, 2: one point for the three 2s.
  miss, false_alarm, thresholds = speech_metrics.compute_det_curve([1, 2, 2], [2, 0])
  np.testing.assert_array_equal(thresholds, [-np.inf, 0, 1, 2])
  np.testing.assert_allclose(miss, [0, 0, 1 / 3, 1])
  np.testing.assert_allclose(false_alarm, [1, 1 / 2, 1 / 2, 0])


def test_min_tdcf_hand_made():
  result = speech_metrics.min_tdcf(CM_BONAFIDE, CM_SPOOF, ASV_TARGET, ASV_NONTARGET, ASV_SPOOF)
  assert (result.asv_eer, result.asv_threshold) == pytest.approx((0.25, 2.0))
  assert (result.pfa_asv, result.pmiss_asv, result.pmiss_spoof_asv) == pytest.approx(
    (0.5, 0.25, 0.25)
  )
  assert (result.c1, result.c2) == pytest.approx((C1, C2))
  # Normalised curve: 1, 2/3, (C1/3 + C2·2/3)/C2 = 1.2514, (C1/3 + C2/3)/C2 = .9181, ...
  np.testing.assert_allclose(result.curve, (C1 * CM_MISS + C2 * CM_FA) / C2)
  np.testing.assert_allclose(result.curve[:4], [1.0, 2 / 3, 1.251444, 0.918111], atol=1e-6)
  # Minimum at t = 0: only the spoof scored 0 is rejected; t-DCF = C2 · 2/3 / C2 = 2/3.
  assert result.min_tdcf == pytest.approx(2 / 3)
  assert result.threshold == 0.0


def test_min_tdcf_of_a_perfect_countermeasure_is_zero():
  result = speech_metrics.min_tdcf([5, 6, 7], [1, 2], ASV_TARGET, ASV_NONTARGET, ASV_SPOOF)
  assert result.min_tdcf == 0.0 and 2 <= result.threshold < 5


def test_min_tdcf_refuses_an_asv_that_rejects_every_spoof():
  with pytest.raises(ValueError, match="C2 .*rejects every spoof"):
    speech_metrics.min_tdcf(CM_BONAFIDE, CM_SPOOF, ASV_TARGET, ASV_NONTARGET, [-5.0, -4.0])


def _brute_force_eer(bonafide, spoof):
  """Every candidate threshold (−inf and each score), rates counted directly."""
  candidates = np.r_[-np.inf, np.unique(np.r_[bonafide, spoof])]
  best = None
  for t in candidates:
    miss = np.mean(bonafide <= t)
    false_alarm = np.mean(spoof > t)
    gap = abs(miss - false_alarm)
    if best is None or gap < best[0]:
      best = (gap, (miss + false_alarm) / 2, t)
  return best[1], best[2]


def _brute_force_min_tdcf(bonafide, spoof, target, nontarget, asv_spoof, costs):
  _, tau = _brute_force_eer(target, nontarget)
  pfa, pmiss = np.mean(nontarget >= tau), np.mean(target < tau)
  pmiss_spoof = np.mean(asv_spoof < tau)
  c1 = (
    costs.p_tar * (costs.c_miss_cm - costs.c_miss_asv * pmiss) - costs.p_non * costs.c_fa_asv * pfa
  )
  c2 = costs.c_fa_cm * costs.p_spoof * (1 - pmiss_spoof)
  values = [
    (c1 * np.mean(bonafide <= t) + c2 * np.mean(spoof > t)) / min(c1, c2)
    for t in np.r_[-np.inf, np.unique(np.r_[bonafide, spoof])]
  ]
  return min(values)


@pytest.mark.parametrize("seed", range(30))
def test_eer_and_min_tdcf_match_brute_force(seed):
  rng = np.random.default_rng(seed)
  bonafide = rng.normal(2.0, 1.5, int(rng.integers(5, 200)))
  spoof = rng.normal(0.0, 1.0, int(rng.integers(5, 300)))
  if seed % 3 == 1:  # heavy ties
    bonafide, spoof = np.round(bonafide), np.round(spoof)
  eer, threshold = speech_metrics.compute_eer(bonafide, spoof)
  assert (eer, threshold) == pytest.approx(_brute_force_eer(bonafide, spoof), abs=1e-12)
  if seed % 3 != 1:
    # Without ties the DET EER and the interpolated ROC EER differ by less than one example.
    labels = np.r_[np.ones(bonafide.size), np.zeros(spoof.size)]
    interpolated, _ = metrics.eer(labels, np.r_[bonafide, spoof])
    assert abs(eer - interpolated) <= 1 / min(bonafide.size, spoof.size)
  target = rng.normal(3.0, 1.0, 60)
  nontarget = rng.normal(-1.0, 1.0, 80)
  asv_spoof = rng.normal(1.5, 1.5, 70)
  result = speech_metrics.min_tdcf(bonafide, spoof, target, nontarget, asv_spoof)
  assert result.min_tdcf == pytest.approx(
    _brute_force_min_tdcf(
      bonafide, spoof, target, nontarget, asv_spoof, speech_metrics.ASVSPOOF2019_COSTS
    ),
    abs=1e-12,
  )


def test_per_attack_eer_hand_made():
  # Bona fide 1, 2, 3. A01 spoofs 0, 0.5 (all below): EER 0. A02 spoofs 2.5, 4: DET at −inf (0,1),
  # .. 2 (2/3, 1), 2.5 (2/3, 1/2), 3 (1, 1/2) → smallest gap 1/6 at 2.5: EER (2/3 + 1/2)/2 = 7/12.
  result = speech_metrics.per_attack_eer([1, 2, 3], [2.5, 0, 4, 0.5], ["A02", "A01", "A02", "A01"])
  assert list(result) == ["A01", "A02"]
  assert result["A01"] == 0.0
  assert result["A02"] == pytest.approx(7 / 12)


def test_bad_scores():
  with pytest.raises(ValueError, match="non-empty"):
    speech_metrics.compute_eer([], [1.0])
  with pytest.raises(ValueError, match="NaN"):
    speech_metrics.compute_det_curve([1.0, np.nan], [0.0])
  with pytest.raises(ValueError, match="attack id"):
    speech_metrics.per_attack_eer([1.0], [0.0, 1.0], ["A01"])
  with pytest.raises(ValueError, match="sum to 1"):
    speech_metrics.TDCFCosts(p_spoof=0.1)


# Score files.


def _cm_table():
  utterances = ["LA_E_1", "LA_E_2", "LA_E_3", "LA_E_4", "LA_E_5", "LA_E_6"]
  attacks = ["-", "-", "-", "A07", "A08", "A07"]
  return utterances, attacks, CM_BONAFIDE + CM_SPOOF


def test_cm_score_file_round_trip(tmp_path):
  utterances, attacks, scores = _cm_table()
  scores = np.array(scores) + np.array([1e-13, 0.1, 1 / 3, -2.5e-7, 0, 7])
  path = score_files.write_cm_scores(tmp_path / "cm.txt", utterances, attacks, scores)
  first = path.read_text().splitlines()[0].split()
  assert first[:3] == ["LA_E_1", "-", "bonafide"]
  table = score_files.read_cm_scores(path)
  assert table.utterances.tolist() == utterances
  assert table.attacks.tolist() == attacks
  assert table.keys.tolist() == ["bonafide"] * 3 + ["spoof"] * 3
  np.testing.assert_array_equal(table.scores, scores)  # exact: written with repr
  assert table.spoof_attacks.tolist() == ["A07", "A08", "A07"]


@pytest.mark.parametrize(
  "text, message",
  [
    ("u1 - bonafide 1.0\nu2 A01 spoof\n", ":2: expected 4 fields"),
    ("u1 - bonafide 1.0\nu2 A01 fake 0.3\n", ":2: key 'fake'"),
    ("u1 - bonafide one\n", ":1: score 'one' is not a number"),
    ("u1 - bonafide nan\n", ":1: score 'nan' is not finite"),
    ("u1 - bonafide 1\nu1 A01 spoof 0\n", "more than once with different attack/key"),
    ("u1 - spoof 1\n", "needs its attack id"),
    ("\n\n", "has no scores"),
  ],
)
def test_malformed_cm_score_files(tmp_path, text, message):
  path = tmp_path / "cm.txt"
  path.write_text(text)
  with pytest.raises(score_files.ScoreFileError, match=message):
    score_files.read_cm_scores(path)


def test_cm_score_files_with_repeated_lines_count_every_line(tmp_path):
  """The organisers' example CM files repeat lines; their code (genfromtxt, then every line)
  counts each one: so do we, with a warning naming how many repeat."""
  lines = [
    "LA_E_1 - bonafide 2.5",
    "LA_E_2 - bonafide 0.1",
    "LA_E_3 A07 spoof 0.4",
    "LA_E_4 A08 spoof -1.0",
    "LA_E_3 A07 spoof 0.4",
    "LA_E_3 A07 spoof 0.4",
    "LA_E_2 - bonafide 0.1",
  ]
  path = tmp_path / "cm.txt"
  path.write_text("\n".join(lines) + "\n")
  with pytest.warns(score_files.RepeatedLinesWarning, match=r"cm.txt: 3 line\(s\) repeat"):
    table = score_files.read_cm_scores(path)
  assert table.repeated == 3 and len(table.scores) == 7
  # What the organisers' reader keeps: every line's key and score, in order.
  fields = [line.split() for line in lines]
  bona = [float(f[3]) for f in fields if f[2] == "bonafide"]
  spoof = [float(f[3]) for f in fields if f[2] == "spoof"]
  assert table.bonafide_scores.tolist() == bona and table.spoof_scores.tolist() == spoof
  assert speech_metrics.compute_eer(table.bonafide_scores, table.spoof_scores) == (
    speech_metrics.compute_eer(bona, spoof)
  )
  path.write_text("u1 - bonafide 1\nu2 A01 spoof 0\n")
  import warnings

  with warnings.catch_warnings():
    warnings.simplefilter("error")
    assert score_files.read_cm_scores(path).repeated == 0


def test_missing_score_file(tmp_path):
  with pytest.raises(score_files.ScoreFileError, match="does not exist"):
    score_files.read_cm_scores(tmp_path / "nope.txt")


def _asv_four_fields(tmp_path):
  # Trials on the CM utterances: targets/nontargets on bona fide, spoofs on spoofs.
  speakers = ["LA_0001"] * 8 + ["LA_0002"] * 4
  utterances = [
    "LA_E_1",
    "LA_E_2",
    "LA_E_3",
    "LA_E_1",
    "LA_E_2",
    "LA_E_3",
    "LA_E_1",
    "LA_E_2",
    "LA_E_4",
    "LA_E_5",
    "LA_E_6",
    "LA_E_4",
  ]
  keys = ["target"] * 4 + ["nontarget"] * 4 + ["spoof"] * 4
  scores = ASV_TARGET + ASV_NONTARGET + ASV_SPOOF
  return score_files.write_asv_scores(tmp_path / "asv.txt", speakers, utterances, keys, scores)


def test_asvspoof_report_from_files(tmp_path):
  cm = score_files.read_cm_scores(score_files.write_cm_scores(tmp_path / "cm.txt", *_cm_table()))
  asv = score_files.read_asv_scores(_asv_four_fields(tmp_path))
  assert asv.speakers[0] == "LA_0001" and asv.attacks is None
  report = speech_metrics.asvspoof_report(cm, asv)
  assert report["eer"] == pytest.approx(1 / 3) and report["eer_threshold"] == 2.0
  assert report["min_tdcf"] == pytest.approx(2 / 3) and report["asv_threshold"] == 2.0
  assert (report["num_bonafide"], report["num_spoof"]) == (3, 3)
  # A07 spoofs 0, 5 and A08 spoof 2 against bona fide 3, 4, 1.
  assert report["per_attack_eer"] == {
    "A07": speech_metrics.compute_eer(CM_BONAFIDE, [0.0, 5.0])[0],
    "A08": speech_metrics.compute_eer(CM_BONAFIDE, [2.0])[0],
  }
  assert "min_tdcf" not in speech_metrics.asvspoof_report(cm)


def test_organisers_three_field_asv_file(tmp_path):
  cm = score_files.read_cm_scores(score_files.write_cm_scores(tmp_path / "cm.txt", *_cm_table()))
  lines = (
    [f"bonafide target {s}" for s in ASV_TARGET]
    + [f"bonafide nontarget {s}" for s in ASV_NONTARGET]
    + [f"{a} spoof {s}" for a, s in zip(["A07", "A08", "A07", "A09"], ASV_SPOOF)]
  )
  path = tmp_path / "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt"
  path.write_text("\n".join(lines) + "\n")
  asv = score_files.read_asv_scores(path)
  assert asv.utterances is None and asv.attacks.tolist()[-1] == "A09"
  assert speech_metrics.asvspoof_report(cm, asv)["min_tdcf"] == pytest.approx(2 / 3)
  # The development ASV file (attacks A01–A06) with evaluation CM scores (A07, A08).
  path.write_text("\n".join(lines[:8] + ["A01 spoof 1.0", "A02 spoof 2.0"]) + "\n")
  with pytest.raises(score_files.ScoreFileError, match="attacks A07, A08 .*not belong"):
    speech_metrics.asvspoof_report(cm, score_files.read_asv_scores(path))
  path.write_text("bonafide spoof 1.0\n")
  with pytest.raises(score_files.ScoreFileError, match="bona fide trials are target/nontarget"):
    score_files.read_asv_scores(path)
  path.write_text("bonafide target 1.0\nLA_1 A01 spoof 2.0\n")
  with pytest.raises(score_files.ScoreFileError, match=":2: 4 fields where"):
    score_files.read_asv_scores(path)


def test_asv_file_that_does_not_match_the_cm_protocol(tmp_path):
  cm = score_files.read_cm_scores(score_files.write_cm_scores(tmp_path / "cm.txt", *_cm_table()))
  asv = score_files.read_asv_scores(_asv_four_fields(tmp_path))
  foreign = score_files.ASVScores(
    keys=asv.keys,
    scores=asv.scores,
    speakers=asv.speakers,
    utterances=np.where(asv.utterances == "LA_E_2", "LA_D_9", asv.utterances),
  )
  with pytest.raises(score_files.ScoreFileError, match="3 of 12 ASV trials .*LA_D_9.*not belong"):
    score_files.check_asv_matches_cm(foreign, cm)
  swapped = score_files.ASVScores(
    keys=asv.keys, scores=asv.scores, speakers=asv.speakers, utterances=np.roll(asv.utterances, 1)
  )
  with pytest.raises(score_files.ScoreFileError, match="disagree with the CM keys"):
    score_files.check_asv_matches_cm(swapped, cm)
  no_spoof = score_files.ASVScores(
    keys=asv.keys[:8],
    scores=asv.scores[:8],
    utterances=asv.utterances[:8],
    speakers=asv.speakers[:8],
  )
  with pytest.raises(score_files.ScoreFileError, match="no spoof trials"):
    speech_metrics.asvspoof_report(cm, no_spoof)
