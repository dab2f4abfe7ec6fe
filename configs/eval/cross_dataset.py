"""Cross-dataset evaluation on the four synthetic corpora (FD-NAS Tables 2–3, BiG-Arts Table 4).

    python -m fakenas_jax.evaluate --config=configs/eval/cross_dataset.py \
        --workdir=runs/t_studio,runs/t_celeb,runs/t_wild,runs/t_graphics

Every run is tested on the test split of studio (FF++-like), celeb (Celeb-DF-like), wild
(WildDeepfake-like) and graphics (DFDC-like); the training corpus × test corpus frame-AUC matrix
is written as `eval/cross_dataset.md` and `eval/cross_dataset_auc.png`. Corpora not built yet
are built first (no download).
"""

from configs.eval import default

SYNTHETIC_CORPORA = (
  "synthetic_faces/studio",
  "synthetic_faces/celeb",
  "synthetic_faces/wild",
  "synthetic_faces/graphics",
)


def get_config():
  config = default.get_config()
  config.corpora = SYNTHETIC_CORPORA
  config.output_dir = ""  # empty: <first workdir>/eval
  return config
