"""The LFCC-LCNN baseline on the built-in synthetic speech corpus (`lcnn_asvspoof.py` scaled).

    python -m fakenas_jax.train --config=configs/train/lcnn_synthetic_speech.py \
        --workdir=runs/t_lcnn_speech

Batch 32, 20 epochs, bona fide : spoof weighted 3 : 1 as `pcdarts_synthetic_speech.py`, so its
EER and parameter count sit beside the searched network's (`speech_report.md`).
"""

from configs.train import lcnn_asvspoof


def get_config():
  config = lcnn_asvspoof.get_config()
  config.dataset = "synthetic_speech"
  config.batch_size, config.eval_batch_size = 32, 64
  config.loss.class_weights = (3.0, 1.0)
  config.epochs = 20
  return config
