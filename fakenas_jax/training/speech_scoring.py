"""Countermeasure scores of a speech detector: the bona fide logit of every utterance of a split.

    score = jax.jit(make_score_step(model, modality))
    scores = score_split(score, variables, pipeline, mesh)     # SplitScores, one per utterance
    scores.cm_scores()                                         # score_files.CMScores
    validation_metrics(scores)                                 # {'val/eer', 'val/accuracy', …}

The score of an utterance is the logit of the bona fide class (label 0): higher = more bona fide
(WORKSPACE.md, Speech: "Scores: the bona fide logit"; a network with
one fake logit scores its negation). The network's input (the LFCC, or the waveform for a sinc front end)
is made from the audio inside the compiled step (no masking). The pipeline is an evaluation pipeline (`training=False`): every utterance
once, the last batch padded; padding rows (`valid` False) are dropped here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import tqdm
from jax.experimental import multihost_utils

from fakenas_jax import parallel
from fakenas_jax.data import modality as modality_lib
from fakenas_jax.data import speech_pipeline
from fakenas_jax.metrics import asvspoof as speech_metrics
from fakenas_jax.metrics import score_files
from fakenas_jax.training import losses

_COLUMNS = ("label", "attack", "utterance", "valid")


def bonafide_score(logits: jax.Array) -> jax.Array:
  """The bona fide logit (class 0); for one fake logit, its negation."""
  return -logits[:, 0] if logits.shape[-1] == 1 else logits[:, 0]


def make_score_step(
  model, modality: modality_lib.Speech
) -> Callable[[Any, jax.Array], dict[str, jax.Array]]:
  """score(variables, audio (B, N)) → {'score': bona fide logit [B], 'p_fake': P(spoof) [B]}.

  The network's input is made by `modality` (no augmentation): the LFCC image, or the waveform
  itself for a network whose first layer is the sinc front end (`models.sinc_frontend`).
  """

  def score(variables, waveforms):
    inputs = modality.network_input({"audio": waveforms}, train=False)
    logits = model.apply(variables, inputs, train=False)["logits"]
    return {
      "score": bonafide_score(logits.astype(np.float32)),
      "p_fake": losses.fake_probability(logits),
    }

  return score


@dataclasses.dataclass(frozen=True)
class SplitScores:
  """Per valid utterance, in pipeline order."""

  utterances: np.ndarray  # str: utterance ids
  attacks: np.ndarray  # str: '-' for bona fide, else the attack id
  labels: np.ndarray  # int32: 0 bona fide, 1 spoof
  scores: np.ndarray  # float32: bona fide logit
  p_fake: np.ndarray  # float32: P(spoof)

  def cm_scores(self) -> score_files.CMScores:
    keys = np.where(self.labels == 0, "bonafide", "spoof")
    return score_files.CMScores(self.utterances, self.attacks, keys, self.scores)


def _gather(array: jax.Array) -> np.ndarray:
  if jax.process_count() > 1:
    return np.asarray(multihost_utils.process_allgather(array, tiled=True))
  return np.asarray(jax.device_get(array))


def score_split(
  score: Callable,
  variables: Any,
  pipeline: speech_pipeline.SpeechPipeline,
  mesh: jax.sharding.Mesh,
  *,
  max_batches: int | None = None,
  progress: bool = False,
  description: str = "score",
) -> SplitScores:
  """Runs `score` over every batch of `pipeline` (at most `max_batches`)."""
  columns: dict[str, list[np.ndarray]] = {name: [] for name in ("score", "p_fake") + _COLUMNS}
  batches = pipeline.num_batches if max_batches is None else min(max_batches, pipeline.num_batches)
  iterator = iter(pipeline)
  for _ in tqdm.tqdm(range(batches), desc=description, disable=not progress, leave=False):
    batch = next(iterator)
    placed = parallel.shard_batch({name: batch[name] for name in ("audio",) + _COLUMNS}, mesh)
    outputs = score(variables, placed["audio"])
    host = {name: _gather(value) for name, value in outputs.items()}
    host.update({name: _gather(placed[name]) for name in _COLUMNS})
    valid = host["valid"].astype(bool)
    for name in columns:
      columns[name].append(host[name][valid])
  values = {name: np.concatenate(parts) for name, parts in columns.items()}
  return SplitScores(
    utterances=np.asarray(pipeline.utterance_ids, dtype=str)[values["utterance"]],
    attacks=np.asarray(pipeline.attack_names, dtype=str)[values["attack"]],
    labels=values["label"].astype(np.int32),
    scores=values["score"].astype(np.float32),
    p_fake=values["p_fake"].astype(np.float32),
  )


def validation_metrics(scores: SplitScores) -> dict[str, float]:
  """EER of the bona fide logit (when both classes are present), accuracy and cross-entropy of
  P(spoof) at 0.5."""
  labels, p_fake = scores.labels, scores.p_fake
  result = {"val/accuracy": float(((p_fake > 0.5) == (labels == 1)).mean())}
  p_label = np.clip(np.where(labels == 1, p_fake, 1.0 - p_fake), 1e-7, 1.0)
  result["val/loss"] = float(-np.log(p_label).mean())
  if 0 < labels.sum() < len(labels):
    result["val/eer"] = speech_metrics.compute_eer(
      scores.scores[labels == 0], scores.scores[labels == 1]
    )[0]
  return result
