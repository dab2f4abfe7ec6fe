"""Detection metrics and video-level scores against scikit-learn, SciPy and hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import interpolate, optimize
from sklearn import metrics as sk

from fakenas_jax.metrics import detection as metrics
from fakenas_jax.metrics import video_level


def _random_case(seed: int) -> tuple[np.ndarray, np.ndarray]:
  """Labels with both classes and scores that are tie-free, lightly or heavily tied."""
  rng = np.random.default_rng(seed)
  size = int(rng.integers(2, 400))
  labels = rng.integers(0, 2, size)
  labels[:2] = (0, 1)
  rng.shuffle(labels)
  kind = seed % 4
  if kind == 0:
    scores = rng.random(size)
  elif kind == 1:  # heavy ties, including exactly 0.5
    scores = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size)
  elif kind == 2:  # ties correlated with the label
    scores = np.round(np.clip(0.3 * labels + rng.normal(0.35, 0.2, size), 0, 1), 1)
  else:  # two values only, unbalanced classes
    labels = (rng.random(size) < 0.15).astype(int)
    labels[:2] = (0, 1)
    scores = rng.choice([0.2, 0.7], size)
  return labels, scores


SEEDS = range(120)


@pytest.mark.parametrize("seed", SEEDS)
def test_ranking_metrics_match_sklearn(seed):
  labels, scores = _random_case(seed)
  assert metrics.auc(labels, scores) == pytest.approx(sk.roc_auc_score(labels, scores), abs=1e-12)
  assert metrics.average_precision(labels, scores) == pytest.approx(
    sk.average_precision_score(labels, scores), abs=1e-12
  )
  fpr, tpr, thresholds = metrics.roc_curve(labels, scores)
  sk_fpr, sk_tpr, sk_thresholds = sk.roc_curve(labels, scores, drop_intermediate=False)
  np.testing.assert_allclose(fpr, sk_fpr, atol=1e-12)
  np.testing.assert_allclose(tpr, sk_tpr, atol=1e-12)
  np.testing.assert_array_equal(thresholds, sk_thresholds)
  # The Mann–Whitney AUC is the trapezoidal area under the curve.
  assert metrics.auc(labels, scores) == pytest.approx(np.trapezoid(tpr, fpr), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_threshold_metrics_match_sklearn(seed):
  labels, scores = _random_case(seed)
  predicted = (scores > 0.5).astype(int)
  assert metrics.accuracy(labels, scores) == pytest.approx(sk.accuracy_score(labels, predicted))
  assert metrics.precision(labels, scores) == pytest.approx(
    sk.precision_score(labels, predicted, zero_division=0)
  )
  assert metrics.recall(labels, scores) == pytest.approx(
    sk.recall_score(labels, predicted, zero_division=0)
  )
  assert metrics.f1(labels, scores) == pytest.approx(
    sk.f1_score(labels, predicted, zero_division=0)
  )
  tn, fp, fn, tp = sk.confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
  assert metrics.confusion_counts(labels, scores) == {"tp": tp, "fp": fp, "tn": tn, "fn": fn}


def _eer_by_root_finding(labels, scores) -> float:
  """Independent EER: the root of 1 − FPR − TPR(FPR) on sklearn's (thinned) ROC polyline."""
  fpr, tpr, _ = sk.roc_curve(labels, scores)
  tpr_at = interpolate.interp1d(fpr, tpr)
  return optimize.brentq(lambda x: 1.0 - x - tpr_at(x), 0.0, 1.0, xtol=1e-14)


@pytest.mark.parametrize("seed", [s for s in SEEDS if s % 4 == 0])
def test_eer_matches_root_finding_on_the_roc(seed):
  labels, scores = _random_case(seed)
  rate, threshold = metrics.eer(labels, scores)
  assert rate == pytest.approx(_eer_by_root_finding(labels, scores), abs=1e-9)
  assert scores.min() <= threshold <= scores.max()


