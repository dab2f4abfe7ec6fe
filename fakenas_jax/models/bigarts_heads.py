"""BiG-Arts artifact heads (Chen et al., *Watching the BiG artifacts*, §3.2, Fig. 3).

Two decoders, one for intrinsic-granularity (synthesis) and one for extrinsic-granularity
(blending boundary) artifacts, attached U-Net-like to a backbone's multi-scale features:

* decoder block (deepest first): up-sample the running map (bilinear) to the next finer backbone
  feature's size → concatenate that feature → scSE → 3×3 conv-BN-ReLU → 3×3 conv-BN-ReLU → scSE;
  after the finest feature, blocks without a skip double the size (capped at the input size)
  until the input size is reached. ResNet-18's five features (strides 2…32) thus give the
  paper's five decoder blocks: four merging blocks and one to full size.
* scSE (Roy et al. 2018, as BiG-Arts describes it): channel recalibration = global average pool
  → FC C→C/16 → ReLU → FC → sigmoid; spatial recalibration = 1×1 conv → 1 channel → sigmoid;
  the two recalibrated maps are added.
* a 1×1 convolution (with bias) → one channel: the per-pixel *logit*.

Outputs added to the backbone's dict: ``'intrinsic'`` and ``'extrinsic'``, [B, H, W, 1] logits
at input size; the paper's losses (Eq. 3, 4) are the per-pixel binary cross-entropy of
``sigmoid(logit)`` against the intrinsic / extrinsic masks (weights λ_In = λ_Ex = 15).

A backbone is attachable when its ``expose_features`` makes its output dict carry
``'features'``: a tuple of NHWC maps, finest first, each smaller than the one before it. The
wrapper removes ``'features'`` from the outputs it returns. The classification branch is the
backbone's own classifier (BiG-Arts puts a block of two convolutions and a max pool before its
FC layer; that block is not added here, so that a backbone's logits are the same function with
and without the heads).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.nn import batch_norm, conv

HEADS = ("intrinsic", "extrinsic")


class SpatialChannelSqueezeExcitation(nn.Module):
  """scSE (Roy et al. 2018): x·σ(FC(ReLU(FC(avgpool x)))) + x·σ(conv1×1(x))."""

  reduction: int = 16

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    channels = x.shape[-1]
    squeezed = jnp.mean(x, axis=(1, 2))
    hidden = nn.relu(nn.Dense(max(1, channels // self.reduction), name="channel_reduce")(squeezed))
    channel_gate = nn.sigmoid(nn.Dense(channels, name="channel_expand")(hidden))
    spatial_gate = nn.sigmoid(nn.Conv(1, (1, 1), name="spatial")(x))
    return x * channel_gate[:, None, None, :] + x * spatial_gate


class ConvBNReLU(nn.Module):
  """3×3 conv (no bias, PyTorch padding) → affine BN → ReLU."""

  features: int

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    x = conv.Conv2D(self.features, 3, name="conv")(x)
    return nn.relu(batch_norm.BatchNorm(name="bn")(x, train))


class DecoderBlock(nn.Module):
  """Resize to ``size`` → [concat skip] → scSE → 2 × (conv-BN-ReLU) → scSE."""

  features: int

  @nn.compact
  def __call__(
    self, x: jax.Array, skip: jax.Array | None, size: tuple[int, int], train: bool
  ) -> jax.Array:
    if x.shape[1:3] != tuple(size):
      x = jax.image.resize(x, (x.shape[0], *size, x.shape[-1]), "bilinear")
    if skip is not None:
      x = jnp.concatenate([x, skip], axis=-1)
    x = SpatialChannelSqueezeExcitation(name="attention_in")(x)
    x = ConvBNReLU(self.features, name="conv1")(x, train)
    x = ConvBNReLU(self.features, name="conv2")(x, train)
    return SpatialChannelSqueezeExcitation(name="attention_out")(x)


def decoder_plan(
  feature_shapes: Sequence[tuple[int, ...]],
  input_size: tuple[int, int],
  decoder_channels: Sequence[int] = (),
) -> list[tuple[int | None, tuple[int, int], int]]:
  """The decoder blocks as (index of the skip feature or None, output size, width), deepest first.

  One block per backbone feature but the deepest (each merges that feature), then blocks that
  double the size (capped at the input size) until it is reached. Default widths: 256, 128, 64,
  32, 16, 16, … (the usual U-Net decoder of a ResNet); ``decoder_channels`` gives one per block.
  """
  if not feature_shapes:
    raise ValueError("the backbone exposed no features to decode")
  steps: list[tuple[int | None, tuple[int, int]]] = [
    (index, tuple(feature_shapes[index][1:3])) for index in range(len(feature_shapes) - 2, -1, -1)
  ]
  height, width = feature_shapes[0][1:3]
  while (height, width) != tuple(input_size):
    if height > input_size[0] or width > input_size[1]:
      raise ValueError(
        f"a backbone feature ({height}×{width}) is larger than the input {tuple(input_size)}"
      )
    height, width = min(2 * height, input_size[0]), min(2 * width, input_size[1])
    steps.append((None, (height, width)))
  if decoder_channels:
    if len(decoder_channels) != len(steps):
      raise ValueError(
        f"decoder_channels {tuple(decoder_channels)} must give one width per "
        f"decoder block: this backbone and input size need {len(steps)}"
      )
    widths = [int(c) for c in decoder_channels]
  else:
    widths = [max(16, 256 >> block) for block in range(len(steps))]
  return [(skip, size, width) for (skip, size), width in zip(steps, widths)]


class ArtifactDecoder(nn.Module):
  """One BiG-Arts decoder: blocks of ``decoder_plan`` → 1×1 conv → [B, H, W, 1] logits."""

  decoder_channels: tuple[int, ...] = ()

  @nn.compact
  def __call__(
    self, features: Sequence[jax.Array], input_size: tuple[int, int], train: bool
  ) -> jax.Array:
    plan = decoder_plan([f.shape for f in features], input_size, self.decoder_channels)
    x = features[-1]
    for block, (skip, size, width) in enumerate(plan):
      x = DecoderBlock(width, name=f"block{block}")(
        x, None if skip is None else features[skip], size, train
      )
    return nn.Conv(1, (1, 1), name="logit")(x)


def takes_drop_path(module: nn.Module) -> bool:
  """Whether the module's ``__call__`` takes ``drop_path_prob`` (its ``takes_drop_path``)."""
  return bool(getattr(module, "takes_drop_path", False))


