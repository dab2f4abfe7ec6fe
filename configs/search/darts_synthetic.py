"""DARTS search (its 8 operations, 8 cells, all channels) on the synthetic corpus.

    python -m fakenas_jax.search --config=configs/search/darts_synthetic.py --workdir=runs/darts
    python -m fakenas_jax.search --config=configs/search/darts_synthetic.py --workdir=runs/darts2 \
        --config.second_order=True                      # DARTS second order (unrolled)

DARTS §3.1: SGD 0.025 → 0.001 cosine, momentum 0.9, wd 3e-4, clip 5; architecture Adam 3e-4,
β (0.5, 0.999), wd 1e-3; softmax(α) weights (no estimation indicator), no edge pruning.
"""

from configs.search import default


def get_config():
  config = default.get_config()
  config.space = "darts"
  config.layout = "NNRNNRNN"
  config.k = 1
  config.indicator = False
  config.prune_every = 0
  config.warmup_epochs = 0
  config.optimizer.update(
    dict(weights="sgd", learning_rate=0.025, learning_rate_min=0.001, arch_learning_rate=3e-4)
  )
  return config
