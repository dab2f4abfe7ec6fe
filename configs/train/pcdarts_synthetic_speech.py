"""A searched cell trained on the built-in synthetic speech corpus (`pcdarts_asvspoof.py` scaled).

    python -m fakenas_jax.train --config=configs/train/pcdarts_synthetic_speech.py \
        --workdir=runs/t_speech --config.model.genotype=runs/s_speech/genotype.json

Batch 32, 20 epochs; bona fide : spoof weighted 3 : 1, the inverse of this corpus's class ratio
(4 bona fide and 12 spoofed utterances a speaker), as the reference's 9 : 1 is for ASVspoof's;
DARTS' CIFAR stem (one 3×3 conv, full resolution) instead of the recipe's strided ImageNet stem:
on this corpus's 768 training utterances the ImageNet stem, which leaves 8 of the LFCC's 60 rows
to the cells, fits the training speakers and stays at 23–29 % dev EER, the CIFAR stem reaches
0.3 % (WORKSPACE.md, Calibration of the synthetic speech corpus); everything else as the ASVspoof
recipe (4 s of audio, LFCC with masking, Adam 1e-3 → 1e-4, drop path to 0.2, EER on `dev`).
"""

from configs.train import pcdarts_asvspoof


def get_config():
  config = pcdarts_asvspoof.get_config()
  config.dataset = "synthetic_speech"
  config.batch_size, config.eval_batch_size = 32, 64
  config.loss.class_weights = (3.0, 1.0)  # speech_pipeline.balanced_class_weights of the corpus
  config.epochs = 20
  config.model.stem = "cifar"
  return config
