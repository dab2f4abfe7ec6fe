"""PC-DARTS speech search (`pcdarts_asvspoof.py`) on the built-in synthetic speech corpus.

    python -m fakenas_jax.search --config=configs/search/pcdarts_synthetic_speech.py \
        --workdir=runs/s_speech

The corpus (48 / 12 / 24 speakers, 768 training utterances of 1–4 s, attacks A01–A06 in train and
dev, A07–A12 in eval) is built on first use. Batch 32, 6 epochs with 2 of warm-up; bona fide :
spoof weighted 3 : 1, the inverse of this corpus's class ratio (4 bona fide and 12 spoofed
utterances a speaker), as the reference's 9 : 1 is for ASVspoof's; DARTS' CIFAR stem at full
resolution, as the trained network's (`configs/train/pcdarts_synthetic_speech.py` says why);
everything else as the ASVspoof recipe (4 s of audio, LFCC with masking, DARTS operations,
k = 2, C = 16).
"""

from configs.search import pcdarts_asvspoof


def get_config():
  config = pcdarts_asvspoof.get_config()
  config.dataset = "synthetic_speech"
  config.batch_size = 32
  config.epochs, config.warmup_epochs = 6, 2
  config.class_weights = (3.0, 1.0)  # speech_pipeline.balanced_class_weights of the corpus
  config.stem = "cifar"
  return config
