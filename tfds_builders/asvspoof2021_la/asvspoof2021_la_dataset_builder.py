"""asvspoof2021_la: the ASVspoof 2021 logical-access evaluation set with its keys and metadata.

ASVspoof 2021 LA evaluates systems trained on ASVspoof 2019 LA (`asvspoof2019_la`) on speech
sent through telephony channels: its key file `keys/LA/CM/trial_metadata.txt` has 8 columns,

    SPEAKER TRIAL CODEC TRANSMISSION ATTACK KEY TRIM SUBSET
    e.g. LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval

(ATTACK A07–A19 or '-'/'bonafide'; SUBSET progress / eval / hidden_track). One split, `eval`;
`codec`, `transmission`, `trim` and `subset` are kept as text features, so a 2019-trained run
is scored per condition (`python -m fakenas_jax.evaluate --config.corpora=asvspoof2021_la`).

    python -m fakenas_jax.prepare --dataset=asvspoof2021_la --manual_dir=~/data/ASVspoof2021_LA
"""

import tensorflow_datasets as tfds

from tfds_builders import asvspoof_protocol

LAYOUT = asvspoof_protocol.ProtocolLayout(
  name="ASVspoof 2021 LA trial_metadata.txt",
  columns=("SPEAKER", "TRIAL", "CODEC", "TRANSMISSION", "ATTACK", "KEY", "TRIM", "SUBSET"),
  speaker="SPEAKER",
  utterance="TRIAL",
  attack="ATTACK",
  key="KEY",
  metadata=("CODEC", "TRANSMISSION", "TRIM", "SUBSET"),
)
SPLIT_FILES = {"eval": ("keys/LA/CM/trial_metadata.txt", "ASVspoof2021_LA_eval/flac")}

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download ASVspoof2021_LA_eval.tar.gz (https://zenodo.org/records/4837263) and the keys
LA-keys-full.tar.gz (https://www.asvspoof.org/index2021.html), extract both into one folder:

  <manual_dir>/ASVspoof2021_LA_eval/flac/LA_E_9332881.flac ...
  <manual_dir>/keys/LA/CM/trial_metadata.txt
"""


class Builder(asvspoof_protocol.ProtocolBuilder):
  """ASVspoof 2021 LA evaluation set (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  LAYOUT = LAYOUT
  SPLIT_FILES = SPLIT_FILES
