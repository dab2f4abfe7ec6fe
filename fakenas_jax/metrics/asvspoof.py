"""Spoofing-countermeasure metrics with the ASVspoof 2019 conventions: DET curve, EER, min t-DCF.

A countermeasure (CM) score is higher for bona fide speech. At threshold t an utterance is
accepted as bona fide when its score is > t, so

    P_miss^cm(t) = #{bona fide scores ≤ t} / #bona fide,
    P_fa^cm(t) = #{spoof scores > t} / #spoof.

`compute_det_curve` evaluates them at −inf (accept everything) and at every distinct score,
ascending; ties enter together, so every point is an operating point a threshold achieves (the
organisers' code steps through tied scores one at a time; on tie-free scores both curves are the
same). `compute_eer` takes the point where |P_miss − P_fa| is smallest (the first, if several)
and returns the mean of the two rates there, as the organisers' EER.

The tandem detection cost function (ASVspoof 2019 evaluation plan, §"t-DCF"; Kinnunen et al.,
Odyssey 2018) of a CM threshold s, with the ASV system fixed at its own EER threshold τ:

    C1 = P_tar (C_miss^cm − C_miss^asv P_miss^asv(τ)) − P_non C_fa^asv P_fa^asv(τ)
    C2 = C_fa^cm P_spoof (1 − P_miss,spoof^asv(τ))
    t-DCF(s) = C1 P_miss^cm(s) + C2 P_fa^cm(s),   normalised by min(C1, C2),

and min t-DCF is its minimum over the DET thresholds s. The ASV rates at τ count a trial with
score ≥ τ as accepted, as the organisers' code does (so that published numbers can be matched).

ASVspoof 5 (evaluation plan, track 1) ranks countermeasures by the normalised detection cost

    DCF(t) = [C_miss (1 − π_spoof) P_miss(t) + C_fa π_spoof P_fa(t)] / min(C_miss (1 − π_spoof),
             C_fa π_spoof),   π_spoof = 0.05, C_miss = 1, C_fa = 10  (= 1.9 P_miss + P_fa),

minDCF being its minimum over the DET thresholds and actDCF its value at the Bayes threshold of
scores read as natural-log likelihood ratios, t = −ln β with β = C_miss (1 − π_spoof) /
(C_fa π_spoof) (there a bona fide score < t is a miss and a spoof score ≥ t a false alarm, as
in the organisers' code). Cllr, the cost of the scores as log-likelihood ratios, is

    Cllr = ½ [mean_bonafide log2(1 + e^{−s}) + mean_spoof log2(1 + e^{s})]   (bits),

1 for an uninformative system (s ≡ 0) and 0 for a perfect, confident one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from fakenas_jax.metrics import score_files


@dataclasses.dataclass(frozen=True)
class TDCFCosts:
  """Priors and costs of the t-DCF; the defaults are those of ASVspoof 2019."""

  p_spoof: float = 0.05
  p_tar: float = (1 - 0.05) * 0.99
  p_non: float = (1 - 0.05) * 0.01
  c_miss_asv: float = 1.0
  c_fa_asv: float = 10.0
  c_miss_cm: float = 1.0
  c_fa_cm: float = 10.0

  def __post_init__(self):
    values = dataclasses.asdict(self)
    negative = [name for name, value in values.items() if value < 0]
    if negative:
      raise ValueError(f"t-DCF priors and costs must be ≥ 0; negative: {', '.join(negative)}")
    total = self.p_spoof + self.p_tar + self.p_non
    if abs(total - 1.0) > 1e-9:
      raise ValueError(f"t-DCF priors p_spoof + p_tar + p_non must sum to 1, got {total}")


ASVSPOOF2019_COSTS = TDCFCosts()


@dataclasses.dataclass(frozen=True)
class TDCFResult:
  """min t-DCF, the CM threshold reaching it, the whole normalised curve and the ASV terms."""

  min_tdcf: float
  threshold: float
  curve: np.ndarray  # normalised t-DCF at each DET threshold
  thresholds: np.ndarray
  asv_eer: float
  asv_threshold: float
  pfa_asv: float
  pmiss_asv: float
  pmiss_spoof_asv: float
  c1: float
  c2: float


def _scores(values, name: str) -> np.ndarray:
  array = np.asarray(values, dtype=np.float64)
  if array.ndim != 1 or array.size == 0:
    raise ValueError(f"{name} must be a non-empty 1-D array, got shape {array.shape}")
  if not np.isfinite(array).all():
    raise ValueError(
      f"{name} contain {int((~np.isfinite(array)).sum())} NaN or infinite "
      f"value(s); scores must be finite"
    )
  return array


def compute_det_curve(bonafide_scores, spoof_scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(P_miss, P_fa, thresholds) at −inf and at every distinct score, thresholds ascending.

  P_miss = fraction of bona fide scores ≤ threshold (rejected), P_fa = fraction of spoof scores
  > threshold (accepted). Works for any detector whose positive class scores higher (ASV too:
  target trials as `bonafide_scores`, nontarget trials as `spoof_scores`).
  """
  bonafide = _scores(bonafide_scores, "bona fide scores")
  spoof = _scores(spoof_scores, "spoof scores")
  scores = np.concatenate([bonafide, spoof])
  is_bonafide = np.r_[np.ones(bonafide.size, bool), np.zeros(spoof.size, bool)]
  order = np.argsort(scores, kind="stable")
  sorted_scores = scores[order]
  last_of_run = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
  bonafide_at_or_below = np.cumsum(is_bonafide[order])[last_of_run]
  spoof_at_or_below = last_of_run + 1 - bonafide_at_or_below
  miss = np.r_[0.0, bonafide_at_or_below / bonafide.size]
  false_alarm = np.r_[1.0, 1.0 - spoof_at_or_below / spoof.size]
  return miss, false_alarm, np.r_[-np.inf, sorted_scores[last_of_run]]


