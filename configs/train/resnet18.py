"""ResNet-18 baseline (torchvision layout, trained from scratch), the BiG-Arts backbone alone.

    python -m fakenas_jax.train --config=configs/train/resnet18.py --workdir=runs/resnet18
    python -m fakenas_jax.train --config=configs/train/resnet18.py:quick --workdir=runs/r18_quick

256×256 faces, batch 32, Adam 1e-3 (β = 0.9, 0.999) with a cosine decay, as BiG-Arts §4.1 trains
its backbone, without the artifact heads and their masks (`bigarts_synthetic.py` adds them).
"""

from configs.train import default


def get_config(variant: str = ""):
  config = default.get_config()
  config.model.name = "resnet18"
  if default.check_variant(variant) == "quick":
    return default.quick(config)
  config.image_size, config.batch_size, config.eval_batch_size = 256, 32, 64
  config.epochs = 100
  return config
