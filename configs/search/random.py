"""The random-architecture baseline: genotypes drawn uniformly from the default search's space.

    python -m fakenas_jax.search --config=configs/search/random.py --workdir=runs/random
    python -m fakenas_jax.search --config=configs/search/random.py --workdir=runs/random \
        --config.random.num_genotypes=10 --config.seed=1 --config.ops=none,max_pool_3x3,...

Starts from configs/search/default.py (same space, `ops`, layout and seed) with
`strategy='random'`: `random.num_genotypes` genotypes, each with two inputs per node from
distinct earlier nodes and no `none`, are written to `<workdir>/random_NNN/genotype.json`
(nas/random_search.py). Nothing is trained; `scripts/search_vs_random.py` trains them beside
the searched cells.
"""

import ml_collections

from configs.search import default


def get_config():
  config = default.get_config()
  config.strategy = "random"
  config.random = ml_collections.ConfigDict(
    dict(
      num_genotypes=8,  # how many genotypes to draw
      diagrams=True,  # a cell diagram (genotype.png) beside each genotype.json
    )
  )
  return config
