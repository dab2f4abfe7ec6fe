"""What the search loop asks of the collapse guards and the cost model, at a few fixed points.

nas/search.py calls, per epoch after deriving the genotype, `end_of_epoch` (the caps, the
parameter-free count, the dominant Hessian eigenvalue: nas/collapse.py), before each epoch
`stop_reason` (DARTS+ early stop, a pure rule on the history, so a resumed run stops where an
uninterrupted one does), and at the end `genotype_metadata` (the guards' record and the size
of the network built from the genotype: nas/cost.py) and `write_plots`. Options live in
`config.guards` (configs/search/default.py); absent or off, every hook is a no-op.
"""

from __future__ import annotations

import pathlib

import jax
import numpy as np

from fakenas_jax.nas import collapse, cost, network_loss
from fakenas_jax.nn import genotypes

EIGENVALUE = "guards/hessian_eigenvalue"
PARAMETER_FREE = "guards/parameter_free_ops"
PARAMETER_FREE_REDUCE = "guards/parameter_free_ops_reduce"
REPLACED = "guards/skips_replaced"
FREE_REPLACED = "guards/parameter_free_replaced"


def _cap(guards: dict, name: str) -> int:
  """A cap's limit from the guards (0 or absent = no cap)."""
  return int(guards.get(name, 0) or 0)


def capped_cells(guards: dict) -> tuple[str, ...]:
  """The cells the caps apply to: `guards.cap_cells` 'normal' (P-DARTS) or 'both'."""
  value = guards.get("cap_cells", "normal") or "normal"
  if value not in ("normal", "both"):
    raise ValueError(f"guards.cap_cells must be 'normal' or 'both', got {value!r}")
  return ("normal", "reduce") if value == "both" else ("normal",)


def _guards(config) -> dict:
  guards = config.guards
  return {} if guards is None else dict(guards.to_dict() if hasattr(guards, "to_dict") else guards)


def end_of_epoch(
  config,
  genotype: genotypes.Genotype,
  importance: np.ndarray,
  op_names,
  *,
  network,
  state,
  estimation_batches,
  inputs,
  epoch: int,
):
  """(the genotype after the caps, guard metrics of the epoch for the log and history)."""
  guards = _guards(config)
  metrics = {}
  caps = (
    (REPLACED, "skip cap (P-DARTS)", collapse.cap_skips, _cap(guards, "max_skips")),
    (
      FREE_REPLACED,
      "parameter-free cap",
      collapse.cap_parameter_free,
      _cap(guards, "max_parameter_free"),
    ),
  )
  cells = capped_cells(guards)
  for key, title, cap, limit in caps:
    if limit <= 0:
      continue
    normal, replaced = cap(genotype.normal, importance[0], op_names, limit)
    reduce, replaced_reduce = genotype.reduce, []
    if "reduce" in cells:
      reduce, replaced_reduce = cap(genotype.reduce, importance[1], op_names, limit)
    genotype = genotypes.Genotype(normal, genotype.normal_concat, reduce, genotype.reduce_concat)
    metrics[key] = float(len(replaced) + len(replaced_reduce))
    for cell, records in (("normal", replaced), ("reduce", replaced_reduce)):
      if records and config.progress:
        print(
          f"{title} ({cell}): "
          + "; ".join(
            f"node {r['node']} <- {r['input']}: {r['replaced']} -> {r['replaced_by']}"
            for r in records
          ),
          flush=True,
        )
  metrics[PARAMETER_FREE] = float(collapse.parameter_free_count(genotype.normal))
  if "reduce" in cells:
    metrics[PARAMETER_FREE_REDUCE] = float(collapse.parameter_free_count(genotype.reduce))
  if guards.get("hessian", False) and epoch > config.warmup_epochs:
    metrics[EIGENVALUE] = hessian_eigenvalue(
      config, network, state, estimation_batches, inputs, epoch
    )
  return genotype, metrics


