"""FD-NAS cross-dataset search (Alg. 2) over FF++, Celeb-DF, WildDeepfake and DFDC-preview.

    python -m fakenas_jax.prepare --dataset=faceforensics/all_c23 \
        --manual_dir=~/data/FaceForensics++ --data_dir=~/tensorflow_datasets
    (likewise celeb_df/ratio_811, wild_deepfake/ratio_811, dfdc_preview/ratio_811)

FD-NAS §4.1: "cross-dataset search adopts four datasets alternately", 2,000 samples of every
corpus an epoch, inputs resized to 32 x 32 during the search. `cross_dataset.datasets` is the
field of configs/search/default.py that switches the cross-dataset search on.
"""

import ml_collections

from configs.data import common

SEARCH_CORPORA = (
  "faceforensics/all_c23",
  "celeb_df/ratio_811",
  "wild_deepfake/ratio_811",
  "dfdc_preview/ratio_811",
)


def get_config():
  config = common.data_config(
    SEARCH_CORPORA[0],
    eval_corpora=tuple(f"{c}:test" for c in SEARCH_CORPORA[1:]),
    crop_size=common.FDNAS_CROP,
    image_size=32,
  )
  config.cross_dataset = ml_collections.ConfigDict(dict(datasets=SEARCH_CORPORA))
  return config
