"""Evaluates a speech countermeasure run on its corpus's `eval` split: CM scores, EER, min t-DCF.

    python -m fakenas_jax.evaluate --config=configs/eval/speech.py --workdir=runs/t_speech
    python -m fakenas_jax.evaluate --config=configs/eval/speech.py --workdir=runs/t_la \
        --config.asv_scores=<LA>/ASVspoof2019_LA_asv_scores/ASVspoof2019.LA.asv.eval.gi.trl.scores.txt

Writes `<workdir>/eval/cm_scores_eval.txt` (`utterance attack key score`, score = bona fide
logit), `speech_report.json` and `speech_report.md` (EER, per-attack EER, parameter count, and
min t-DCF when the organisers' ASV scores of the same partition are given).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.corpora = ()  # empty: the run's own corpus; else one NAME[/CONFIG][:SPLIT]
  config.split = "eval"
  config.data_dir = ""  # empty: the training run's data_dir
  config.corpus_overrides = ml_collections.ConfigDict()  # empty: the run's own, for its corpus
  config.checkpoint = "best"  # 'best' (lowest validation EER) | 'latest' | a step number
  config.batch_size = 64
  config.asv_scores = ""  # the organisers' ASV score file: min t-DCF (EER alone without it)
  config.output_dir = ""  # empty: <workdir>/eval
  config.data_threads = 2
  config.progress = True
  return config
