"""Grad-CAM (Selvaraju et al. 2017) for any detector, at the output of any of its modules.

    layers = gradcam.feature_layers(model, variables, image_size)    # [(name, shape)], in order
    cam = jax.jit(gradcam.make_gradcam(model, layer="bn4"))
    result = cam(variables, images)      # {'cam': [B, H, W] in [0, 1], 'cam_raw', 'p_fake', maps}
    gradcam.save_overlay(face_crop_uint8, result['cam'][0], "face.png")

A layer is named by its Flax module path, '/'-joined — the names `capture_intermediates` gives
its outputs: 'bn4' (Meso-4's fourth block, the last of what `expose_features` gives),
'cells/cell11' (a cell of C2PN / DARTS / ADD), 'backbone/cells/cell5' (inside BiG-Arts heads).
`feature_layers` lists every module output that is a feature map [B, h, w, C], in the order the
forward pass finishes them; `default_layer` is the last one with h, w ≥ 2 and C ≥ 2 computed
before the logits (the deepest spatial feature of the classification branch).

How the gradient at a module output is taken, without editing any model: during the forward
pass a Flax method interceptor (`nn.intercept_methods`) adds a zero tensor δ to that module's
output, so d(logit)/dδ = d(logit)/d(feature). Then, per image,

    w_c = mean_{i,j} d(logit_target)/d(A_c[i, j]),   map = ReLU(Σ_c w_c · A_c),

bilinearly up-sampled to the input size and min-max normalised to [0, 1] (an all-zero map stays
zero). The target logit is the fake one (class 1 of two logits, or the single sigmoid logit),
or the real one (class 0, or minus the single logit). Evaluation mode (`train=False`), so batch
normalisation uses running statistics and the images of a batch do not interact.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import cv2
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from fakenas_jax.training import losses, steps

TARGETS = ("fake", "real")


def _path(module: nn.Module) -> str:
  return "/".join(str(part) for part in module.path)


def _is_feature_map(value: Any) -> bool:
  return hasattr(value, "ndim") and hasattr(value, "shape") and value.ndim == 4


def _trace_layers(
  model: nn.Module, variables: Any, image_size: int
) -> tuple[list[tuple[str, tuple[int, ...]]], int]:
  """(every module output that is a 4-D map as (name, shape), in finishing order; the number
  of those finished before the logits)."""
  records: list[tuple[str, Any]] = []

  def record(next_fun, args, kwargs, context):
    out = next_fun(*args, **kwargs)
    if context.method_name == "__call__":
      records.append((_path(context.module), out))
    return out

  found: dict[str, Any] = {}

  def forward(variables, images):
    with nn.intercept_methods(record):
      outputs = model.apply(variables, images, train=False)
    logits = outputs["logits"]
    found["before_logits"] = next(
      (index for index, (_, out) in enumerate(records) if out is logits), len(records)
    )
    return logits

  images = jax.ShapeDtypeStruct((1, image_size, image_size, 3), jnp.float32)
  jax.eval_shape(forward, variables, images)
  layers, seen, before = [], set(), 0
  for index, (name, out) in enumerate(records):
    if _is_feature_map(out) and name not in seen:
      seen.add(name)
      layers.append((name, tuple(out.shape)))
      if index < found["before_logits"]:
        before = len(layers)
  return layers, before


def feature_layers(
  model: nn.Module, variables: Any, image_size: int
) -> list[tuple[str, tuple[int, ...]]]:
  """Every module output of the network that is a feature map: (name, shape at batch 1)."""
  return _trace_layers(model, variables, image_size)[0]


def default_layer(model: nn.Module, variables: Any, image_size: int) -> str:
  """The last feature map with h, w ≥ 2 and C ≥ 2 that the forward pass computes before the
  logits (Meso-4: 'bn4'; C2PN: its last lateral projection)."""
  layers, before = _trace_layers(model, variables, image_size)
  candidates = [
    name for name, shape in layers[:before] if shape[1] >= 2 and shape[2] >= 2 and shape[3] >= 2
  ]
  if not candidates:
    raise ValueError(
      f"{type(model).__name__} has no spatial feature map before its logits "
      f"at {image_size}×{image_size}; layers: {[name for name, _ in layers]}"
    )
  return candidates[-1]


def prediction_maps(outputs: dict[str, jax.Array]) -> dict[str, jax.Array]:
  """P(fake) and the dense maps as [0, 1] maps, from a model's outputs (as the predict step)."""
  result = {"p_fake": losses.fake_probability(outputs["logits"])}
  for name in steps.DENSE_OUTPUTS:
    if name in outputs:
      value = outputs[name].astype(jnp.float32)
      result[name] = jax.nn.sigmoid(value) if name in steps.LOGIT_MAPS else value
  return result


