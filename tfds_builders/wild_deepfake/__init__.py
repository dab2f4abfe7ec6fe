"""WildDeepfake (see `wild_deepfake_dataset_builder.py`)."""

from tfds_builders.wild_deepfake.wild_deepfake_dataset_builder import Builder, WildDeepfakeConfig

__all__ = ["Builder", "WildDeepfakeConfig"]
