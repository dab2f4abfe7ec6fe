"""Xception baseline (Chollet 2017, trained from scratch), FaceForensics++'s reference detector.

    python -m fakenas_jax.train --config=configs/train/xception.py --workdir=runs/xception
    python -m fakenas_jax.train --config=configs/train/xception.py:quick --workdir=runs/xc_quick

299×299 faces (Xception's input size), batch 32, Adam 2e-4 with a cosine decay, 40 epochs.
"""

from configs.train import default


def get_config(variant: str = ""):
  config = default.get_config()
  config.model.name = "xception"
  config.optimizer.learning_rate = 2e-4
  config.optimizer.learning_rate_min = 0.0
  if default.check_variant(variant) == "quick":
    return default.quick(config)
  config.image_size, config.batch_size, config.eval_batch_size = 299, 32, 64
  config.epochs = 40
  return config
