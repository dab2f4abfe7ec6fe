"""The built-in synthetic spoofing corpus (see `synthetic_speech_dataset_builder.py`)."""

from tfds_builders.synthetic_speech.synthetic_speech_dataset_builder import (
  Builder,
  SyntheticSpeechConfig,
)

__all__ = ["Builder", "SyntheticSpeechConfig"]