def test_eer_hand_made():
  # Reals 0.2, 0.6; fakes 0.4, 0.7, 0.9. ROC points (FPR, TPR) at thresholds inf, .9, .7, .6, .4,
  # .2: (0,0) (0,1/3) (0,2/3) (1/2,2/3) (1/2,1) (1,1). FPR − FNR: −1, −2/3, −1/3, 1/6, 1/2, 1.
  # It crosses 0 between the points of .7 and .6 at w = (1/3) / (1/3 + 1/6) = 2/3 of the way:
  # EER = 0 + 2/3 · 1/2 = 1/3 (FNR there: 1 − 2/3 = 1/3), threshold .7 + 2/3 (.6 − .7) = .6333.
  labels = [0, 1, 0, 1, 1]
  scores = [0.2, 0.4, 0.6, 0.7, 0.9]
  rate, threshold = metrics.eer(labels, scores)
  assert rate == pytest.approx(1 / 3)
  assert threshold == pytest.approx(0.7 - 0.1 * 2 / 3)
  # Exactly on a ROC point: reals .1, .4; fakes .35, .8 → (0,1/2) at .8, (1/2,1/2) at .4.
  assert metrics.eer([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx((0.5, 0.4))
  # Perfect and inverted detectors.
  assert metrics.eer([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])[0] == 0.0
  assert metrics.eer([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])[0] == 1.0


def test_auc_hand_made_with_ties():
  # Pairs (fake, real): fakes .5, .9; reals .5, .1 → (.5,.5) tie = 1/2, (.5,.1) 1, (.9,·) 2.
  assert metrics.auc([1, 1, 0, 0], [0.5, 0.9, 0.5, 0.1]) == pytest.approx(3.5 / 4)


def test_threshold_is_strict_and_zero_division_is_zero():
  labels = [1, 0, 1]
  scores = [0.5, 0.5, 0.2]  # nothing is > 0.5: nothing called fake
  assert metrics.precision(labels, scores) == 0.0
  assert metrics.recall(labels, scores) == 0.0
  assert metrics.f1(labels, scores) == 0.0
  assert metrics.accuracy(labels, scores) == pytest.approx(1 / 3)
  assert metrics.precision(labels, scores, threshold=0.4) == 0.5
  assert metrics.recall([0, 0], [0.9, 0.1]) == 0.0  # no fake example


def test_single_class():
  with pytest.raises(metrics.MetricInputError, match="single class.*real"):
    metrics.auc([0, 0, 0], [0.1, 0.2, 0.3])
  with pytest.raises(metrics.MetricInputError, match="single class.*fake"):
    metrics.eer([1, 1], [0.1, 0.2])
  with pytest.raises(metrics.MetricInputError, match="single class"):
    metrics.roc_curve([1, 1], [0.1, 0.2])
  with pytest.raises(metrics.MetricInputError, match="without fake"):
    metrics.average_precision([0, 0], [0.1, 0.2])
  assert metrics.average_precision([1, 1], [0.1, 0.2]) == 1.0
  with pytest.warns(RuntimeWarning, match="undefined"):
    report = metrics.detection_report([1, 1, 1], [0.9, 0.2, 0.7])
  assert np.isnan(report["auc"]) and np.isnan(report["eer"]) and report["ap"] == 1.0
  assert report["accuracy"] == pytest.approx(2 / 3)
  assert (report["num_fake"], report["num_real"]) == (3, 0)


@pytest.mark.parametrize(
  "labels, scores, message",
  [
    ([0, 1, 1], [0.1, 0.2], "differ in length"),
    ([0, 1], [0.1, np.nan], "NaN"),
    ([0, 1], [0.1, np.inf], "infinite"),
    ([0, 2], [0.1, 0.2], "0 \\(real\\) or 1 \\(fake\\)"),
    ([[0, 1]], [[0.1, 0.2]], "1-D"),
    ([], [], "empty"),
    (["a", "b"], [0.1, 0.2], "dtype"),
  ],
)
def test_bad_inputs(labels, scores, message):
  with pytest.raises(metrics.MetricInputError, match=message):
    metrics.detection_report(labels, scores)


def test_detection_report_agrees_with_the_functions():
  labels, scores = _random_case(6)
  report = metrics.detection_report(labels, scores)
  assert report["auc"] == metrics.auc(labels, scores)
  assert report["ap"] == metrics.average_precision(labels, scores)
  assert (report["eer"], report["eer_threshold"]) == metrics.eer(labels, scores)
  for name in ("accuracy", "precision", "recall", "f1"):
    assert report[name] == getattr(metrics, name)(labels, scores)
  assert (
    report["num_examples"]
    == len(labels)
    == report["tp"] + report["fp"] + report["tn"] + report["fn"]
  )
  assert report["num_fake"] == int(np.sum(labels))


def test_video_scores_hand_made():
  # Batches padded at the end (valid False); ids as TFDS gives them (bytes).
  ids = np.array([b"v2", b"v1", b"v2", b"v3", b"v1", b"v3", b"v2", b"v9"], dtype=object)
  labels = [1, 0, 1, 1, 0, 1, 1, 0]
  scores = [0.9, 0.2, 0.7, 0.4, 0.4, 0.6, 0.5, 0.99]
  valid = [1, 1, 1, 1, 1, 1, 0, 0]
  videos = video_level.video_scores(ids, labels, scores, valid)
  assert videos.video_ids.tolist() == ["v1", "v2", "v3"]
  np.testing.assert_allclose(videos.scores, [0.3, 0.8, 0.5])  # v2's padded 0.5 is dropped
  assert videos.labels.tolist() == [0, 1, 1]
  assert videos.frame_counts.tolist() == [2, 2, 2]
  report = video_level.video_report(ids, labels, scores, valid)
  assert report["auc"] == 1.0 and report["num_examples"] == 3
  assert report["accuracy"] == pytest.approx(2 / 3)  # v3's mean 0.5 is not > 0.5


def test_video_scores_match_a_loop_on_random_frames():
  rng = np.random.default_rng(3)
  ids = rng.integers(0, 40, 500)
  video_label = rng.integers(0, 2, 40)
  labels = video_label[ids]
  scores = rng.random(500)
  valid = rng.random(500) < 0.9
  videos = video_level.video_scores(ids, labels, scores, valid)
  for video, label, score in zip(videos.video_ids, videos.labels, videos.scores):
    frames = (ids == video) & valid
    assert label == video_label[video]
    assert score == pytest.approx(scores[frames].mean())


def test_video_scores_errors():
  with pytest.raises(ValueError, match="different labels \\(b\\)"):
    video_level.video_scores(["a", "b", "b"], [0, 0, 1], [0.1, 0.2, 0.3])
  with pytest.raises(ValueError, match="differ in shape"):
    video_level.video_scores(["a", "b"], [0, 1], [0.1, 0.2], valid=[1, 1, 0])
  with pytest.raises(ValueError, match="no valid frame"):
    video_level.video_scores(["a", "b"], [0, 1], [0.1, 0.2], valid=[0, 0])
  with pytest.raises(ValueError, match="NaN"):
    video_level.video_scores(["a", "b"], [0, 1], [0.1, np.nan])
  # A NaN score on a padding row is dropped with the row.
  videos = video_level.video_scores(["a", "b", "b"], [0, 1, 1], [0.1, 0.2, np.nan], [1, 1, 0])
  assert videos.scores.tolist() == [0.1, 0.2]
