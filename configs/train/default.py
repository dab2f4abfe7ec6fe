"""Meso-4 on the built-in synthetic corpus (studio): the quick default, a few CPU minutes.

    python -m fakenas_jax.train --config=configs/train/default.py --workdir=runs/train

Every training config starts from this one and overrides a few fields; any field can be changed
on the command line (`--config.epochs=3 --config.model.name=meso_inception4`). `model` holds the
fields of `models.factory.default_model_config(name)` that differ from the network's defaults;
`loss` weights are used only for the outputs the network has (aux_logits, region, intrinsic,
extrinsic). Re-running with the same workdir resumes.

Paper-scale configs take a `quick` variant (`--config=configs/train/c2pn_fdnas.py:quick`): the
same recipe at CPU scale on the synthetic corpus; `check_variant` refuses unknown variants.
"""

import ml_collections

VARIANTS = ("", "quick")


def check_variant(variant: str) -> str:
  """The variant after ':' in --config=FILE:VARIANT ('' or 'quick'); a clear error otherwise."""
  if variant not in VARIANTS:
    raise ValueError(f"unknown config variant {variant!r}; use FILE or FILE:quick")
  return variant


def with_data(
  config: ml_collections.ConfigDict, data: ml_collections.ConfigDict
) -> ml_collections.ConfigDict:
  """The corpus fields of a `configs/data/*` protocol: the corpus, where it is built, the
  builder overrides it was built with (its crop size) and the network input size."""
  config.dataset, config.data_dir, config.image_size = data.dataset, data.data_dir, data.image_size
  config.corpus_overrides = ml_collections.ConfigDict(data.corpus_overrides.to_dict())
  return config


def quick(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """CPU scale: the synthetic studio corpus at 64×64, batches of 32, 6 epochs."""
  config.dataset, config.data_dir = "synthetic_faces/studio", "runs/tfds"
  config.corpus_overrides = ml_collections.ConfigDict()
  config.image_size, config.batch_size, config.eval_batch_size = 64, 32, 64
  config.epochs = 6
  return config


def get_config():
  config = ml_collections.ConfigDict()
  # Data.
  config.modality = "face"  # 'face' | 'speech' (LFCC of a speech corpus: pcdarts_asvspoof.py)
  config.dataset = "synthetic_faces/studio"
  config.data_dir = "runs/tfds"
  config.corpus_overrides = ml_collections.ConfigDict()
  config.image_size = 64
  config.batch_size = 32
  config.frames_per_video = 10  # training frames a video, evenly spaced (0 = all)
  config.eval_batch_size = 64
  config.eval_frames_per_video = 10  # FD-NAS tests on 10 frames a video
  config.validation_split = "validation"
  config.validation_batches = 0  # 0 = the whole split every epoch
  config.augment = "flip"  # 'none' | 'flip' | 'jpeg' (quality in [75, 100])
  config.data_threads = 2
  # Speech runs only: samples a waveform is cut or repeated to, frequency masking.
  config.num_samples = 64000
  config.mask = False
  # BiG-Arts §3.3 forgery-face augmentation (data.forgery_augmentation): batches half real, the
  # fakes a third original, a third (Real, Real), a third (Fake, Real) composites.
  config.forgery_augmentation = False
  config.forgery = ml_collections.ConfigDict(
    dict(real_share=0.5, deformation=0.3, nodes=16, candidates=1, align=True)
  )
  # Network (fields of models.factory.default_model_config(name)).
  config.model = ml_collections.ConfigDict(dict(name="meso4"))
  # Loss (training.losses): weights of the terms the network's outputs call for.
  config.loss = ml_collections.ConfigDict(
    dict(
      classification_weight=1.0,
      class_weights=(),
      auxiliary_weight=0.4,
      region_weight=1.0,
      intrinsic_weight=15.0,
      extrinsic_weight=15.0,
    )
  )
  # Optimiser (training.optimizer).
  config.optimizer = ml_collections.ConfigDict(
    dict(
      name="adam",
      learning_rate=1e-3,
      schedule="cosine",
      learning_rate_min=1e-5,
      cosine_period_epochs=0,
      decay_epochs=(),
      decay_factor=0.1,
      momentum=0.9,
      betas=(0.9, 0.999),
      weight_decay=0.0,
      grad_clip_norm=5.0,
    )
  )
  # Schedule of the run.
  config.epochs = 8
  config.steps_per_epoch = 0  # 0 = every whole batch of the training frames
  config.checkpoint_keep = 2
  config.seed = 0
  config.progress = True
  config.log_every = 10  # steps between fetches of the step metrics (NaN check, progress)
  return config
