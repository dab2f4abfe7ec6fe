"""A searched PC-DARTS cell trained from scratch for spoofing detection on ASVspoof 2019 LA (LFCC).

    python -m fakenas_jax.train --config=configs/train/pcdarts_asvspoof.py --workdir=runs/t_la \
        --config.model.genotype=runs/s_la/genotype.json

(`pcdarts_synthetic_speech.py`: the same on the built-in synthetic speech corpus, CPU scale.)

The training recipe of the PC-DARTS anti-spoofing code (WORKSPACE.md, Speech): LFCC (60 × T) of 4 s of audio computed in the step, frequency masking as
augmentation; Adam, lr 1e-3 with cosine decay to 1e-4, 100 epochs of batch 128, drop path
growing to 0.2; cross-entropy weighted by class (`speech_pipeline.class_weights()`); the dev
split scored by EER after every epoch (the best checkpoint is the one of lowest `val/eer`).
The network: DARTS' evaluation network from the genotype with the ImageNet-style stem (the stem
of the search), 8 cells, C = 16, no auxiliary head (its 5×5 pooling does not fit the 2 × 8 maps
left at 2/3 of the depth). `genotype` defaults to the published PC-DARTS cell (same DARTS
operations) so the config runs alone; give the searched `genotype.json`.
"""

import ml_collections

from configs.train import default
from fakenas_jax import audio
from fakenas_jax.data import speech_pipeline


def get_config():
  config = default.get_config()
  config.modality = "speech"
  config.dataset = "asvspoof2019_la"
  config.num_samples = audio.FIXED_LENGTH  # 4 s at 16 kHz, cut or repeated
  config.mask = True  # frequency masking of the LFCC (width < 14) in training
  config.augment = "none"  # image augmentations do not apply to speech
  config.validation_split = "dev"
  config.batch_size, config.eval_batch_size = 128, 128
  config.model = ml_collections.ConfigDict(
    dict(
      name="darts_eval",
      genotype="PC_DARTS",
      channels=16,
      layers=8,
      stem="imagenet",
      auxiliary=False,
      drop_path_prob=0.2,
    )
  )
  config.loss.class_weights = speech_pipeline.class_weights()
  config.optimizer.update(
    dict(name="adam", learning_rate=1e-3, learning_rate_min=1e-4, weight_decay=0.0)
  )  # gradient-norm clipping at 5 (default)
  config.epochs = 100
  return config
