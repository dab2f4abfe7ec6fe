"""The training losses of the detectors, as pure functions of model outputs and a batch.

    loss = loss_for(config, output_names={'logits', 'region'})   # ADD: CE + α·MSE
    value, metrics = loss(outputs, batch)

Terms (each used when the model produces the output it needs and its weight is not zero):

* classification: cross-entropy of `logits` (class 1 = fake), optionally class-weighted as
  PyTorch's `CrossEntropyLoss(weight=w)`: Σ w_y·ℓ / Σ w_y (the speech recipe weighs
  bona fide : spoof = 1 : 9);
* DARTS auxiliary head: + 0.4 · CE(`aux_logits`) (DARTS §3.2 evaluation networks; the head sits
  after the cell at 2/3 of the depth);
* ADD potential-manipulation region (ADD §III-C, Eq. 5 and 7): + α · MSE(`region`, face hull),
  α = 1 (ADD §IV, Fig. 5);
* BiG-Arts (§3.2, Eq. 2–5): λ_Cls · CE + λ_In · BCE(`intrinsic`, M_In) + λ_Ex · BCE(`extrinsic`,
  M_Ex), λ_In = λ_Ex = 15, λ_Cls = 1.

Eq. 3–4 of BiG-Arts write the mask terms as sums over pixels; here they are means over pixels
(what PyTorch's `BCELoss` computes), since λ = 15 only balances the classification term against
a per-pixel mean — a sum over a 256×256 map would weigh it 65,536 times more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

from fakenas_jax.data import masks
from fakenas_jax.nn.losses import cross_entropy  # noqa: F401 (part of this module's API)

# Which ground-truth mask of a batch each dense output is compared with.
MASK_OF_OUTPUT = masks.MASK_OF_OUTPUT


def predicted_class(logits: jax.Array) -> jax.Array:
  """Arg-max class; for one fake logit, 1 where it is positive (P(fake) > 0.5)."""
  if logits.shape[-1] == 1:
    return (logits[:, 0] > 0).astype(jnp.int32)
  return jnp.argmax(logits, -1)


def fake_probability(logits: jax.Array) -> jax.Array:
  """P(fake) per row: softmax(logits)[:, 1], or σ(logit) for one fake logit."""
  logits = logits.astype(jnp.float32)
  if logits.shape[-1] == 1:
    return jax.nn.sigmoid(logits[:, 0])
  return jax.nn.softmax(logits, -1)[:, 1]


def accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Fraction of rows whose predicted class is the label."""
  return (predicted_class(logits) == labels).mean()


def _check_same_shape(prediction: jax.Array, target: jax.Array, what: str) -> None:
  if prediction.shape != target.shape:
    raise ValueError(
      f"{what}: the prediction is {tuple(prediction.shape)} but the ground-truth "
      f"mask is {tuple(target.shape)}; they must match (B, H, W, 1)"
    )


def region_mse(region: jax.Array, face_hull: jax.Array) -> jax.Array:
  """ADD Eq. 5: (1/N) Σ_i L2(M_i; m_i), L2 the mean squared difference over the pixels.

  `region` is the predicted potential-manipulation map m (as the model outputs it, up-sampled to
  the input size), `face_hull` the convex-hull mask M in [0, 1].
  """
  _check_same_shape(region, face_hull, "region_mse")
  return jnp.mean(jnp.square(region.astype(jnp.float32) - face_hull.astype(jnp.float32)))


def pixel_bce(logits: jax.Array, mask: jax.Array) -> jax.Array:
  """BiG-Arts Eq. 3/4: binary cross-entropy of per-pixel logits against a [0, 1] mask.

  −[M log σ(o) + (1 − M) log(1 − σ(o))], averaged over batch and pixels (see the module
  docstring for why a mean, not the paper's sum).
  """
  _check_same_shape(logits, mask, "pixel_bce")
  return optax.sigmoid_binary_cross_entropy(
    logits.astype(jnp.float32), mask.astype(jnp.float32)
  ).mean()


@dataclasses.dataclass(frozen=True)
class Loss:
  """A weighted sum of terms; `masks` are the batch masks the terms read."""

  classification_weight: float = 1.0
  class_weights: tuple[float, ...] = ()
  auxiliary_weight: float = 0.0
  region_weight: float = 0.0
  intrinsic_weight: float = 0.0
  extrinsic_weight: float = 0.0

  @property
  def masks(self) -> tuple[str, ...]:
    """Mask features the pipeline must decode, in `MASK_OF_OUTPUT` order."""
    weights = {
      "region": self.region_weight,
      "intrinsic": self.intrinsic_weight,
      "extrinsic": self.extrinsic_weight,
    }
    return tuple(MASK_OF_OUTPUT[name] for name, weight in weights.items() if weight)

  def __call__(
    self, outputs: Mapping[str, jax.Array], batch: Mapping[str, jax.Array]
  ) -> tuple[jax.Array, dict[str, jax.Array]]:
    """(total loss, {term name: value, 'accuracy': ...}) of one batch."""
    labels = batch["label"]
    class_weights = self.class_weights or None
    metrics = {
      "classification": cross_entropy(outputs["logits"], labels, class_weights),
      "accuracy": accuracy(outputs["logits"], labels),
    }
    total = self.classification_weight * metrics["classification"]
    if self.auxiliary_weight:
      metrics["auxiliary"] = cross_entropy(outputs["aux_logits"], labels, class_weights)
      total = total + self.auxiliary_weight * metrics["auxiliary"]
    if self.region_weight:
      metrics["region"] = region_mse(outputs["region"], batch["face_hull"])
      total = total + self.region_weight * metrics["region"]
    for name, weight in (
      ("intrinsic", self.intrinsic_weight),
      ("extrinsic", self.extrinsic_weight),
    ):
      if weight:
        metrics[name] = pixel_bce(outputs[name], batch[name])
        total = total + weight * metrics[name]
    metrics["loss"] = total
    return total, metrics


def loss_for(config: Any, output_names: Collection[str]) -> Loss:
  """The loss of a training config (`config.loss`) for a model producing `output_names`.

  A term is used when the model produces its output and the config gives it a non-zero weight:
  `aux_logits` (DARTS auxiliary head) → `auxiliary_weight`, `region` (ADD) → `region_weight`,
  `intrinsic` / `extrinsic` (BiG-Arts) → `intrinsic_weight` / `extrinsic_weight`. Other
  outputs (e.g. exposed feature maps) have no term.
  """
  names = set(output_names)
  if "logits" not in names:
    raise ValueError(f"the model must output 'logits'; it outputs {sorted(names)}")
  settings = config.loss
  weights = {}
  for output, field in (
    ("aux_logits", "auxiliary_weight"),
    ("region", "region_weight"),
    ("intrinsic", "intrinsic_weight"),
    ("extrinsic", "extrinsic_weight"),
  ):
    weight = float(settings.get(field, 0.0))
    if weight < 0:
      raise ValueError(f"loss.{field} must be >= 0, got {weight}")
    weights[field] = weight if output in names else 0.0
  classification_weight = float(settings.get("classification_weight", 1.0))
  if classification_weight <= 0:
    raise ValueError(f"loss.classification_weight must be > 0, got {classification_weight}")
  class_weights = tuple(float(w) for w in (settings.get("class_weights") or ()))
  if any(w <= 0 for w in class_weights):
    raise ValueError(f"loss.class_weights must be positive, got {class_weights}")
  return Loss(classification_weight=classification_weight, class_weights=class_weights, **weights)
