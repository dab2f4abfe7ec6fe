"""BiG-Arts heads on the synthetic celeb corpus, whose intrinsic / extrinsic masks are exact.

    python -m fakenas_jax.train --config=configs/train/bigarts_synthetic.py --workdir=runs/bs

`bigarts_celebdf.py` at CPU scale with a lighter backbone: Meso-4 with the two decoders
(widths 32, 16, 16), 64×64, batch 32, Adam 1e-3 cosine, 8 epochs, λ_In = λ_Ex = 15, with the
forgery-face augmentation and JPEG qualities in [75, 100] (`--config.forgery_augmentation=False`
turns the composites off). Another backbone: `--config.model.name=resnet18` (or `c2pn` with
a genotype).
"""

from configs.train import bigarts_celebdf, default


def get_config(variant: str = ""):
  config = bigarts_celebdf.get_config()
  config.dataset = "synthetic_faces/celeb"
  config.image_size, config.batch_size, config.eval_batch_size = 64, 32, 64
  config.model.name = "meso4"
  config.model.decoder_channels = (32, 16, 16)
  config.optimizer.cosine_period_epochs = 0
  config.optimizer.learning_rate_min = 1e-5
  config.epochs = 8
  config.augment = "jpeg"
  config.forgery_augmentation = True
  if default.check_variant(variant) == "quick":
    config.epochs = 3
  return config
