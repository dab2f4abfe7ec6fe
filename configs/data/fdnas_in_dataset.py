"""FD-NAS in-dataset on Celeb-DF, WildDeepfake or DFDC-preview (Table 1), 8:1:1 splits.

    python -m fakenas_jax.prepare --dataset=celeb_df/ratio_811 --manual_dir=~/data/Celeb-DF-v2 \
        --data_dir=~/tensorflow_datasets
    (`--config=configs/data/fdnas_in_dataset.py:wild_deepfake` or `:dfdc_preview` for the others)

FD-NAS §4.1: "for the other three datasets, we divided them into the training set, validation
set and test set according to the ratio of 8:1:1" — identity-disjoint here (by archive for
WildDeepfake); 20 / 10 / 10 frames per video; 64 x 64 inputs. Also the ablations' corpus
(trained on Celeb-DF, §4.3).
"""

from configs.data import common

CORPORA = ("celeb_df", "wild_deepfake", "dfdc_preview")


def get_config(corpus: str = "celeb_df"):
  if corpus not in CORPORA:
    raise ValueError(f"unknown variant {corpus!r}; use one of {', '.join(CORPORA)}")
  return common.data_config(
    f"{corpus}/ratio_811",
    eval_corpora=(f"{corpus}/ratio_811:test",),
    crop_size=common.FDNAS_CROP,
    image_size=64,
  )
