"""PC-DARTS search for spoofing detection on ASVspoof 2019 LA, on LFCC features.

    python -m fakenas_jax.search --config=configs/search/pcdarts_asvspoof.py --workdir=runs/s_la

(`pcdarts_synthetic_speech.py`: the same on the built-in synthetic speech corpus, CPU scale.)

The recipe of the PC-DARTS anti-spoofing code (WORKSPACE.md, Speech): LFCC (60 × T, T = 251 for 4 s) with frequency masking, the ImageNet-style
stem, DARTS operations (`space` or `ops` may name any other of the registry), partial channels
k = 2, 4 layers (N R R N, DARTS' reduction positions), C = 16; 50 epochs of batch 64, 10 of them
warm-up (weights only); weights Adam, lr 1e-2 with cosine decay to 1e-3, weight decay 3e-4;
architecture Adam 6e-4, weight decay 1e-3; cross-entropy weighted by class
(`speech_pipeline.class_weights()`); the training protocol halved (weights / architecture), the
dev set held out. Plain PC-DARTS: softmax(α) with edge normalisation, no estimation indicator, no
pruning (`indicator`, `prune_every` switch FD-NAS' on).
"""

from configs.search import default
from fakenas_jax import audio
from fakenas_jax.data import speech_pipeline


def get_config():
  config = default.get_config()
  config.modality = "speech"
  config.dataset = "asvspoof2019_la"
  config.num_samples = audio.FIXED_LENGTH  # 4 s at 16 kHz, cut or repeated
  config.mask = True  # frequency masking of the LFCC (width < 14) in every step
  config.held_out_split = "dev"
  config.frontend = "lfcc"  # or 'sinc': the raw waveform (Raw PC-DARTS; default.py's `sinc`)
  config.stem = "imagenet"
  config.batch_size = 64
  config.space = "darts"
  config.layout = "NRRN"
  config.channels = 16
  config.k = 2
  config.class_weights = speech_pipeline.class_weights()
  config.epochs = 50
  config.warmup_epochs = 10
  config.indicator = False
  config.prune_every = 0
  config.optimizer.update(
    dict(
      weights="adam",
      learning_rate=1e-2,
      learning_rate_min=1e-3,
      weight_decay=3e-4,
      arch_learning_rate=6e-4,
      arch_weight_decay=1e-3,
    )
  )
  return config
