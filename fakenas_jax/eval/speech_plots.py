"""DET curves of countermeasures: P_miss against P_fa on normal-deviate (probit) axes.

    det_figure({"lcnn": cm_scores, "pcdarts": cm_scores}, "det.png")

The DET curve (Martin et al., Eurospeech 1997) of CM scores is the `metrics.asvspoof` DET
(bona fide rejected at ≤ t, spoof accepted at > t); both axes are Φ⁻¹ of the rate, so Gaussian
score distributions give straight lines; the EER point of each system is marked.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping

import numpy as np
from scipy import stats

from fakenas_jax.eval import plots
from fakenas_jax.metrics import asvspoof, score_files

TICKS = (0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95)


def probit(rates, floor: float = 5e-4) -> np.ndarray:
  """Φ⁻¹ of rates clipped to [floor, 1 − floor] (0 and 1 would be ∓∞)."""
  return stats.norm.ppf(np.clip(np.asarray(rates, np.float64), floor, 1 - floor))


def det_figure(
  systems: Mapping[str, score_files.CMScores], path: str | pathlib.Path, title: str = "DET"
) -> pathlib.Path:
  """One DET curve per system (label: name and EER), written as a PNG."""
  import matplotlib  # pylint: disable=import-outside-toplevel

  matplotlib.use("Agg")
  from matplotlib import pyplot  # pylint: disable=import-outside-toplevel

  figure, axis = pyplot.subplots(figsize=(5, 5))
  for name, cm in systems.items():
    miss, false_alarm, _ = asvspoof.compute_det_curve(cm.bonafide_scores, cm.spoof_scores)
    eer, _ = asvspoof.compute_eer(cm.bonafide_scores, cm.spoof_scores)
    axis.plot(probit(false_alarm), probit(miss), label=f"{name} (EER {100 * eer:.1f} %)")
    axis.plot(probit(eer), probit(eer), "k.", markersize=6)
  ticks = probit(TICKS)
  labels = [f"{100 * t:g}" for t in TICKS]
  axis.set_xticks(ticks, labels)
  axis.set_yticks(ticks, labels)
  axis.plot(ticks[[0, -1]], ticks[[0, -1]], ":", color="grey", linewidth=0.8)
  axis.set_xlabel("false acceptance rate of spoofs (%)")
  axis.set_ylabel("miss rate of bona fide speech (%)")
  axis.set_title(title)
  axis.grid(True, linewidth=0.3)
  axis.legend(loc="upper right", fontsize=8)
  return plots.save_figure(figure, path)
