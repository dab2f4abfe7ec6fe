"""ADD on Celeb-DF (Table IV): trained on the videos outside the official test list.

    python -m fakenas_jax.prepare --dataset=celeb_df/official --manual_dir=~/data/Celeb-DF-v2 \
        --data_dir=~/tensorflow_datasets --override=crop_size=256

ADD §IV-B: "Celeb-DF dataset provides a validation list. We utilize the samples not on the
validation list to train"; the list (`List_of_testing_videos.txt`, 1 = real) is the test split,
the rest is split 8:2 by identity into training and validation; 256 x 256 inputs.
"""

from configs.data import common


def get_config():
  return common.data_config(
    "celeb_df/official",
    eval_corpora=("celeb_df/official:test",),
    crop_size=common.ADD_CROP,
    image_size=256,
  )
