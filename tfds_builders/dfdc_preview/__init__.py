"""The DFDC preview corpus (see `dfdc_preview_dataset_builder.py`)."""

from tfds_builders.dfdc_preview.dfdc_preview_dataset_builder import Builder, DFDCPreviewConfig

__all__ = ["Builder", "DFDCPreviewConfig"]
