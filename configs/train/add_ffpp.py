"""The ADD network (ADD §III, Fig. 2) from its searched cell, trained as ADD §IV-B on FF++.

    python -m fakenas_jax.train --config=configs/train/add_ffpp.py --workdir=runs/add_ffpp \
        --config.model.genotype=runs/add/genotype.json
    python -m fakenas_jax.train --config=configs/train/add_ffpp.py:quick --workdir=runs/addq \
        --config.model.genotype=runs/add/genotype.json

Loss (Eq. 7): CE + α·MSE(region map, face convex hull), α = 1 (§IV, Fig. 5). §IV-B: 256×256
faces, batch 96, stacking number 4, Adam (β1 = 0.9) with learning rate 0.5 and weight decay
5e-4, 300 epochs, the rate divided by 10 at epochs 80 and 140. The rate is the paper's; should
it diverge (a non-finite-loss error), `--config.optimizer.learning_rate=1e-3` is the usual Adam
rate. `add_synthetic.py`-style CPU runs: the quick variant (64×64, synthetic studio, 6 epochs,
C = 8, rate 1e-3, the decays moved to epochs 3 and 5).
"""

import ml_collections

from configs.data import add_ffpp
from configs.train import default


def get_config(variant: str = ""):
  config = default.get_config()
  default.with_data(config, add_ffpp.get_config())  # FF++ c23, 256-pixel crops
  config.batch_size, config.eval_batch_size = 96, 96
  config.model = ml_collections.ConfigDict(
    dict(name="add", genotype="", channels=16, cells_per_block=4, mask_head=True, stem="imagenet")
  )  # 256×256 inputs: DARTS' stride-8 ImageNet stem
  config.loss.region_weight = 1.0
  config.optimizer.update(
    dict(
      name="adam",
      learning_rate=0.5,
      betas=(0.9, 0.999),
      weight_decay=5e-4,
      schedule="step",
      decay_epochs=(80, 140),
      decay_factor=0.1,
      grad_clip_norm=0.0,
    )
  )
  config.epochs = 300
  if default.check_variant(variant) == "quick":
    config = default.quick(config)
    config.model.channels, config.model.stem = 8, "cifar"
    config.optimizer.update(dict(learning_rate=1e-3, decay_epochs=(3, 5)))
  return config
