"""C2PN (FD-NAS §3.7) from a searched genotype, trained as FD-NAS §4.1 (Implementation details).

    python -m fakenas_jax.train --config=configs/train/c2pn_fdnas.py --workdir=runs/t1 \
        --config.model.genotype=runs/s1/genotype.json
    python -m fakenas_jax.train --config=configs/train/c2pn_fdnas.py:quick --workdir=runs/t1q \
        --config.model.genotype=runs/s1/genotype.json

FD-NAS §4.1: 150 epochs, 64×64 faces, batch 48, SGD with learning rate 0.025, momentum 0.9,
weight decay 3e-4. What the paper leaves out is DARTS's evaluation training (DARTS §3.3):
cosine decay to 0, gradient-norm clipping at 5, drop path growing linearly to 0.2. The network
is four groups of N N R (`NNRNNRNNRNNR`), C = 16. Training on FaceForensics++ c23 needs the
corpus built (`python -m fakenas_jax.prepare --dataset=faceforensics/all_c23 ...`); the quick
variant trains 6 epochs, C = 8, on the synthetic studio corpus.
"""

from configs.data import fdnas_ffpp
from configs.train import default


def get_config(variant: str = ""):
  config = default.get_config()
  default.with_data(config, fdnas_ffpp.get_config())  # FF++ c23, FD-NAS crops, 64×64
  config.batch_size, config.eval_batch_size = 48, 96
  config.model = default.ml_collections.ConfigDict(
    dict(name="c2pn", genotype="", channels=16, layout="NNRNNRNNRNNR", drop_path_prob=0.2)
  )
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
  config.epochs = 150
  if default.check_variant(variant) == "quick":
    config = default.quick(config)
    config.batch_size, config.eval_batch_size = 48, 96
    config.model.channels = 8
  return config
