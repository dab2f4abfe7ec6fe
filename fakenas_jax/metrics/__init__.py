"""Detection metrics, video-level scores, ASVspoof metrics and score files: pure NumPy.

Importing this package does not start JAX; trainer and evaluator both read their metrics here
(WORKSPACE.md, Floors).
"""

from fakenas_jax.metrics.asvspoof import (
  ASVSPOOF2019_COSTS,
  TDCFCosts,
  TDCFResult,
  asv_error_rates,
  asvspoof_report,
  compute_det_curve,
  compute_eer,
  min_tdcf,
  per_attack_eer,
)
from fakenas_jax.metrics.detection import (
  MetricInputError,
  accuracy,
  auc,
  average_precision,
  confusion_counts,
  detection_report,
  eer,
  f1,
  precision,
  recall,
  roc_curve,
)
from fakenas_jax.metrics.score_files import (
  ASVScores,
  CMScores,
  ScoreFileError,
  check_asv_matches_cm,
  read_asv_scores,
  read_cm_scores,
  write_asv_scores,
  write_cm_scores,
)
from fakenas_jax.metrics.video_level import VideoScores, video_report, video_scores

__all__ = [
  "ASVSPOOF2019_COSTS",
  "ASVScores",
  "CMScores",
  "MetricInputError",
  "ScoreFileError",
  "TDCFCosts",
  "TDCFResult",
  "VideoScores",
  "accuracy",
  "asv_error_rates",
  "asvspoof_report",
  "auc",
  "average_precision",
  "check_asv_matches_cm",
  "compute_det_curve",
  "compute_eer",
  "confusion_counts",
  "detection_report",
  "eer",
  "f1",
  "min_tdcf",
  "per_attack_eer",
  "precision",
  "read_asv_scores",
  "read_cm_scores",
  "recall",
  "roc_curve",
  "video_report",
  "video_scores",
  "write_asv_scores",
  "write_cm_scores",
]
