"""ADD on FaceForensics++ (Table I per method, Table VI on LQ Deepfakes) and FF++ -> Celeb-DF
(Table III).

    python -m fakenas_jax.prepare --dataset=faceforensics/all_c23 \
        --manual_dir=~/data/FaceForensics++ --data_dir=~/tensorflow_datasets \
        --override=crop_size=256
    python -m fakenas_jax.prepare --dataset=celeb_df/official --manual_dir=~/data/Celeb-DF-v2 \
        --data_dir=~/tensorflow_datasets \
        --override=crop_size=256
    (`--config=configs/data/add_ffpp.py:deepfakes_c23` for one method; `:deepfakes_c40` is
    Table VI)

ADD §IV-A: per method 720 / 140 / 140 videos (official split), HQ (c23) unless stated, face
regions resized to 256 x 256; the cross-dataset test is Celeb-DF's official test list.
"""

from configs.data import common

METHODS = ("all", "deepfakes", "face2face", "faceswap", "neuraltextures")


def get_config(variant: str = "all_c23"):
  method, _, compression = variant.rpartition("_")
  if method not in METHODS or compression not in ("c23", "c40"):
    raise ValueError(
      f"unknown variant {variant!r}; use <method>_<c23|c40> with method one of {', '.join(METHODS)}"
    )
  return common.data_config(
    f"faceforensics/{variant}",
    eval_corpora=(f"faceforensics/{variant}:test", "celeb_df/official:test"),
    crop_size=common.ADD_CROP,
    image_size=256,
  )
