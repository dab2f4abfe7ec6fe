"""FD-NAS cross-dataset search (Alg. 2) over the four synthetic corpora.

    python -m fakenas_jax.search --config=configs/search/cross_dataset.py --workdir=runs/xsearch

Every step draws one corpus as the target at random; the others are the sources: the weights
take one inner step per source, are meta-updated from those learners' losses on the target
(first order; `--config.cross_dataset.second_order=True` differentiates through the inner
steps), and the architecture steps on the target (`nas/cross_dataset.py`). FD-NAS §4.1: 2,000
samples of every corpus an epoch. Pruning and the estimation indicator work as in-dataset, the
estimation errors taken on one batch of every corpus.
"""

from configs.search import default

CORPORA = (
  "synthetic_faces/studio",
  "synthetic_faces/celeb",
  "synthetic_faces/wild",
  "synthetic_faces/graphics",
)


def get_config():
  config = default.get_config()
  config.cross_dataset.datasets = CORPORA
  return config
