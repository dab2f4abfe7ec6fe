"""BiG-Arts (Chen et al., §3.2, §4.1): ResNet-18 with the intrinsic and extrinsic artifact heads.

    python -m fakenas_jax.train --config=configs/train/bigarts_celebdf.py --workdir=runs/bigarts
    python -m fakenas_jax.train --config=configs/train/bigarts_celebdf.py:quick --workdir=runs/bq

Loss (Eq. 2–5): λ_Cls·CE + λ_In·BCE(intrinsic map) + λ_Ex·BCE(extrinsic map), λ_In = λ_Ex = 15,
λ_Cls = 1. §4.1: trained on Celeb-DF, 256×256 faces, batch 32, Adam (lr 1e-3, β = 0.9, 0.999),
PyTorch's CosineAnnealingLR with T_max = 40 epochs (so the rate rises again after 40), 1,200
epochs. §3.3 / §4.1: the forgery-face augmentation (`forgery_augmentation`: batches half real,
the fakes a third original, a third (Real, Real), a third (Fake, Real) composites) and JPEG at a
quality in [75, 100] as the only augmentation (`augment = 'jpeg'`). The quick variant trains on the synthetic celeb
corpus (Celeb-DF-like) at 64×64 for 6 epochs with a 3-epoch cosine period.
"""

from configs.data import bigarts_celeb_df
from configs.train import default


def get_config(variant: str = ""):
  config = default.get_config()
  default.with_data(config, bigarts_celeb_df.get_config())  # Celeb-DF, 256-pixel crops
  config.batch_size, config.eval_batch_size = 32, 64
  config.model.name = "resnet18"
  config.model.bigarts_heads = True
  config.loss.update(dict(classification_weight=1.0, intrinsic_weight=15.0, extrinsic_weight=15.0))
  config.optimizer.update(
    dict(
      name="adam",
      learning_rate=1e-3,
      betas=(0.9, 0.999),
      schedule="cosine",
      cosine_period_epochs=40,
      learning_rate_min=0.0,
      weight_decay=0.0,
      grad_clip_norm=0.0,
    )
  )
  config.epochs = 1200
  config.augment = "jpeg"
  config.forgery_augmentation = True
  if default.check_variant(variant) == "quick":
    config = default.quick(config)
    config.dataset = "synthetic_faces/celeb"
    config.optimizer.cosine_period_epochs = 3
  return config
