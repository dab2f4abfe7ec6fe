"""A DARTS evaluation network (DARTS §3.2, CIFAR layout) from a genotype, with DARTS's recipe.

    python -m fakenas_jax.train --config=configs/train/darts_eval.py --workdir=runs/darts
    python -m fakenas_jax.train --config=configs/train/darts_eval.py:quick --workdir=runs/dq \
        --config.model.genotype=runs/search/genotype.json

DARTS_V2 by default (or any published name / genotype JSON); C = 36, 20 cells, auxiliary head
weighted 0.4, drop path growing linearly to 0.2 over the epochs; SGD 0.025 with cosine decay to
0, momentum 0.9, weight decay 3e-4, gradient-norm clipping at 5, batch 96, 600 epochs, on
32×32 inputs (the CIFAR size) of the synthetic studio corpus. Cutout is not applied. The quick
variant: C = 16, 8 cells, 6 epochs.
"""

import ml_collections

from configs.train import default


def get_config(variant: str = ""):
  config = default.get_config()
  config.image_size, config.batch_size, config.eval_batch_size = 32, 96, 192
  config.model = ml_collections.ConfigDict(
    dict(
      name="darts_eval",
      genotype="DARTS_V2",
      channels=36,
      layers=20,
      auxiliary=True,
      drop_path_prob=0.2,
    )
  )
  config.loss.auxiliary_weight = 0.4
  config.optimizer.update(
    dict(
      name="sgd",
      learning_rate=0.025,
      learning_rate_min=0.0,
      momentum=0.9,
      weight_decay=3e-4,
      grad_clip_norm=5.0,
    )
  )
  config.epochs = 600
  if default.check_variant(variant) == "quick":
    config.model.update(dict(channels=16, layers=8))
    config.image_size, config.batch_size, config.eval_batch_size = 32, 32, 64
    config.epochs = 6
  return config
