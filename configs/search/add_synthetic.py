"""ADD search (its 11-operation deepfake space) on the synthetic corpus.

    python -m fakenas_jax.search --config=configs/search/add_synthetic.py --workdir=runs/add

ADD §III / §IV-A: DARTS bilevel search over zero, identity, 3×3 avg/max pool, 3/5/7 convs,
3/5 separable and 3/5 dilated separable convs; weights momentum SGD (lr 0.1, cosine), α Adam
(lr 0.02 in the paper, with step decays); first order by default. CPU-sized: 6 cells, 12 epochs.
"""

from configs.search import default


def get_config():
  config = default.get_config()
  config.space = "add"
  config.k = 1
  config.indicator = False
  config.prune_every = 0
  config.warmup_epochs = 0
  config.optimizer.update(
    dict(weights="sgd", learning_rate=0.1, learning_rate_min=0.001, arch_learning_rate=0.02)
  )
  return config
