"""What an evaluation writes besides the plots of `eval.plots`: the JSON report, the summary table
and the sample-predictions figure.

* `write_json` writes a report with NaN (an AUC of a one-class set) as `null`, so the file is
  standard JSON.
* `summary_rows` flattens {run: {corpus: result}} into one row per (run, corpus) with the frame-
  and video-level metrics, for `plots.markdown_table`.
* `save_sample_predictions` shows a few real and fake frames with P(fake) and, when the model
  has dense heads, each predicted map (ADD region, BiG-Arts intrinsic / extrinsic) beside its
  ground truth (face hull, intrinsic, extrinsic mask).
"""
from __future__ import annotations

import json
import math
import pathlib
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fakenas_jax.data import masks  # noqa: E402

# Predicted map → the ground-truth mask it is trained against.
TRUE_MASK_OF_MAP = masks.MASK_OF_OUTPUT
SUMMARY_METRICS = ("auc", "accuracy", "eer", "ap", "precision", "recall", "f1")


def _json_safe(value: Any) -> Any:
  if isinstance(value, Mapping):
    return {str(k): _json_safe(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_json_safe(v) for v in value]
  if isinstance(value, np.ndarray):
    return _json_safe(value.tolist())
  if isinstance(value, (np.integer,)):
    return int(value)
  if isinstance(value, (float, np.floating)):
    return None if math.isnan(value) or math.isinf(value) else float(value)
  return value


def write_json(report: Mapping[str, Any], path: str | pathlib.Path) -> pathlib.Path:
  """Writes `report` as indented JSON, NaN and infinities as null."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(_json_safe(report), indent=2, allow_nan=False))
  return path


def summary_rows(results: Mapping[str, Mapping[str, Mapping[str, Any]]]
                 ) -> dict[str, dict[str, Any]]:
  """{'run → corpus': {frame metrics, 'video ' metrics, counts}} for a markdown table."""
  rows = {}
  for run, corpora in results.items():
    for corpus_name, result in corpora.items():
      row: dict[str, Any] = {}
      for metric in SUMMARY_METRICS:
        row[f"frame {metric}"] = result["frame"][metric]
      for metric in ("auc", "accuracy", "eer"):
        row[f"video {metric}"] = result["video"][metric]
      row["frames"] = result["frame"]["num_examples"]
      row["videos"] = result["video"]["num_examples"]
      rows[f"{run} → {corpus_name}"] = row
  return rows


def save_sample_predictions(samples: Mapping[str, np.ndarray], path: str | pathlib.Path,
                            title: str = "") -> pathlib.Path:
  """One column per sample frame: the frame (label, P(fake)), predicted / true maps, then the
  true masks the model does not predict.

  `samples` is `inference.SplitPredictions.samples`: 'image' [K, S, S, 3] in [0, 1], 'label',
  'p_fake', the predicted maps by name and the ground truth as 'true_<mask>'.
  """
  if "image" not in samples or len(samples["image"]) == 0:
    raise ValueError("no sample frames to show")
  order = np.argsort(samples["label"], kind="stable")  # real first, then fake
  maps = [name for name in TRUE_MASK_OF_MAP if name in samples]
  shown = {TRUE_MASK_OF_MAP[name] for name in maps}
  truths = [name[len("true_"):] for name in samples
            if name.startswith("true_") and name[len("true_"):] not in shown]
  rows = 1 + 2 * len(maps) + len(truths)
  columns = len(order)
  figure, axes = plt.subplots(rows, columns, figsize=(1.7 * columns + 0.8, 1.8 * rows),
                              squeeze=False)
  for column, index in enumerate(order):
    label = "fake" if samples["label"][index] else "real"
    axes[0, column].imshow(samples["image"][index])
    axes[0, column].set_title(f"{label}\nP(fake) {samples['p_fake'][index]:.2f}", fontsize=8,
                              color="tab:red" if (samples["p_fake"][index] > 0.5)
                              != bool(samples["label"][index]) else "black")
    for offset, name in enumerate(maps):
      predicted = axes[1 + 2 * offset, column]
      truth = axes[2 + 2 * offset, column]
      predicted.imshow(samples[name][index][..., 0], cmap="magma", vmin=0.0, vmax=1.0)
      true_name = f"true_{TRUE_MASK_OF_MAP[name]}"
      if true_name in samples:
        truth.imshow(samples[true_name][index][..., 0], cmap="magma", vmin=0.0, vmax=1.0)
      else:
        truth.text(0.5, 0.5, "no mask", ha="center", va="center", fontsize=7)
      if column == 0:
        predicted.set_ylabel(f"{name}\npredicted", fontsize=8)
        truth.set_ylabel(f"{TRUE_MASK_OF_MAP[name]}\ntrue", fontsize=8)
    for offset, mask in enumerate(truths):  # ground truth the model does not predict
      axis = axes[1 + 2 * len(maps) + offset, column]
      axis.imshow(samples[f"true_{mask}"][index][..., 0], cmap="magma", vmin=0.0, vmax=1.0)
      if column == 0:
        axis.set_ylabel(f"{mask}\ntrue", fontsize=8)
  for axis in axes.flat:
    axis.set_xticks([])
    axis.set_yticks([])
  if title:
    figure.suptitle(title, fontsize=9)
  figure.tight_layout()
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  figure.savefig(path, dpi=100)
  plt.close(figure)
  return path
