"""A searched cell trained on the raw waveform of the synthetic speech corpus (Raw PC-DARTS).

    python -m fakenas_jax.search --config=configs/search/pcdarts_synthetic_speech.py \
        --workdir=runs/s_sinc --config.frontend=sinc
    python -m fakenas_jax.train --config=configs/train/pcdarts_sinc_synthetic_speech.py \
        --workdir=runs/t_sinc --config.model.genotype=runs/s_sinc/genotype.json

`pcdarts_synthetic_speech.py` with `model.frontend = 'sinc'`: the network's first layer is the
sinc-filter front end (models/sinc_frontend.py; mel initialisation, learnable band edges;
`--config.model.sinc.scale=inverse_mel` or `linear`, `--config.model.sinc.learnable=False`),
the same sizes as the search's (`configs/search/pcdarts_asvspoof.py`: 64 filters × 256 frames
for 4 s). Frequency masking applies to the LFCC only.
"""

from configs.search import pcdarts_asvspoof as search_asvspoof
from configs.train import pcdarts_synthetic_speech


def get_config():
  config = pcdarts_synthetic_speech.get_config()
  config.mask = False
  config.model.frontend = "sinc"
  config.model.sinc = dict(search_asvspoof.get_config().sinc.to_dict(), learnable=True)
  return config
