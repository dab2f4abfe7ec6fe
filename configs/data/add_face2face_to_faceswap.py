"""ADD cross-manipulation: train on Face2Face, test on FaceSwap (Table II), FF++ c23.

    python -m fakenas_jax.prepare --dataset=faceforensics/face2face_c23 \
        --manual_dir=~/data/FaceForensics++ --data_dir=~/tensorflow_datasets \
        --override=crop_size=256
    python -m fakenas_jax.prepare --dataset=faceforensics/faceswap_c23 \
        --manual_dir=~/data/FaceForensics++ --data_dir=~/tensorflow_datasets \
        --override=crop_size=256

ADD §IV-C, following MesoNet's setting: trained on Face2Face (with the real videos), tested on
FaceSwap's official test split (which holds the same real test videos); 256 x 256 inputs.
"""

from configs.data import common


def get_config():
  return common.data_config(
    "faceforensics/face2face_c23",
    eval_corpora=("faceforensics/face2face_c23:test", "faceforensics/faceswap_c23:test"),
    crop_size=common.ADD_CROP,
    image_size=256,
  )
