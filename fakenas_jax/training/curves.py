"""The training curves of a run as one PNG: losses, validation AUC or EER, accuracies, per epoch."""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LOSS_TERMS = (
  "train/loss",
  "train/classification",
  "train/auxiliary",
  "train/region",
  "train/intrinsic",
  "train/extrinsic",
  "val/loss",
)


def save_training_curves(
  history: Sequence[dict], path: str | pathlib.Path, title: str = ""
) -> pathlib.Path:
  """Three panels over the epochs of `history` (the trainer's per-epoch records)."""
  if not history:
    raise ValueError("no epoch in the history: nothing to plot")
  epochs = [record["epoch"] for record in history]
  figure, (loss_axes, auc_axes, acc_axes) = plt.subplots(1, 3, figsize=(13, 3.6))

  def plot(axes, name, label, **style):
    values = [record.get(name) for record in history]
    if any(value is not None for value in values):
      axes.plot(
        epochs, [float("nan") if v is None else v for v in values], marker=".", label=label, **style
      )

  for name in LOSS_TERMS:
    plot(loss_axes, name, name.replace("/", " "), linestyle="--" if name == "val/loss" else "-")
  loss_axes.set_title("loss")
  plot(auc_axes, "val/auc", "frame AUC")
  plot(auc_axes, "val/video_auc", "video AUC")
  plot(auc_axes, "val/eer", "EER")  # speech runs
  auc_axes.set_title("validation AUC / EER")
  auc_axes.set_ylim(0.0, 1.02)
  plot(acc_axes, "train/accuracy", "train")
  plot(acc_axes, "val/accuracy", "validation")
  acc_axes.set_title("accuracy")
  acc_axes.set_ylim(0.0, 1.02)
  for axes in (loss_axes, auc_axes, acc_axes):
    axes.set_xlabel("epoch")
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
      axes.legend(fontsize=7)
  if title:
    figure.suptitle(title)
  figure.tight_layout()
  path = pathlib.Path(path)
  figure.savefig(path, dpi=110)
  plt.close(figure)
  return path
