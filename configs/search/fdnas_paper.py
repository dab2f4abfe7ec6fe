"""FD-NAS search at the paper's scale on FaceForensics++ c23 (in-dataset; `:cross` = Alg. 2).

    python -m fakenas_jax.prepare --dataset=faceforensics/all_c23 \
        --manual_dir=~/data/FaceForensics++ --data_dir=~/tensorflow_datasets
    python -m fakenas_jax.search --config=configs/search/fdnas_paper.py --workdir=runs/fdnas
    python -m fakenas_jax.search --config=configs/search/fdnas_paper.py:cross --workdir=runs/fdnas_x

FD-NAS §4.1 (Implementation details): 32 × 32 inputs, Adam, 65 epochs, batch 96, C = 16, the
channel-sampling rate starting at 1/8; Alg. 1 prunes every 20 epochs (after epochs 20, 40 and
60: 11 → 9 → 7 → 5 operations per edge, k 8 → 4 → 2 → 1). The paper does not state its weight-only
warm-up; 5 epochs here. In-dataset,
half of FF++'s training frames update the architecture and half the weights; the cross-dataset
variant takes 2,000 samples of each of FF++, Celeb-DF, WildDeepfake and DFDC-preview an epoch
(configs/data/fdnas_cross_search.py lists the `prepare` commands).
"""

from configs.data import fdnas_cross_search, fdnas_ffpp
from configs.search import default

VARIANTS = ("", "cross")


def get_config(variant: str = ""):
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r}; use FILE or FILE:cross")
  config = default.get_config()
  data = fdnas_cross_search.get_config() if variant == "cross" else fdnas_ffpp.get_config()
  config.dataset, config.data_dir = data.dataset, data.data_dir
  config.corpus_overrides = data.corpus_overrides
  config.image_size = 32
  config.frames_per_video = 20  # FD-NAS: 20 frames of every training video
  config.batch_size = 96
  config.channels, config.k = 16, 8
  config.epochs, config.warmup_epochs, config.prune_every = 65, 5, 20
  config.optimizer.weights = "adam"
  if variant == "cross":
    config.cross_dataset.datasets = data.cross_dataset.datasets
    config.cross_dataset.samples_per_epoch = 2000
  return config
