"""The LFCC-LCNN baseline countermeasure (ASVspoof 2021 baselines) trained on ASVspoof 2019 LA.

    python -m fakenas_jax.train --config=configs/train/lcnn_asvspoof.py --workdir=runs/t_lcnn_la
    python -m fakenas_jax.evaluate --config=configs/eval/speech.py --workdir=runs/t_lcnn_la

(`lcnn_synthetic_speech.py`: the same on the built-in synthetic speech corpus, CPU scale.)

The baseline's recipe where this project's speech path allows it (models/lcnn.py): LFCC 60 × T
of 4 s of audio (the baseline scores whole utterances) without masking, one output trained by
binary cross-entropy (class 1 = spoof), Adam lr 3e-4 with a cosine decay to 3e-5 (the baseline
halves it every 10 epochs), batch 64, 100 epochs, the best checkpoint by dev EER. Class weights
as the searched networks' (`pcdarts_asvspoof.py`), so both see the same loss.
"""

import ml_collections

from configs.train import pcdarts_asvspoof


def get_config():
  config = pcdarts_asvspoof.get_config()
  config.mask = False
  config.batch_size, config.eval_batch_size = 64, 128
  config.model = ml_collections.ConfigDict(dict(name="lcnn", num_classes=1, dropout_rate=0.7))
  config.optimizer.update(
    dict(name="adam", learning_rate=3e-4, learning_rate_min=3e-5, weight_decay=0.0)
  )
  config.epochs = 100
  return config