def target_logit(logits: jax.Array, target: str = "fake") -> jax.Array:
  """[B] logit of the target class (module docstring)."""
  if target not in TARGETS:
    raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
  logits = logits.astype(jnp.float32)
  if logits.shape[-1] == 1:
    return logits[:, 0] if target == "fake" else -logits[:, 0]
  return logits[:, 1] if target == "fake" else logits[:, 0]


def normalise_maps(maps: jax.Array) -> jax.Array:
  """Per-map min-max normalisation of [B, H, W] to [0, 1]; a constant map becomes zeros."""
  low = maps.min(axis=(1, 2), keepdims=True)
  span = maps.max(axis=(1, 2), keepdims=True) - low
  return jnp.where(span > 1e-12, (maps - low) / jnp.where(span > 1e-12, span, 1.0), 0.0)


def make_gradcam(
  model: nn.Module, layer: str, target: str = "fake"
) -> Callable[[Any, jax.Array], dict[str, jax.Array]]:
  """cam(variables, images) → {'cam' [B, H, W] in [0, 1] at input size, 'cam_raw' [B, h, w]
  (ReLU(Σ w_c A_c) at the layer's size), 'weights' [B, C], 'p_fake' [B], and the model's dense
  maps as `steps.make_predict_step` gives them}. Jit it; `layer` and `target` are fixed."""
  target_logit(jnp.zeros((1, 2)), target)  # validates target

  def run(variables, images, delta, captured):
    def perturb(next_fun, args, kwargs, context):
      out = next_fun(*args, **kwargs)
      if (
        context.method_name == "__call__"
        and "feature" not in captured
        and _path(context.module) == layer
      ):
        if not _is_feature_map(out):
          raise ValueError(f"layer {layer!r} does not output a feature map [B, h, w, C]")
        captured["feature"] = out
        if delta is not None:
          out = out + delta.astype(out.dtype)
      return out

    with nn.intercept_methods(perturb):
      return model.apply(variables, images, train=False)

  def cam(variables: Any, images: jax.Array) -> dict[str, jax.Array]:
    probe: dict[str, Any] = {}
    jax.eval_shape(lambda v, x: run(v, x, None, probe), variables, images)
    if "feature" not in probe:
      names = [name for name, _ in feature_layers(model, variables, images.shape[1])]
      raise ValueError(
        f"no layer {layer!r} in {type(model).__name__}; feature-map layers: {', '.join(names)}"
      )
    shape, dtype = probe["feature"].shape, probe["feature"].dtype

    def objective(delta):
      captured: dict[str, Any] = {}
      outputs = run(variables, images, delta, captured)
      return target_logit(outputs["logits"], target).sum(), (captured["feature"], outputs)

    grads, (feature, outputs) = jax.grad(objective, has_aux=True)(jnp.zeros(shape, dtype))
    feature = feature.astype(jnp.float32)
    weights = grads.astype(jnp.float32).mean(axis=(1, 2))  # [B, C]
    raw = jax.nn.relu(jnp.einsum("bhwc,bc->bhw", feature, weights))
    height, width = images.shape[1:3]
    upsampled = jax.image.resize(raw, (raw.shape[0], height, width), "bilinear")
    result = prediction_maps(outputs)
    result.update(cam=normalise_maps(upsampled), cam_raw=raw, weights=weights)
    return result

  return cam


