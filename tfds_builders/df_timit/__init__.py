"""DeepfakeTIMIT with its VidTIMIT real videos (see `df_timit_dataset_builder.py`)."""

from tfds_builders.df_timit.df_timit_dataset_builder import Builder, DFTimitConfig

__all__ = ["Builder", "DFTimitConfig"]