class WithArtifactHeads(nn.Module):
  """A backbone (built with ``expose_features=True``) plus the intrinsic and extrinsic decoders.

  Returns the backbone's outputs without ``'features'``, plus ``'intrinsic'`` and
  ``'extrinsic'`` per-pixel logits [B, H, W, 1] at input size. ``drop_path_prob`` goes to a
  backbone that takes it (the cell networks) and is ignored by one that has no drop path.
  """

  backbone: nn.Module
  decoder_channels: tuple[int, ...] = ()

  @property
  def takes_drop_path(self) -> bool:
    return takes_drop_path(self.backbone)

  @nn.compact
  def __call__(
    self, images: jax.Array, train: bool = False, drop_path_prob: float | jax.Array | None = None
  ) -> dict[str, jax.Array]:
    extra = {}
    if drop_path_prob is not None and takes_drop_path(self.backbone):
      extra["drop_path_prob"] = drop_path_prob
    outputs = dict(self.backbone(images, train=train, **extra))
    if "features" not in outputs:
      raise ValueError(
        f"{type(self.backbone).__name__} exposed no features: build it with "
        "expose_features=True to attach the BiG-Arts heads"
      )
    features = tuple(outputs.pop("features"))
    for head in HEADS:
      outputs[head] = ArtifactDecoder(self.decoder_channels, name=f"{head}_decoder")(
        features, images.shape[1:3], train
      )
    return outputs
