"""asvspoof5: the ASVspoof 5 database (2024), track 1 (stand-alone countermeasures).

Its protocol files `ASVspoof5_protocols/ASVspoof5.{train,dev.track_1,eval.track_1}.tsv` are
whitespace-separated with 10 columns,

    SPEAKER_ID FLAC_FILE_NAME SPEAKER_GENDER CODEC CODEC_Q CODEC_SEED ATTACK_TAG ATTACK_LABEL KEY TMP
    e.g. T_4850 T_0000000000 F - - - AC3 A05 spoof -

(ATTACK_LABEL A01–A32 or 'bonafide'; CODEC C01–C11 or '-' in eval). Splits `train`, `dev` and
`eval` (speaker-disjoint; the attacks of eval unseen in training); `attack_id` is the attack
label, and `speaker_gender`, `codec`, `codec_q` and `attack_tag` are kept as text features.
ASVspoof 5 ranks countermeasures by minDCF (`metrics.asvspoof.min_dcf`), and takes score files
in its own format (`metrics.score_files`, 'asvspoof5').

    python -m fakenas_jax.prepare --dataset=asvspoof5 --manual_dir=~/data/ASVspoof5
"""

import tensorflow_datasets as tfds

from tfds_builders import asvspoof_protocol

LAYOUT = asvspoof_protocol.ProtocolLayout(
  name="ASVspoof 5",
  columns=(
    "SPEAKER_ID",
    "FLAC_FILE_NAME",
    "SPEAKER_GENDER",
    "CODEC",
    "CODEC_Q",
    "CODEC_SEED",
    "ATTACK_TAG",
    "ATTACK_LABEL",
    "KEY",
    "TMP",
  ),
  speaker="SPEAKER_ID",
  utterance="FLAC_FILE_NAME",
  attack="ATTACK_LABEL",
  key="KEY",
  metadata=("SPEAKER_GENDER", "CODEC", "CODEC_Q", "ATTACK_TAG"),
)
PROTOCOL_DIR = "ASVspoof5_protocols"
SPLIT_FILES = {
  "train": (f"{PROTOCOL_DIR}/ASVspoof5.train.tsv", "flac_T"),
  "dev": (f"{PROTOCOL_DIR}/ASVspoof5.dev.track_1.tsv", "flac_D"),
  "eval": (f"{PROTOCOL_DIR}/ASVspoof5.eval.track_1.tsv", "flac_E_eval"),
}

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Download the ASVspoof 5 database (https://zenodo.org/records/14498691): flac_T_*.tar,
flac_D_*.tar, flac_E_*.tar and ASVspoof5_protocols.tar.gz; extract all into one folder:

  <manual_dir>/flac_T/T_0000000000.flac ...
  <manual_dir>/flac_D/D_0000000001.flac ...
  <manual_dir>/flac_E_eval/E_0000000001.flac ...
  <manual_dir>/ASVspoof5_protocols/ASVspoof5.train.tsv
  <manual_dir>/ASVspoof5_protocols/ASVspoof5.dev.track_1.tsv
  <manual_dir>/ASVspoof5_protocols/ASVspoof5.eval.track_1.tsv
"""


class Builder(asvspoof_protocol.ProtocolBuilder):
  """ASVspoof 5, track 1 (see the module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  LAYOUT = LAYOUT
  SPLIT_FILES = SPLIT_FILES
