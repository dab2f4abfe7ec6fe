"""Robustness (BiG-Arts §5, Fig. 9, Table 8) and partial-face sets (Table 7) of a training run.

    python -m fakenas_jax.robustness --workdir=runs/bs
    python -m fakenas_jax.robustness --workdir=runs/bs --config.transforms=jpeg,video \
        --config.corpora=synthetic_faces/celeb,synthetic_faces/studio:validation

Strengths are the paper's ranges: JPEG quality 60–100, blur σ 0–0.5 (3×3 kernel), scale
0.1–1, H.264 CRF 5–30; the noise σ is in grey levels (0–255 scale) and runs past the paper's
0–0.5 to where it matters. Results go to <workdir>/robustness/ (or --config.output_dir).
"""

import ml_collections

from configs.eval import default


def get_config():
  config = default.get_config()
  del config["threshold"], config["samples_per_class"]
  config.transforms = "jpeg,blur,noise,resize,video"
  config.strengths = ml_collections.ConfigDict(
    dict(
      jpeg=(100, 90, 80, 70, 60),
      blur=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
      noise=(0.0, 0.5, 2.0, 5.0, 10.0, 20.0),
      resize=(1.0, 0.8, 0.6, 0.4, 0.2, 0.1),
      video=(5, 10, 15, 20, 25, 30),
    )
  )
  config.video_preset = "medium"  # libx264 preset of the re-encoding
  config.seed = 0  # seeds the additive noise (per frame)
  config.partial = True  # partial-face sets, for corpora whose fakes have aligned real frames
  config.partial_regions = "eyes,nose,mouth,lower,upper,left,right"
  config.output_dir = ""  # empty: <workdir>/robustness
  return config