def compute_eer(bonafide_scores, spoof_scores) -> tuple[float, float]:
  """Equal error rate from the DET curve and its threshold: (eer, threshold).

  At the DET point where |P_miss − P_fa| is smallest (the lowest such threshold), the EER is
  (P_miss + P_fa) / 2 (ASVspoof 2019 evaluation plan).
  """
  miss, false_alarm, thresholds = compute_det_curve(bonafide_scores, spoof_scores)
  i = int(np.argmin(np.abs(miss - false_alarm)))
  return float((miss[i] + false_alarm[i]) / 2), float(thresholds[i])


def asv_error_rates(
  target_scores, nontarget_scores, spoof_scores, threshold: float
) -> tuple[float, float, float]:
  """ASV rates at `threshold`, a score ≥ it being accepted: (P_fa, P_miss, P_miss,spoof)."""
  target = _scores(target_scores, "ASV target scores")
  nontarget = _scores(nontarget_scores, "ASV nontarget scores")
  spoof = _scores(spoof_scores, "ASV spoof scores")
  return (
    float(np.mean(nontarget >= threshold)),
    float(np.mean(target < threshold)),
    float(np.mean(spoof < threshold)),
  )


def min_tdcf(
  bonafide_cm, spoof_cm, asv_target, asv_nontarget, asv_spoof, costs: TDCFCosts = ASVSPOOF2019_COSTS
) -> TDCFResult:
  """Minimum normalised t-DCF (ASVspoof 2019) of a CM given the organisers' ASV scores.

  The ASV operating point is its EER threshold on (target, nontarget) trials; the CM threshold
  sweeps the CM DET curve. See the module docstring for the formula.

  Raises:
    ValueError: empty or non-finite scores; C1 ≤ 0 or C2 ≤ 0 at the ASV operating point (the
      normalisation min(C1, C2) is then meaningless).
  """
  asv_eer, asv_threshold = compute_eer(asv_target, asv_nontarget)
  pfa_asv, pmiss_asv, pmiss_spoof_asv = asv_error_rates(
    asv_target, asv_nontarget, asv_spoof, asv_threshold
  )
  c1 = (
    costs.p_tar * (costs.c_miss_cm - costs.c_miss_asv * pmiss_asv)
    - costs.p_non * costs.c_fa_asv * pfa_asv
  )
  c2 = costs.c_fa_cm * costs.p_spoof * (1.0 - pmiss_spoof_asv)
  if c1 <= 0:
    raise ValueError(
      f"t-DCF weight C1 = {c1:.4g} ≤ 0 at the ASV EER threshold "
      f"{asv_threshold:.4g} (P_miss^asv = {pmiss_asv:.3f}, P_fa^asv = "
      f"{pfa_asv:.3f}): the ASV scores are too poor for the t-DCF"
    )
  if c2 <= 0:
    raise ValueError(
      f"t-DCF weight C2 = {c2:.4g} ≤ 0: the ASV system rejects every spoof at its "
      f"EER threshold {asv_threshold:.4g}, so a countermeasure cannot matter"
    )
  miss_cm, false_alarm_cm, thresholds = compute_det_curve(bonafide_cm, spoof_cm)
  curve = (c1 * miss_cm + c2 * false_alarm_cm) / min(c1, c2)
  best = int(np.argmin(curve))
  return TDCFResult(
    min_tdcf=float(curve[best]),
    threshold=float(thresholds[best]),
    curve=curve,
    thresholds=thresholds,
    asv_eer=asv_eer,
    asv_threshold=asv_threshold,
    pfa_asv=pfa_asv,
    pmiss_asv=pmiss_asv,
    pmiss_spoof_asv=pmiss_spoof_asv,
    c1=float(c1),
    c2=float(c2),
  )


