"""Evaluates a training run on its own corpus's test split, from its best checkpoint.

    python -m fakenas_jax.evaluate --config=configs/eval/default.py --workdir=runs/train

Several training workdirs (comma-separated) and test corpora give a cross-dataset matrix:
    python -m fakenas_jax.evaluate --workdir=runs/t_studio,runs/t_celeb \
        --config.corpora=synthetic_faces/studio,synthetic_faces/celeb

A corpus is NAME[/CONFIG][:SPLIT] (`synthetic_faces/wild:validation`); without a split,
`split` is read. Frame- and video-level AUC, ACC, EER, AP, precision, recall and F1 go to
`<workdir>/eval/eval_report.{json,md}` with ROC curves and sample predictions.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.corpora = ()  # empty: each run's own training corpus
  config.split = "test"
  config.data_dir = ""  # empty: the training run's data_dir
  config.corpus_overrides = ml_collections.ConfigDict()  # empty: the run's own, for its corpus
  config.checkpoint = "best"  # 'best' (validation AUC) | 'latest' | a step number
  config.batch_size = 64
  config.frames_per_video = 10  # evenly spaced test frames a video (FD-NAS: 10); 0 = all
  config.threshold = 0.5  # a frame or video is called fake when P(fake) > threshold
  config.samples_per_class = 4  # real and fake frames shown in samples_*.png (0 = none)
  config.output_dir = ""  # empty: <first workdir>/eval
  config.data_threads = 2
  config.progress = True
  config.asv_scores = ""  # speech runs: the organisers' ASV score file, for min t-DCF
  return config