def hessian_eigenvalue(config, network, state, estimation_batches, inputs, epoch: int) -> float:
  """RobustDARTS' dominant eigenvalue of ∇²_α L_val on a held-out batch (mean over
  `guards.hessian_batches` batches; `estimation_batches()` → (search, held-out) batches)."""
  guards = _guards(config)
  iterations = int(guards.get("hessian_iterations", 20))
  class_weights = tuple(config.class_weights or ())
  cached = _EIGENVALUE_FNS.get((id(network), iterations, class_weights))
  if cached is None or cached[0] is not network:  # compiled once per supernet (k changes it)

    @jax.jit
    def eigenvalue(state, batch, key, inputs):
      loss_fn = network_loss.make_loss_fn(network, inputs, class_weights or None)

      def f(alpha):
        arch = dict(state.arch)
        arch["alpha"] = alpha
        return loss_fn(state.params, arch, state.model_state, batch, key)[0]

      return collapse.dominant_eigenvalue(f, state.arch["alpha"], key, iterations)

    _EIGENVALUE_FNS.clear()
    cached = _EIGENVALUE_FNS[(id(network), iterations, class_weights)] = (network, eigenvalue)
  eigenvalue = cached[1]
  _, held_out = estimation_batches()
  values = []
  for index, batch in enumerate(held_out[: max(1, int(guards.get("hessian_batches", 1)))]):
    key = jax.random.key(config.seed * 1000 + epoch + index)
    values.append(float(eigenvalue(state, batch, key, inputs)))
  return float(np.mean(values))


_EIGENVALUE_FNS: dict = {}


def _parameter_free_counts(config, history) -> list[int]:
  return [
    int(entry[PARAMETER_FREE])
    for entry in history
    if entry["epoch"] > config.warmup_epochs and PARAMETER_FREE in entry
  ]


def stop_reason(config, history) -> str | None:
  """DARTS+ early stop (when `guards.early_stop`): why the search stops now, or None."""
  guards = _guards(config)
  if not guards.get("early_stop", False):
    return None
  reason = collapse.early_stop_reason(
    _parameter_free_counts(config, history), int(guards.get("early_stop_patience", 3))
  )
  if reason and config.progress:
    print(f"early stop (DARTS+) after epoch {history[-1]['epoch']}: {reason}", flush=True)
  return reason


def genotype_metadata(config, history, genotype: genotypes.Genotype) -> dict:
  """What the genotype's JSON records beside it: the guards and the network's cost."""
  guards = _guards(config)
  record = {
    "max_skips": _cap(guards, "max_skips"),
    "max_parameter_free": _cap(guards, "max_parameter_free"),
    "cap_cells": list(capped_cells(guards)),
    "early_stop": bool(guards.get("early_stop", False)),
    "parameter_free_ops": [int(e[PARAMETER_FREE]) for e in history if PARAMETER_FREE in e],
  }
  if history and REPLACED in history[-1]:
    record["skips_replaced"] = int(history[-1][REPLACED])
  if history and FREE_REPLACED in history[-1]:
    record["parameter_free_replaced"] = int(history[-1][FREE_REPLACED])
  if record["early_stop"]:
    reason = collapse.early_stop_reason(
      _parameter_free_counts(config, history), int(guards.get("early_stop_patience", 3))
    )
    record["stopped_early"] = {"epoch": history[-1]["epoch"], "reason": reason} if reason else None
  eigenvalues = [(e["epoch"], e[EIGENVALUE]) for e in history if EIGENVALUE in e]
  if eigenvalues:
    record["hessian_eigenvalue"] = [
      {"epoch": epoch, "value": value} for epoch, value in eigenvalues
    ]
  return {"guards": record, **cost.genotype_metadata(config, genotype)}


def write_plots(config, workdir: str | pathlib.Path, history) -> pathlib.Path | None:
  """hessian_eigenvalue.png: the dominant eigenvalue of ∇²_α L_val over the epochs."""
  points = [(e["epoch"], e[EIGENVALUE]) for e in history if EIGENVALUE in e]
  if not points:
    return None
  import matplotlib

  matplotlib.use("Agg")
  from matplotlib import pyplot as plt

  figure, axis = plt.subplots(figsize=(5, 3))
  epochs, values = zip(*points)
  axis.plot(epochs, values, "o-")
  axis.set_xlabel("epoch")
  axis.set_ylabel("dominant eigenvalue of ∇²_α L_val")
  axis.set_xticks(list(epochs))
  axis.grid(alpha=0.3)
  figure.tight_layout()
  path = pathlib.Path(workdir) / "hessian_eigenvalue.png"
  figure.savefig(path, dpi=100)
  plt.close(figure)
  return path
