"""Central difference convolution (CDC), folded into a single kernel.

FD-NAS (Eq. 3, after CDCN, Yu et al. 2020) mixes a vanilla convolution with a central-difference
term::

    y(p0) = Σ_n w(p_n)·x(p0 + p_n)  −  θ·x(p0)·Σ_n w(p_n)
          = conv(x, w) − θ·conv1×1(x, Σ_spatial w)

The second term is a 1×1 convolution (no padding, same stride) with the spatially summed kernel.
For a kernel with a centre tap c — odd height and width — and symmetric padding
``(k − 1) / 2 · dilation``, the centre tap of the k×k convolution reads exactly the pixel that the
1×1 convolution reads, at every stride and dilation. So the two convolutions are ONE convolution
with the kernel ``w'`` equal to ``w`` except ``w'_c = w_c − θ·Σ_n w_n``: the sum runs over the
spatial axes only, separately for every input/output channel pair (plain convolution, HWIO) or
every channel (depthwise, HWC or HWCM). A 1×1 kernel folds to ``w·(1 − θ)``; ``θ = 0`` is a plain
convolution. Same cost as a plain convolution; gradients flow to ``w`` (and to θ if it is traced).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def fold_central_difference(kernel: jax.Array, theta: float | jax.Array) -> jax.Array:
  """Returns the kernel whose plain convolution is the CDC of ``kernel`` with this θ.

  Args:
    kernel: ``(kh, kw, ...)`` with odd ``kh`` and ``kw``; the trailing axes (``(in, out)``,
      ``(channels,)`` or ``(channels, multiplier)``) are kept apart.
    theta: the central-difference weight θ (0 = vanilla convolution, FD-NAS uses 0.5–0.8).
  """
  kernel_h, kernel_w = kernel.shape[:2]
  if kernel_h % 2 != 1 or kernel_w % 2 != 1:
    raise ValueError(f"central difference needs an odd kernel, got {kernel_h}×{kernel_w}")
  if isinstance(theta, (int, float)) and theta == 0:
    return kernel
  spatial_sum = jnp.sum(kernel, axis=(0, 1), keepdims=True)
  # A constant one-hot centre mask rather than ``.at[centre].add``: elementwise, so it stays a
  # cheap fused loop under vmap (a scatter otherwise).
  centre = np.zeros((kernel_h, kernel_w) + (1,) * (kernel.ndim - 2), np.float32)
  centre[kernel_h // 2, kernel_w // 2] = 1.0
  return kernel - theta * spatial_sum * jnp.asarray(centre, kernel.dtype)
