"""BiG-Arts: trained on Celeb-DF, tested on Celeb-DF and six other corpora (Tables 1, 2, 4) and
on WildDeepfake (Table 3).

    python -m fakenas_jax.prepare --dataset=celeb_df/official --manual_dir=~/data/Celeb-DF-v2 \
        --data_dir=~/tensorflow_datasets \
        --override=crop_size=256 --override=frames_per_video=32,32,32
    (and uadfv, df_timit/lq, df_timit/hq, faceforensics/deepfakes_c23, dfd/c23,
    dfdc_preview/official, wild_deepfake/official with the same overrides;
    `common.prepare_commands(get_config())` lists them)

BiG-Arts §4.1: Celeb-DF's 518 test videos are the official list; its other 6,011 videos are
split 8:2 into training and validation. Tested on the test sets of Celeb-DF, FF++ (Deepfakes
and its real videos, HQ) and WildDeepfake, and on the entire UADFV, DF-TIMIT-LQ/HQ, DFD and
DFDC-P (':all'). Inputs 256 x 256. The paper tests one frame in ten of every video; here up to
32 evenly spaced frames of every video are stored, in every split (so a whole corpus is sampled
alike): about one in ten of DF-TIMIT's ~120-frame clips, fewer of longer videos.
"""

from configs.data import common

TEST_CORPORA = (
  "uadfv/ratio_811:all",
  "df_timit/lq:all",
  "df_timit/hq:all",
  "faceforensics/deepfakes_c23:test",
  "dfd/c23:all",
  "dfdc_preview/official:all",
  "celeb_df/official:test",
  "wild_deepfake/official:test",
)


def get_config():
  return common.data_config(
    "celeb_df/official",
    eval_corpora=TEST_CORPORA,
    crop_size=common.BIGARTS_CROP,
    image_size=256,
    frames_per_video=(32, 32, 32),
  )
