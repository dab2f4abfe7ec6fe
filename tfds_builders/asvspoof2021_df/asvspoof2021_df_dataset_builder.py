"""asvspoof2021_df: the ASVspoof 2021 speech-deepfake evaluation set with its keys and metadata.

ASVspoof 2021 DF evaluates systems trained on ASVspoof 2019 LA on compressed speech (media
codecs) from three source corpora; its key file `keys/DF/CM/trial_metadata.txt` has 13 columns,

    SPEAKER TRIAL CODEC SOURCE ATTACK KEY TRIM SUBSET VOCODER TASK TEAM GENDER_PAIR LANGUAGE
    e.g. LA_0043 DF_E_2000026 mp3m4a asvspoof A09 spoof notrim eval traditional_vocoder - - - -

(SOURCE asvspoof / vcc2018 / vcc2020; the last four are '-' where unused). One split, `eval`;
`codec`, `source`, `vocoder`, `trim` and `subset` are kept as text features for per-condition
results.

    python -m fakenas_jax.prepare --dataset=asvspoof2021_df --manual_dir=~/data/ASVspoof2021_DF
"""

import tensorflow_datasets as tfds

from tfds_builders import asvspoof_protocol

LAYOUT = asvspoof_protocol.ProtocolLayout(
  name="ASVspoof 2021 DF trial_metadata.txt",
  columns=(
    "SPEAKER",
    "TRIAL",
    "CODEC",
    "SOURCE",
    "ATTACK",
    "KEY",
    "TRIM",
    "SUBSET",
    "VOCODER",
    "TASK",
    "TEAM",
    "GENDER_PAIR",
    "LANGUAGE",
  ),
  speaker="SPEAKER",
  utterance="TRIAL",
  attack="ATTACK",
  key="KEY",
  metadata=("CODEC", "SOURCE", "VOCODER", "TRIM", "SUBSET"),
)
SPLIT_FILES = {"eval": ("keys/DF/CM/trial_metadata.txt", "ASVspoof2021_DF_eval/flac")}

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download the four parts ASVspoof2021_DF_eval_part0{0,1,2,3}.tar.gz
(https://zenodo.org/records/4835108) and the keys DF-keys-full.tar.gz
(https://www.asvspoof.org/index2021.html), extract all into one folder:

  <manual_dir>/ASVspoof2021_DF_eval/flac/DF_E_2000026.flac ...
  <manual_dir>/keys/DF/CM/trial_metadata.txt
"""


class Builder(asvspoof_protocol.ProtocolBuilder):
  """ASVspoof 2021 DF evaluation set (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  LAYOUT = LAYOUT
  SPLIT_FILES = SPLIT_FILES