@dataclasses.dataclass(frozen=True)
class DCFCosts:
  """Prior and costs of the ASVspoof 5 DCF (evaluation plan, track 1)."""

  p_spoof: float = 0.05
  c_miss: float = 1.0
  c_fa: float = 10.0

  def __post_init__(self):
    if not 0.0 < self.p_spoof < 1.0:
      raise ValueError(f"DCF prior p_spoof must lie in (0, 1), got {self.p_spoof}")
    if self.c_miss <= 0 or self.c_fa <= 0:
      raise ValueError(f"DCF costs must be > 0, got c_miss {self.c_miss}, c_fa {self.c_fa}")

  @property
  def weights(self) -> tuple[float, float]:
    """(C_miss (1 − π), C_fa π): the unnormalised weights of P_miss and P_fa."""
    return self.c_miss * (1.0 - self.p_spoof), self.c_fa * self.p_spoof

  @property
  def bayes_threshold(self) -> float:
    """−ln β, β = C_miss (1 − π) / (C_fa π): the LLR threshold of the Bayes decision."""
    miss_weight, fa_weight = self.weights
    return float(-np.log(miss_weight / fa_weight))


ASVSPOOF5_COSTS = DCFCosts()


def min_dcf(
  bonafide_scores, spoof_scores, costs: DCFCosts = ASVSPOOF5_COSTS
) -> tuple[float, float]:
  """Minimum normalised DCF over the DET thresholds and its threshold: (min_dcf, threshold)."""
  miss, false_alarm, thresholds = compute_det_curve(bonafide_scores, spoof_scores)
  miss_weight, fa_weight = costs.weights
  curve = (miss_weight * miss + fa_weight * false_alarm) / min(miss_weight, fa_weight)
  best = int(np.argmin(curve))
  return float(curve[best]), float(thresholds[best])


def act_dcf(
  bonafide_scores, spoof_scores, costs: DCFCosts = ASVSPOOF5_COSTS
) -> tuple[float, float]:
  """Normalised DCF at the Bayes threshold of LLR scores: (act_dcf, threshold)."""
  bonafide = _scores(bonafide_scores, "bona fide scores")
  spoof = _scores(spoof_scores, "spoof scores")
  threshold = costs.bayes_threshold
  miss_weight, fa_weight = costs.weights
  cost = miss_weight * np.mean(bonafide < threshold) + fa_weight * np.mean(spoof >= threshold)
  return float(cost / min(miss_weight, fa_weight)), threshold


def cllr(bonafide_scores, spoof_scores) -> float:
  """Log-likelihood-ratio cost in bits of scores read as natural-log LLRs (bona fide vs spoof)."""
  bonafide = _scores(bonafide_scores, "bona fide scores")
  spoof = _scores(spoof_scores, "spoof scores")
  return float(
    (np.mean(np.logaddexp(0.0, -bonafide)) + np.mean(np.logaddexp(0.0, spoof)))
    / (2.0 * np.log(2.0))
  )


def cm_summary(bonafide_scores, spoof_scores, costs: DCFCosts = ASVSPOOF5_COSTS) -> dict:
  """EER, minDCF, actDCF, Cllr and the counts of one set of CM scores."""
  bonafide = _scores(bonafide_scores, "bona fide scores")
  spoof = _scores(spoof_scores, "spoof scores")
  return {
    "eer": compute_eer(bonafide, spoof)[0],
    "min_dcf": min_dcf(bonafide, spoof, costs)[0],
    "act_dcf": act_dcf(bonafide, spoof, costs)[0],
    "cllr": cllr(bonafide, spoof),
    "num_bonafide": int(bonafide.size),
    "num_spoof": int(spoof.size),
  }


def per_attack_table(
  cm: score_files.CMScores, costs: DCFCosts = ASVSPOOF5_COSTS
) -> dict[str, dict]:
  """`cm_summary` of all bona fide scores against the spoofs of each attack, by attack id."""
  return {
    str(attack): cm_summary(cm.bonafide_scores, cm.spoof_scores[cm.spoof_attacks == attack], costs)
    for attack in np.unique(cm.spoof_attacks)
  }


