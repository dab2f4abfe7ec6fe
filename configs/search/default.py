"""FD-NAS in-dataset search on the built-in synthetic corpus (the default of every entry point).

    python -m fakenas_jax.search --config=configs/search/default.py --workdir=runs/search

FD-NAS §4.1 (Implementation details) at CPU scale: CDC search space (11 operations), 6 cells
(N N R N N R), C = 16, partial channels 1/8, estimation indicator (λ = 0.15), pruning of two
operations per edge with a doubled channel-sampling rate every `prune_every` epochs, Adam on
the weights. `fdnas_paper.py` has the paper's sizes.
"""

import dataclasses

import ml_collections

from fakenas_jax import audio


def get_config():
  config = ml_collections.ConfigDict()
  # Data.
  config.modality = "face"  # 'face' | 'speech' (LFCC of a speech corpus, see pcdarts_asvspoof.py)
  config.dataset = "synthetic_faces/studio"
  config.data_dir = "runs/tfds"
  config.corpus_overrides = ml_collections.ConfigDict()
  config.image_size = 32
  config.batch_size = 32
  config.frames_per_video = 4
  config.data_threads = 2
  config.held_out_split = "validation"  # Ê's batches (FD-NAS Eq. 4); speech corpora: 'dev'
  # Speech searches only: samples a waveform is cut or repeated to, frequency masking, and the
  # network's input: 'lfcc', or 'sinc' (Raw PC-DARTS: the sinc-filter front end of `sinc`,
  # fields of audio.sinc.SincConfig, its initial bands fixed during the search). Sizes whose
  # time axis stays even down to 1/32 suit the stem and reductions: 4 s, stride 10, pool 25 →
  # 64 × 256.
  config.num_samples = 64000
  config.mask = False
  config.frontend = "lfcc"
  config.sinc = ml_collections.ConfigDict(
    dataclasses.asdict(audio.sinc.SincConfig(stride=10, pool=25))
  )
  # Search space and supernet.
  config.space = "fdnas"
  config.ops = ()  # an explicit list of operation names overrides `space`
  config.reducing_skip = ""  # '' = the space's own ('avg_pool' for fdnas)
  config.layout = "NNRNNR"
  config.channels = 16
  config.stem_multiplier = 3
  config.stem = "cifar"  # 'cifar' (3×3 conv) | 'imagenet' (strided, for speech's 1-channel LFCC)
  config.k = 8
  config.num_classes = 2
  config.class_weights = ()
  # Strategy.
  config.epochs = 12
  config.warmup_epochs = 2
  config.steps_per_epoch = 0  # 0 = as many as the smaller training half allows
  config.second_order = False
  config.indicator = True
  config.indicator_lambda = 0.15
  # 'inverse_gap' = Eq. 4; 'standardised_gap' = softmax of the standardised gap (estimation.py)
  config.indicator_form = "inverse_gap"
  config.estimation_batches = 1
  config.estimation_chunk = 8
  config.prune_every = 4
  config.prune_drop = 2
  # Cross-dataset search (FD-NAS Alg. 2): two or more corpora here switch it on; `dataset` is
  # then unused. See cross_dataset.py.
  config.cross_dataset = ml_collections.ConfigDict(
    dict(datasets=(), samples_per_epoch=2000, inner_learning_rate=0.01, second_order=False)
  )
  config.optimizer = ml_collections.ConfigDict(
    dict(
      weights="adam",
      learning_rate=3e-3,
      learning_rate_min=3e-4,
      momentum=0.9,
      weight_decay=3e-4,
      grad_clip_norm=5.0,
      arch_learning_rate=6e-4,
      arch_betas=(0.5, 0.999),
      arch_weight_decay=1e-3,
    )
  )
  # Collapse guards (nas/collapse.py), recorded in the log and in genotype.json.
  config.guards = ml_collections.ConfigDict(
    dict(
      max_skips=0,  # P-DARTS: at most this many skips in the normal cell (0 = no cap; paper: 2)
      max_parameter_free=0,  # the same cap on skips and pools together (0 = no cap)
      cap_cells="normal",  # the cells both caps apply to: 'normal' (P-DARTS) | 'both'
      early_stop=False,  # DARTS+: stop when the normal cell's parameter-free ops grow or settle
      early_stop_patience=3,  # ... settle = unchanged for this many epochs
      hessian=False,  # RobustDARTS: dominant eigenvalue of the α-Hessian of L_val per epoch
      hessian_iterations=20,
      hessian_batches=1,
    )
  )
  # Cost-aware search (nas/cost.py): λ_cost · E_α[cost] (millions of `metric`) in the loss.
  config.cost = ml_collections.ConfigDict(dict(penalty=0.0, metric="macs"))
  # The network built from the genotype, whose parameters and MACs genotype.json records
  # (name '' = none); the demo's C2PN at the default search's resolution.
  config.network = ml_collections.ConfigDict(
    dict(name="c2pn", channels=8, layout="NNRNNR", image_size=32)
  )
  # 'gradient' (this search) | 'random' (uniform genotypes of the space, configs/search/random.py).
  config.strategy = "gradient"
  config.seed = 0
  config.seeds = ()  # several seeds, e.g. `--config.seeds=0,1,2`: one run each in seed_<s>/
  config.progress = True
  config.log_every = 10  # steps between fetches of the step metrics (NaN check, progress)
  # Compile the steps not needed yet (and the next k's, before a pruning) in a background
  # thread (run/compile_ahead.py); False: each program compiles at its first use.
  config.compile_ahead = True
  return config