def heat_overlay(image: np.ndarray, cam: np.ndarray, alpha: float = 0.45) -> np.ndarray:
  """uint8 RGB (H, W, 3) with the [0, 1] map `cam` (h, w) as a JET heat map blended over it."""
  image = np.asarray(image, np.uint8)
  cam = np.clip(np.asarray(cam, np.float32), 0.0, 1.0)
  if cam.shape != image.shape[:2]:
    cam = cv2.resize(cam, image.shape[1::-1], interpolation=cv2.INTER_LINEAR)
  heat = cv2.applyColorMap(np.round(cam * 255).astype(np.uint8), cv2.COLORMAP_JET)
  heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB).astype(np.float32)
  blended = (1 - alpha) * image.astype(np.float32) + alpha * heat
  return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _panel(image: np.ndarray, title: str, side: int) -> np.ndarray:
  image = cv2.resize(
    image,
    (side, side),
    interpolation=cv2.INTER_NEAREST if image.shape[0] < side else cv2.INTER_AREA,
  )
  header = np.full((22, side, 3), 255, np.uint8)
  cv2.putText(header, title, (3, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
  return np.concatenate([header, image], axis=0)


def overlay_figure(
  face: np.ndarray,
  cam: np.ndarray,
  maps: dict[str, np.ndarray] | None = None,
  *,
  title: str = "",
  side: int = 160,
) -> np.ndarray:
  """uint8 RGB picture: the face, Grad-CAM over it, and each predicted [0, 1] mask over it."""
  panels = [_panel(face, "face", side), _panel(heat_overlay(face, cam), "Grad-CAM", side)]
  for name, value in (maps or {}).items():
    value = np.asarray(value, np.float32).reshape(np.asarray(value).shape[:2])
    panels.append(_panel(heat_overlay(face, value), name, side))
  gap = np.full((side + 22, 4, 3), 255, np.uint8)
  row = np.concatenate([part for panel in panels for part in (panel, gap)][:-1], axis=1)
  if title:
    lines = fit_lines(title, row.shape[1] - 8)
    banner = np.full((6 + 20 * len(lines), row.shape[1], 3), 255, np.uint8)
    for number, line in enumerate(lines):
      cv2.putText(
        banner,
        line,
        (4, 17 + 20 * number),
        cv2.FONT_HERSHEY_SIMPLEX,
        TITLE_SCALE,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
      )
    row = np.concatenate([banner, row], axis=0)
  return row


TITLE_SCALE = 0.5


def _text_width(text: str) -> int:
  return cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, TITLE_SCALE, 1)[0][0]


def fit_lines(text: str, width: int) -> list[str]:
  """`text` broken at spaces into lines at most `width` pixels wide (a word longer than a
  line is cut into pieces that fit), so no part of a title falls off the picture."""
  lines: list[str] = []
  for word in text.split():
    pieces = []
    while word:
      cut = len(word)
      while cut > 1 and _text_width(word[:cut]) > width:
        cut -= 1
      pieces.append(word[:cut])
      word = word[cut:]
    for piece in pieces:
      if lines and _text_width(f"{lines[-1]} {piece}") <= width:
        lines[-1] = f"{lines[-1]} {piece}"
      else:
        lines.append(piece)
  return lines or [""]


def save_overlay(
  face: np.ndarray,
  cam: np.ndarray,
  path: str | os.PathLike,
  maps: dict[str, np.ndarray] | None = None,
  *,
  title: str = "",
) -> str:
  """Writes `overlay_figure` as a PNG; returns the path."""
  picture = overlay_figure(face, cam, maps, title=title)
  os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
  if not cv2.imwrite(os.fspath(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)):
    raise OSError(f"cannot write {os.fspath(path)}")
  return os.fspath(path)
