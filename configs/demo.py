"""The main job on the built-in synthetic corpora: search → train → evaluate (`make demo`).

    python -m fakenas_jax.demo --workdir=runs/demo
    python -m fakenas_jax.demo --config=configs/demo.py:tiny --workdir=/tmp/demo   # seconds-scale
    python -m fakenas_jax.demo --config=configs/demo.py:speech --workdir=runs/demo_speech
    python -m fakenas_jax.search --config=configs/demo.py:search --config.seeds=0,1,2 \
        --config.data_dir=runs/demo/tfds --workdir=runs/demo_seeds   # the demo's search alone

The four synthetic corpora are built at their default size (64×64 faces; 160/16/16 identities,
10 frames a video); to fit the demo's budget the detectors train on 3 of each video's frames.
An FD-NAS search (Alg. 1: warm-up, bilevel steps, the estimation indicator, one pruning; six
CDC-space operations, one N N R group) runs on `studio` at 32×32; a C2PN of two groups built
from the searched cells and the Meso-4 baseline are trained on `studio`; both are evaluated on
the test splits of all four corpora (in-corpus and cross-corpus), beside a C2PN of random cells
trained the same way. Every part starts from the
config its own command uses (configs/search/default.py, configs/train/*.py,
configs/eval/default.py) and overrides only its size; `<workdir>/tfds` holds the corpora.
"""

import ml_collections

from configs import demo_speech
from configs.eval import default as eval_default
from configs.search import default as search_default
from configs.train import c2pn_fdnas, meso4

CORPORA = (
  "synthetic_faces/studio",
  "synthetic_faces/celeb",
  "synthetic_faces/wild",
  "synthetic_faces/graphics",
)
# Six of the FD-NAS space's eleven operations: the estimation indicator's cost is one forward
# pass per (cell type, edge, operation), so the full space would take most of the demo's time.
DEMO_OPS = (
  "none",
  "max_pool_3x3",
  "skip_connect",
  "SepCDC_3x3_0.0",
  "SepCDC_3x3_0.7",
  "DilCDC_3x3_0.7",
)
VARIANTS = ("", "tiny", "search", "speech", "speech_tiny")


def get_config(variant: str = ""):
  if variant not in VARIANTS:
    raise ValueError(
      f"unknown variant {variant!r}; use FILE, FILE:tiny, FILE:search, FILE:speech or "
      "FILE:speech_tiny"
    )
  if variant.startswith("speech"):  # the speech demo: configs/demo_speech.py
    return demo_speech.get_config(tiny=variant == "speech_tiny")
  config = ml_collections.ConfigDict()
  config.kind = "faces"  # "speech": configs/demo_speech.py, run by fakenas_jax.demo_speech
  config.corpora = CORPORA
  config.training_corpus = CORPORA[0]
  config.corpus_overrides = ml_collections.ConfigDict()  # every corpus is built with these

  search = search_default.get_config()
  search.ops = DEMO_OPS
  search.layout, search.channels, search.k = "NNR", 8, 4
  # Settings under which the supernet learns within the budget (WORKSPACE.md, Does the search
  # beat chance?): 30 steps an epoch, two warm-up epochs, weights at 1e-2 and α at 5e-2.
  search.epochs, search.warmup_epochs, search.prune_every = 5, 2, 3
  search.steps_per_epoch = 30
  search.optimizer.learning_rate = 1e-2
  search.optimizer.arch_learning_rate = 5e-2
  config.search = search
  if variant == "search":  # the search config alone, for `python -m fakenas_jax.search`
    search.dataset, search.data_dir = config.training_corpus, "runs/demo/tfds"
    return search

  c2pn = c2pn_fdnas.get_config("quick")
  c2pn.model.layout = "NNRNNR"
  c2pn.image_size, c2pn.batch_size, c2pn.eval_batch_size = 32, 32, 64
  c2pn.epochs = 6
  c2pn.optimizer.learning_rate = 0.05
  config.detectors = ml_collections.ConfigDict(dict(c2pn=c2pn, meso4=meso4.get_config("quick")))
  for detector in config.detectors.values():
    detector.frames_per_video = 3

  # Random cells of the same space trained exactly as the searched C2PN (nas/random_search.py),
  # for the report's "Searched vs random" section; scripts/search_vs_random.py measures more.
  config.random_cells = ml_collections.ConfigDict(dict(count=1, seed=1000, detector="c2pn"))
  config.eval = eval_default.get_config()

  if variant == "tiny":
    config.corpus_overrides = ml_collections.ConfigDict(
      dict(
        identities=(3, 2, 2),
        real_videos_per_identity=1,
        fake_videos_per_identity=2,
        frames_per_video=3,
        resolution=32,
      )
    )
    config.corpora = CORPORA[:2]
    search.update(
      dict(
        layout="NR",
        image_size=16,
        batch_size=4,
        frames_per_video=None,
        epochs=3,
        warmup_epochs=1,
        prune_every=2,
        steps_per_epoch=2,
        k=2,
        ops=(
          "none",
          "max_pool_3x3",
          "skip_connect",
          "SepCDC_3x3_0.0",
          "SepCDC_3x3_0.7",
          "DilCDC_3x3_0.5",
        ),
        reducing_skip="avg_pool",
        progress=False,
      )
    )
    for detector in config.detectors.values():
      detector.update(
        dict(
          image_size=32,
          batch_size=4,
          eval_batch_size=4,
          epochs=2,
          steps_per_epoch=2,
          progress=False,
        )
      )
    c2pn.model.layout = "NR"
    config.eval.update(dict(batch_size=4, samples_per_class=2, progress=False))
  return config