def per_condition_table(
  cm: score_files.CMScores, conditions, costs: DCFCosts = ASVSPOOF5_COSTS
) -> dict[str, dict]:
  """`cm_summary` of the bona fide and spoof utterances of each condition (ASVspoof 2021's
  per-condition pooled results: codec, transmission, source), by condition value.

  `conditions` maps every utterance of `cm` to its condition (a dict, or an array aligned with
  `cm.utterances`); a condition with no bona fide or no spoof utterance is reported with its
  counts and None metrics.
  """
  if isinstance(conditions, dict):
    missing = [u for u in cm.utterances.tolist() if u not in conditions]
    if missing:
      raise ValueError(
        f"{len(missing)} utterance(s) have no condition, e.g. {', '.join(missing[:3])}"
      )
    values = np.array([str(conditions[u]) for u in cm.utterances.tolist()])
  else:
    values = np.asarray(conditions).astype(str)
    if values.shape != cm.utterances.shape:
      raise ValueError(
        f"conditions have shape {values.shape}, the CM scores "
        f"{cm.utterances.shape}; every utterance needs its condition"
      )
  table = {}
  for value in np.unique(values):
    here = values == value
    bonafide = cm.scores[here & (cm.keys == "bonafide")]
    spoof = cm.scores[here & (cm.keys == "spoof")]
    if bonafide.size and spoof.size:
      table[str(value)] = cm_summary(bonafide, spoof, costs)
    else:
      table[str(value)] = {
        "eer": None,
        "min_dcf": None,
        "act_dcf": None,
        "cllr": None,
        "num_bonafide": int(bonafide.size),
        "num_spoof": int(spoof.size),
      }
  return table


def per_attack_eer(bonafide_scores, spoof_scores, spoof_attacks) -> dict[str, float]:
  """EER of all bona fide scores against the spoofs of each attack, by attack id (sorted)."""
  spoof = _scores(spoof_scores, "spoof scores")
  attacks = np.asarray(spoof_attacks).astype(str)
  if attacks.shape != spoof.shape:
    raise ValueError(
      f"spoof_attacks has shape {attacks.shape}, spoof scores {spoof.shape}; "
      f"every spoof score needs its attack id"
    )
  return {
    str(attack): compute_eer(bonafide_scores, spoof[attacks == attack])[0]
    for attack in np.unique(attacks)
  }


def asvspoof_report(
  cm: score_files.CMScores,
  asv: score_files.ASVScores | None = None,
  costs: TDCFCosts = ASVSPOOF2019_COSTS,
  dcf_costs: DCFCosts = ASVSPOOF5_COSTS,
) -> dict:
  """EER, its threshold, minDCF / actDCF / Cllr (ASVspoof 5), per-attack EER and table, counts
  and (with ASV scores) min t-DCF of CM scores.

  Raises:
    score_files.ScoreFileError: ASV scores that do not belong to the CM scores' protocol.
    ValueError: CM scores without bona fide or without spoof utterances.
  """
  if not (cm.keys == "bonafide").any() or not (cm.keys == "spoof").any():
    raise ValueError(
      f"the CM scores need bona fide and spoof utterances; they have "
      f"{int((cm.keys == 'bonafide').sum())} bona fide and "
      f"{int((cm.keys == 'spoof').sum())} spoof"
    )
  eer, threshold = compute_eer(cm.bonafide_scores, cm.spoof_scores)
  report = {
    "eer": eer,
    "eer_threshold": threshold,
    "num_bonafide": int(cm.bonafide_scores.size),
    "num_spoof": int(cm.spoof_scores.size),
    "per_attack_eer": per_attack_eer(cm.bonafide_scores, cm.spoof_scores, cm.spoof_attacks),
    "min_dcf": min_dcf(cm.bonafide_scores, cm.spoof_scores, dcf_costs)[0],
    "act_dcf": act_dcf(cm.bonafide_scores, cm.spoof_scores, dcf_costs)[0],
    "cllr": cllr(cm.bonafide_scores, cm.spoof_scores),
    "per_attack": per_attack_table(cm, dcf_costs),
  }
  if asv is not None:
    score_files.check_asv_matches_cm(asv, cm)
    tdcf = min_tdcf(
      cm.bonafide_scores,
      cm.spoof_scores,
      asv.scores_of("target"),
      asv.scores_of("nontarget"),
      asv.scores_of("spoof"),
      costs,
    )
    report.update(
      min_tdcf=tdcf.min_tdcf,
      min_tdcf_threshold=tdcf.threshold,
      asv_eer=tdcf.asv_eer,
      asv_threshold=tdcf.asv_threshold,
    )
  return report
