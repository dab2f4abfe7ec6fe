"""Meso-4 baseline (Afchar et al. 2018) at the MesoNet input size, 256×256.

    python -m fakenas_jax.train --config=configs/train/meso4.py --workdir=runs/meso4
    python -m fakenas_jax.train --config=configs/train/meso4.py:quick --workdir=runs/meso4_quick

MesoInception-4: `--config.model.name=meso_inception4`. Adam 1e-3 with a cosine decay, 40
epochs, random horizontal flips; the quick variant is `default.py` (64×64, synthetic studio).
"""

from configs.train import default


def get_config(variant: str = ""):
  config = default.get_config()
  config.model.name = "meso4"
  if default.check_variant(variant) == "quick":
    return default.quick(config)
  config.image_size, config.batch_size, config.eval_batch_size = 256, 64, 128
  config.epochs = 40
  return config
