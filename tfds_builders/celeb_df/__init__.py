"""Celeb-DF v2 (see `celeb_df_dataset_builder.py`)."""

from tfds_builders.celeb_df.celeb_df_dataset_builder import Builder, CelebDFConfig

__all__ = ["Builder", "CelebDFConfig"]
