"""Validation of a detector after each training epoch, by its modality (`data.modality`).

    validate = make_validator(modality, model)
    metrics = validate(variables, pipeline, mesh, max_batches=None, progress=False)

* faces — frame AUC, accuracy and cross-entropy of P(fake), and video AUC (FD-NAS §4.1 reports
  AUC); the best checkpoint is the one of highest `val/auc`;
* speech — EER of the bona fide score (ASVspoof), accuracy and cross-entropy of P(spoof); the
  best checkpoint is the one of lowest `val/eer` (`modality.best_metric`).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np

from fakenas_jax.data import modality as modality_lib
from fakenas_jax.metrics import detection, video_level
from fakenas_jax.training import inference, speech_scoring, steps

Validator = Callable[..., dict[str, float]]


def face_metrics(predictions: inference.SplitPredictions) -> dict[str, float]:
  """Frame AUC, accuracy and cross-entropy of P(fake), and video AUC, of a validation split."""
  labels, scores = predictions.labels, predictions.p_fake
  both_classes = 0 < labels.sum() < len(labels)
  result = {"val/accuracy": detection.accuracy(labels, scores)}
  p_label = np.clip(np.where(labels == 1, scores, 1.0 - scores), 1e-7, 1.0)
  result["val/loss"] = float(-np.log(p_label).mean())
  if both_classes:
    result["val/auc"] = detection.auc(labels, scores)
    videos = video_level.video_scores(predictions.frame_video_ids, labels, scores)
    if 0 < videos.labels.sum() < len(videos.labels):
      result["val/video_auc"] = detection.auc(videos.labels, videos.scores)
  return result


def _face_validator(model, modality) -> Validator:
  del modality
  predict = jax.jit(steps.make_predict_step(model))

  def validate(variables, pipeline, mesh, **options):
    return face_metrics(
      inference.predict_split(
        predict, variables, pipeline, mesh, description="validation", **options
      )
    )

  return validate


def _speech_validator(model, modality) -> Validator:
  score = jax.jit(speech_scoring.make_score_step(model, modality))

  def validate(variables, pipeline, mesh, **options):
    return speech_scoring.validation_metrics(
      speech_scoring.score_split(
        score, variables, pipeline, mesh, description="validation", **options
      )
    )

  return validate


VALIDATORS = {"face": _face_validator, "speech": _speech_validator}


def make_validator(modality: modality_lib.Modality, model) -> Validator:
  """validate(variables, pipeline, mesh, *, max_batches=None, progress=False) → metrics."""
  return VALIDATORS[modality.name](model, modality)
