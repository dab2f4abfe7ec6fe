"""FD-NAS on FaceForensics++: in-dataset (Table 2, FF++ column) and cross-dataset (Tables 2–3).

    python -m fakenas_jax.prepare --dataset=faceforensics/all_c23 \
        --manual_dir=~/data/FaceForensics++ --data_dir=~/tensorflow_datasets
    python -m fakenas_jax.prepare --dataset=celeb_df/ratio_811 --manual_dir=~/data/Celeb-DF-v2 \
        --data_dir=~/tensorflow_datasets
    (likewise wild_deepfake/ratio_811 and dfdc_preview/ratio_811; `common.prepare_commands`
    lists them all; `--config=configs/data/fdnas_ffpp.py:c40` is the LQ variant)

FD-NAS §4.1: FF++'s four methods (DF, F2F, FS, NT) with the official 720/140/140 split, 20
frames per training video and 10 per validation/test video, 64 x 64 inputs; trained on FF++,
tested on its test split and on the 8:1:1 test splits of Celeb-DF, WildDeepfake and DFDC-P.
"""

from configs.data import common

COMPRESSIONS = ("c23", "c40")


def get_config(compression: str = "c23"):
  if compression not in COMPRESSIONS:
    raise ValueError(f"unknown variant {compression!r}; use one of {', '.join(COMPRESSIONS)}")
  return common.data_config(
    f"faceforensics/all_{compression}",
    eval_corpora=(
      f"faceforensics/all_{compression}:test",
      "celeb_df/ratio_811:test",
      "wild_deepfake/ratio_811:test",
      "dfdc_preview/ratio_811:test",
    ),
    crop_size=common.FDNAS_CROP,
    image_size=64,
  )
