"""UADFV (see `uadfv_dataset_builder.py`)."""

from tfds_builders.uadfv.uadfv_dataset_builder import Builder, UADFVConfig

__all__ = ["Builder", "UADFVConfig"]
