"""Binary detection metrics with the face-forgery field's conventions, in NumPy.

Labels: fake = 1, real = 0; a score is P(fake), higher = more likely fake. FD-NAS §4.1 reports
ACC and AUC, ADD §IV AUC, BiG-Arts §4.1–4.2 AUC, accuracy, precision, recall, F1 and EER; AP
completes the set the field's tools report.

* `roc_curve` has one point per distinct score (ties form one point, as scikit-learn's
  ``roc_curve(..., drop_intermediate=False)``), starting at (0, 0) with threshold +inf; a score
  ≥ the threshold is called fake.
* `auc` is the exact area under that curve, computed as the Mann–Whitney statistic: the
  probability that a random fake outscores a random real, a tie counting one half.
* `average_precision` is the step-wise sum Σ (R_k − R_{k−1}) P_k over the distinct thresholds
  (scikit-learn's definition; no interpolation).
* `eer` is where the false-positive and false-negative rates meet on the ROC, found by linear
  interpolation between the two ROC points that bracket FPR = FNR.
* `accuracy`, `precision`, `recall`, `f1` call a score fake when it is strictly greater than the
  threshold (0.5), so a two-logit network's argmax (a tie goes to class 0) and P(fake) > 0.5 agree.
  A ratio whose denominator is zero (precision with nothing called fake, recall with no fake
  example, F1 with precision + recall = 0) is 0, as scikit-learn's ``zero_division=0``.

Single class: AUC and EER need fakes and reals, AP needs at least one fake; the functions raise
`MetricInputError` saying so. `detection_report` instead reports those entries as NaN with a
`RuntimeWarning`, so the accuracy and counts of a one-class set (e.g. one manipulation method's
fakes alone) are still reported.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

DEFAULT_THRESHOLD = 0.5


class MetricInputError(ValueError):
  """Labels or scores a metric cannot be computed from."""


def check_binary_inputs(labels, scores) -> tuple[np.ndarray, np.ndarray]:
  """Validates labels (0 real / 1 fake) and finite scores; returns (bool labels, float64 scores).

  Raises:
    MetricInputError: shapes that are not 1-D or differ, no examples, labels other than 0/1,
      scores that are NaN or infinite.
  """
  labels = np.asarray(labels)
  scores = np.asarray(scores)
  if labels.ndim != 1 or scores.ndim != 1:
    raise MetricInputError(
      f"labels and scores must be 1-D arrays, got shapes {labels.shape} and {scores.shape}"
    )
  if labels.shape != scores.shape:
    raise MetricInputError(
      f"labels and scores differ in length: {labels.shape[0]} labels, {scores.shape[0]} scores"
    )
  if labels.size == 0:
    raise MetricInputError("no examples: labels and scores are empty")
  if labels.dtype != bool:
    if not (np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)):
      raise MetricInputError(
        f"labels must be 0 (real) / 1 (fake) numbers or booleans, got dtype {labels.dtype}"
      )
    found = np.unique(labels)
    if not np.isin(found, (0, 1)).all():
      raise MetricInputError(
        f"labels must be 0 (real) or 1 (fake); found {found[~np.isin(found, (0, 1))][:5].tolist()}"
      )
  if not (
    np.issubdtype(scores.dtype, np.floating)
    or np.issubdtype(scores.dtype, np.integer)
    or scores.dtype == bool
  ):
    raise MetricInputError(f"scores must be numbers, got dtype {scores.dtype}")
  scores = scores.astype(np.float64)
  bad = ~np.isfinite(scores)
  if bad.any():
    kinds = "NaN" if np.isnan(scores).any() else "infinite"
    raise MetricInputError(
      f"{int(bad.sum())} score(s) are NaN or infinite ({kinds} at index "
      f"{int(np.flatnonzero(bad)[0])}); scores must be finite"
    )
  return labels.astype(bool), scores


def _require_both_classes(labels: np.ndarray, metric: str) -> None:
  fakes = int(labels.sum())
  if fakes == 0 or fakes == labels.size:
    present = "fake (1)" if fakes else "real (0)"
    raise MetricInputError(
      f"{metric} is undefined with a single class: all {labels.size} "
      f"examples are {present}; it needs both real (0) and fake (1) examples"
    )


def _distinct_threshold_counts(labels: np.ndarray, scores: np.ndarray):
  """Cumulative (true positives, false positives, threshold) at each distinct score, descending."""
  order = np.argsort(-scores, kind="stable")
  sorted_scores = scores[order]
  sorted_labels = labels[order]
  # The last position of every run of equal scores: ties enter the curve together.
  last_of_run = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
  true_positives = np.cumsum(sorted_labels)[last_of_run]
  false_positives = last_of_run + 1 - true_positives
  return true_positives, false_positives, sorted_scores[last_of_run]


def roc_curve(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """ROC curve: (false-positive rate, true-positive rate, thresholds), thresholds descending.

  Point i calls fake every example with score ≥ thresholds[i]; point 0 is (0, 0) at +inf, and
  there is one further point per distinct score, the last one being (1, 1).
  """
  labels, scores = check_binary_inputs(labels, scores)
  _require_both_classes(labels, "the ROC curve")
  true_positives, false_positives, thresholds = _distinct_threshold_counts(labels, scores)
  positives = true_positives[-1]
  negatives = false_positives[-1]
  fpr = np.r_[0.0, false_positives / negatives]
  tpr = np.r_[0.0, true_positives / positives]
  return fpr, tpr, np.r_[np.inf, thresholds]


def auc(labels, scores) -> float:
  """Area under the ROC curve, exact with ties: the Mann–Whitney U statistic / (n_fake · n_real).

  U = Σ ranks of the fakes − n_fake (n_fake + 1) / 2 with average ranks for ties, i.e. the
  probability that a random fake scores above a random real, a tie counting 1/2.
  """
  labels, scores = check_binary_inputs(labels, scores)
  _require_both_classes(labels, "AUC")
  ranks = stats.rankdata(scores, method="average")
  fakes = int(labels.sum())
  reals = labels.size - fakes
  u_statistic = ranks[labels].sum() - fakes * (fakes + 1) / 2.0
  return float(u_statistic / (fakes * reals))


def average_precision(labels, scores) -> float:
  """Average precision AP = Σ_k (R_k − R_{k−1}) · P_k over the distinct thresholds, R_0 = 0.

  Step-wise (no interpolation), as scikit-learn's ``average_precision_score``. Needs at least one
  fake example; with fakes only it is 1.
  """
  labels, scores = check_binary_inputs(labels, scores)
  if not labels.any():
    raise MetricInputError(
      f"average precision is undefined without fake examples: all "
      f"{labels.size} examples are real (0)"
    )
  true_positives, false_positives, _ = _distinct_threshold_counts(labels, scores)
  precision = true_positives / (true_positives + false_positives)
  recall = true_positives / true_positives[-1]
  return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def eer(labels, scores) -> tuple[float, float]:
  """Equal error rate and its threshold: where FPR = FNR (= 1 − TPR) on the ROC curve.

  The ROC is read as the polyline through its points; FPR − FNR grows along it from −1 to 1, and
  the EER is where it crosses 0, linearly interpolated between the two bracketing points. The
  threshold is interpolated the same way between theirs (the finite one when the other is the
  +inf of the first point); scores ≥ it are called fake.

  Returns:
    (eer, threshold).
  """
  fpr, tpr, thresholds = roc_curve(labels, scores)
  gap = fpr - (1.0 - tpr)  # −1 at the first point, +1 at the last, non-decreasing
  i = int(np.argmax(gap >= 0))
  if gap[i] == 0:
    return float(fpr[i]), float(thresholds[i])
  weight = -gap[i - 1] / (gap[i] - gap[i - 1])
  rate = fpr[i - 1] + weight * (fpr[i] - fpr[i - 1])
  if np.isinf(thresholds[i - 1]):
    threshold = thresholds[i]
  else:
    threshold = thresholds[i - 1] + weight * (thresholds[i] - thresholds[i - 1])
  return float(rate), float(threshold)


def confusion_counts(labels, scores, threshold: float = DEFAULT_THRESHOLD) -> dict[str, int]:
  """Counts of true/false positives/negatives when a score > `threshold` is called fake."""
  labels, scores = check_binary_inputs(labels, scores)
  predicted_fake = scores > threshold
  return {
    "tp": int(np.sum(predicted_fake & labels)),
    "fp": int(np.sum(predicted_fake & ~labels)),
    "tn": int(np.sum(~predicted_fake & ~labels)),
    "fn": int(np.sum(~predicted_fake & labels)),
  }


def _ratio(numerator: float, denominator: float) -> float:
  return float(numerator / denominator) if denominator else 0.0


def accuracy(labels, scores, threshold: float = DEFAULT_THRESHOLD) -> float:
  """Fraction of examples classified correctly, a score > `threshold` being called fake."""
  counts = confusion_counts(labels, scores, threshold)
  return _ratio(counts["tp"] + counts["tn"], sum(counts.values()))


def precision(labels, scores, threshold: float = DEFAULT_THRESHOLD) -> float:
  """TP / (TP + FP) for the fake class; 0 when nothing is called fake."""
  counts = confusion_counts(labels, scores, threshold)
  return _ratio(counts["tp"], counts["tp"] + counts["fp"])


def recall(labels, scores, threshold: float = DEFAULT_THRESHOLD) -> float:
  """TP / (TP + FN) for the fake class (the true-positive rate); 0 without fake examples."""
  counts = confusion_counts(labels, scores, threshold)
  return _ratio(counts["tp"], counts["tp"] + counts["fn"])


def f1(labels, scores, threshold: float = DEFAULT_THRESHOLD) -> float:
  """Harmonic mean of precision and recall, 2TP / (2TP + FP + FN); 0 when TP = 0."""
  counts = confusion_counts(labels, scores, threshold)
  return _ratio(2 * counts["tp"], 2 * counts["tp"] + counts["fp"] + counts["fn"])


def detection_report(labels, scores, threshold: float = DEFAULT_THRESHOLD) -> dict[str, float]:
  """All the detection metrics of one set of examples, as a flat dict of numbers.

  Keys: auc, ap, eer, eer_threshold (ranking metrics; NaN with a `RuntimeWarning` when the set
  lacks the classes they need), accuracy, precision, recall, f1 and threshold (at `threshold`),
  and the counts num_examples, num_fake, num_real, tp, fp, tn, fn.
  """
  labels, scores = check_binary_inputs(labels, scores)
  fakes = int(labels.sum())
  reals = labels.size - fakes
  report: dict[str, float] = {}
  if fakes and reals:
    report["auc"] = auc(labels, scores)
    report["ap"] = average_precision(labels, scores)
    report["eer"], report["eer_threshold"] = eer(labels, scores)
  else:
    present = "fake (1)" if fakes else "real (0)"
    warnings.warn(
      f"all {labels.size} examples are {present}: AUC and EER are undefined and "
      f"reported as NaN" + ("" if fakes else ", and so is AP"),
      RuntimeWarning,
      stacklevel=2,
    )
    report["auc"] = float("nan")
    report["ap"] = average_precision(labels, scores) if fakes else float("nan")
    report["eer"] = report["eer_threshold"] = float("nan")
  counts = confusion_counts(labels, scores, threshold)
  report["accuracy"] = _ratio(counts["tp"] + counts["tn"], labels.size)
  report["precision"] = _ratio(counts["tp"], counts["tp"] + counts["fp"])
  report["recall"] = _ratio(counts["tp"], counts["tp"] + counts["fn"])
  report["f1"] = _ratio(2 * counts["tp"], 2 * counts["tp"] + counts["fp"] + counts["fn"])
  report["threshold"] = float(threshold)
  report.update(num_examples=int(labels.size), num_fake=fakes, num_real=reals, **counts)
  return report
